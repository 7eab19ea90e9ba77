"""Which route each known feature flag closes (decided from method and path template)."""

from __future__ import annotations

import pytest

from veza.api.platform_admin import _flags
from veza.controls.features import KNOWN, feature_of
from veza.controls.state import PlatformState

CASES = [
    ("POST", "/api/v1/auth/register", False, "registrations"),
    ("GET", "/api/v1/auth/register", False, None),
    ("POST", "/api/v1/auth/login", False, None),
    ("POST", "/api/v1/tracks", True, "uploads"),
    ("POST", "/api/v1/cloud/files", True, "uploads"),  # any multipart route, wherever it lands
    ("GET", "/api/v1/tracks", False, None),
    ("GET", "/api/v1/upload/limits", False, None),
    ("GET", "/api/v1/marketplace", False, "marketplace"),
    ("POST", "/api/v1/marketplace/orders", False, "marketplace"),
    ("GET", "/api/v1/marketplace/products/{id}", False, "marketplace"),
    ("GET", "/api/v1/sell/payouts", False, "marketplace"),
    ("GET", "/api/v1/marketplaces", False, None),  # a prefix is a path segment, not a string
    ("POST", "/api/v1/webhooks/hyperswitch", False, None),
    ("POST", "/webhooks/stripe", False, None),
    ("GET", "/api/v1/live/streams", False, "live"),
    ("GET", "/api/v1/live/streams/me/key", False, "live"),
    ("HEAD", "/api/v1/live/streams/{id}", False, "live"),
    ("POST", "/api/v1/live/hooks/rtmp/publish", False, "live"),
    ("POST", "/api/v1/live/hooks/rtmp/update", False, "live"),
    ("POST", "/api/v1/live/hooks/rtmp/publish_done", False, None),  # what ends a stream stays open
    ("POST", "/api/v1/live/hooks/mediamtx/unpublish", False, None),
    ("DELETE", "/api/v1/live/whip/{session}", False, None),
    ("POST", "/api/v1/live/whip", False, "live"),
    ("GET", "/api/v1/chat/token", False, None),  # the socket also carries notifications and live
    ("GET", "/api/v1/conversations", False, "chat"),
    ("POST", "/api/v1/conversations/{id}/messages", False, "chat"),
    ("GET", "/api/v1/ws", False, None),
    ("GET", "/ws", False, None),
    ("GET", "/api/v1/social/feed", False, None),
    ("GET", "/api/v1/admin/feature-flags", False, None),
]


@pytest.mark.parametrize(("method", "path", "upload", "expected"), CASES)
def test_feature_of(method: str, path: str, upload: bool, expected: str | None) -> None:
    assert feature_of(method, path, upload=upload) == expected


def test_known_flags_are_listed_on_before_they_are_set() -> None:
    listed = _flags(PlatformState())
    assert [f.name for f in listed] == sorted(["registrations", "uploads", "marketplace", "live", "chat"])
    assert all(f.enabled and f.updated_at is None and f.description == KNOWN[f.name].description for f in listed)
