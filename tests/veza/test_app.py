"""The app factory: every resource is in `veza.app.RESOURCES`, in that order, and only there."""

from __future__ import annotations

from veza.app import RESOURCES, create_app
from veza.config import Settings


def test_the_cleanup_contexts_are_exactly_the_resources_list(settings: Settings) -> None:
    app = create_app(settings)
    assert list(app.cleanup_ctx) == list(RESOURCES)


def test_the_hub_comes_before_the_services_that_hold_it_and_after_the_actors() -> None:
    names = [ctx.__name__ for ctx in RESOURCES]
    hub = names.index("gateway_ctx")
    assert names.index("actor_system_ctx") < hub
    for holder in ("feeds_ctx", "rooms_ctx", "announcements_ctx", "live_ctx", "cluster_rooms_ctx"):
        assert names.index(holder) > hub
    assert names.index("_database") < names.index("actor_system_ctx") < names.index("controls_ctx")
    assert names[-1] == "frozen_startup_heap"
