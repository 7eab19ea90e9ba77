"""REST handlers, one module per domain; each exposes `router`.

`ROUTERS` is the one list the app factory mounts; a new domain adds its module here.
"""

from veza.api import (
    announcements, auth, chat, conversations, developer, health, live, live_hooks, live_webrtc,
    moderation, notifications, platform_admin, sessions, social, system, tags, track_engagement,
    tracks, uploads, users,
)
from veza.api import admin_users, inventory
from veza.api import cloud, cloud_folders, cloud_shares, cloud_versions
from veza.api import live_shop, marketplace, orders, webhooks
from veza.api import admin_transfers, sandbox_connect, sell, stripe_webhooks

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
    tags.router,
    notifications.router,
    developer.router,
    moderation.router,
    announcements.router,
    platform_admin.router,
    system.router,
    live.router,
    live_hooks.router,
    live_webrtc.router,
    inventory.router,
    admin_users.router,
    cloud.router,
    cloud_folders.router,
    cloud_versions.router,
    cloud_shares.router,
    marketplace.router,
    orders.router,
    webhooks.router,
    live_shop.router,
    sell.router,
    sandbox_connect.router,
    admin_transfers.router,
    stripe_webhooks.router,
]
