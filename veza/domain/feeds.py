"""Which feeds a socket may follow (`subscribe {feed}`); what a feed carries is its actor's.

A feed is known by name; a public one may be followed by anyone, anonymous sockets
included, the others by signed-in users only. Other domains add their feeds to FEEDS.
"""

from __future__ import annotations

from veza.domain.errors import NotFound, Unauthorized

# Feed name -> whether an anonymous socket may follow it.
FEEDS: dict[str, bool] = {"global": True}


def check_followable(feed: str, signed_in: bool) -> None:
    public = FEEDS.get(feed)
    if public is None:
        raise NotFound(f"No feed named {feed!r}")
    if not public and not signed_in:
        raise Unauthorized("sign in to follow this feed")
