"""The WebSocket side of the app: gateway, connections, and each domain's commands.

`COMMAND_SETS` is the one list the gateway dispatches from; a domain adds its module's
`commands` here (like `veza.api.ROUTERS`).
"""

from veza.ws import chat, core, feeds, live

COMMAND_SETS = [
    core.commands,
    chat.commands,
    feeds.commands,
    live.commands,
]
