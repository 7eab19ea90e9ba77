"""Lists sized by the crowd are capped on the wire, with the total and a `truncated` flag."""

from __future__ import annotations

import json
import uuid

from protocols import frames as f


def _joined(present: int, last_read_seq: int = 0) -> dict:
    people = [f.PresenceUser(id=uuid.uuid4(), username=f"u{i}") for i in range(present)]
    return json.loads(f.encode(f.Joined(room=uuid.uuid4(), seq=3, recovered=True, messages=[], presence=people,
                                        last_read_seq=last_read_seq)))


def test_joined_presence_is_capped_with_the_total() -> None:
    big = _joined(f.PRESENCE_CAP + 50)
    assert len(big["presence"]) == f.PRESENCE_CAP and big["presence_count"] == f.PRESENCE_CAP + 50
    assert big["presence_truncated"] is True
    small = _joined(3)
    assert len(small["presence"]) == 3 and small["presence_count"] == 3 and "presence_truncated" not in small


def test_joined_always_says_last_read_seq() -> None:
    assert _joined(0)["last_read_seq"] == 0
    assert _joined(0, 7)["last_read_seq"] == 7


def test_a_reaction_names_its_first_users_and_says_when_cut() -> None:
    users = [uuid.uuid4() for _ in range(f.REACTION_USERS_CAP + 5)]
    many = json.loads(f.encode(f.Reaction(emoji="🔥", count=len(users), users=users)))
    assert many["users"] == [str(u) for u in users[:f.REACTION_USERS_CAP]] and many["truncated"] is True
    assert many["count"] == f.REACTION_USERS_CAP + 5
    # The store already cut the list: the count says there are more.
    cut = json.loads(f.encode(f.Reaction(emoji="🔥", count=30, users=users[:f.REACTION_USERS_CAP])))
    assert cut["truncated"] is True
    few = json.loads(f.encode(f.Reaction(emoji="👍", count=2, users=users[:2])))
    assert "truncated" not in few and len(few["users"]) == 2
