"""REST handlers, one module per domain; each exposes `router`.

`ROUTERS` is the one list the app factory mounts; a new domain adds its module here.
"""

from veza.api import (
    announcements, auth, developer, health, moderation, platform_admin, privacy, sessions, system, users,
)

ROUTERS = [
    health.router,
    auth.router,
    sessions.router,
    users.router,
    developer.router,
    privacy.router,
    moderation.router,
    announcements.router,
    platform_admin.router,
    system.router,
]
