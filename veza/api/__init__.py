"""REST handlers, one module per domain; each exposes `router`.

`ROUTERS` is the one list the app factory mounts; a new domain adds its module here.
"""

from veza.api import (
    auth, chat, conversations, follows, health, notifications, sessions, social, tags, track_engagement,
    tracks, uploads, users,
)

ROUTERS = [
    health.router,
    auth.router,
    sessions.router,
    users.router,
    chat.router,
    conversations.router,
    tracks.router,
    track_engagement.router,
    uploads.router,
    social.router,
    follows.router,
    tags.router,
    notifications.router,
]
