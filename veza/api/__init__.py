"""REST handlers, one module per domain; each exposes `router`.

`ROUTERS` is the one list the app factory mounts; a new domain adds its module here.
"""

from veza.api import auth, chat, conversations, health, sessions, users

ROUTERS = [
    health.router,
    auth.router,
    sessions.router,
    users.router,
    chat.router,
    conversations.router,
]
