"""Who decides a user's platform role (`user`, `creator`, `admin`), and how it spreads.

An account picks `user` or `creator` when it registers; only an admin changes a role
afterwards, never their own (so the last admin cannot demote themself by mistake). The
new role is what the next request of that user is authorized with (the session lookup
reads it, `veza.security.authenticators`), and once the change has committed it is
announced to every node, whose sockets of that user take it at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from veza.domain.errors import Forbidden
from veza.domain.unit_of_work import UnitOfWork
from veza.store import users

ROLES = ("user", "creator", "admin")
RoleChanged = Callable[[UUID, str], Awaitable[None]]  # (user, new role), after commit


def check_may_change_role(actor_id: UUID, actor_role: str, target: UUID) -> None:
    if actor_role != "admin":
        raise Forbidden("Only an admin changes a user's role")
    if target == actor_id:
        raise Forbidden("Admins cannot change their own role; ask another admin")


async def change_role(uow: UnitOfWork, announce: RoleChanged, *, actor_id: UUID, actor_role: str, target: UUID,
                      role: str) -> dict[str, Any]:
    """`actor_id` (an admin) gives `target` the role `role`; the user as it now is."""
    check_may_change_role(actor_id, actor_role, target)
    user = await users.set_role(uow.conn, target, role)
    uow.after_commit(announce, target, role)
    return user
