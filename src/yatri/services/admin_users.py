"""The operator's side of accounts: find users, make them admins or travellers again.

A role change is one transaction: it locks every admin row (so two admins demoting each
other at once cannot leave nobody in charge), refuses to demote the last active admin,
saves the role, ends the user's sessions (they sign in again and get a new session id
with the new role) and writes an audit row.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound
from yatri.models import Role, User
from yatri.parsing import record_id, single_line
from yatri.services import audit
from yatri.services.accounts import end_sessions
from yatri.services.locks import lock, rows
from yatri.services.paging import Page, paginate

PER_PAGE = 25
ROLES = {"all": "Everyone", Role.ADMIN.value: "Admins", Role.TRAVELLER.value: "Travellers"}


class LastAdmin(Conflict):
    title = "The last admin"
    problem = "last-admin"


async def list_users(q: str = "", role: str = "all", page: int = 1) -> Page:
    query = User.all()
    words = single_line(q)[:100]
    if words:
        query = query.filter(Q(name__icontains=words) | Q(email__icontains=words))
    if role in (Role.ADMIN, Role.TRAVELLER):
        query = query.filter(role=role)
    return await paginate(query.order_by("name", "id"), page, PER_PAGE)


async def get_user(user_id: int | str) -> User:
    user = await User.get_or_none(id=record_id(user_id, "user"))
    if user is None:
        raise NotFound("There is no such user.")
    return user


async def set_role(user_id: int | str, role: Role, actor: User) -> User:
    """Make the user an admin or a traveller. Returns the user; a no-op when nothing changes."""
    async with in_transaction() as conn:
        [admins] = await lock(conn, rows(User, role=Role.ADMIN))
        user = await get_user(user_id)
        before = Role(user.role)
        if before == role:
            return user
        if before == Role.ADMIN and not any(a.is_active and a.id != user.id for a in admins):
            raise LastAdmin(
                f"{user.name} is the last admin, so they stay one: make someone else an admin first."
            )
        user.role = role
        user.version += 1
        await user.save(update_fields=["role", "version", "updated_at"])
        ended = await end_sessions(user)
        await audit.record(
            "user", user.id, "role_changed", before.value, role.value, actor=actor,
            data={"before": {"role": before.value}, "after": {"role": role.value}, "sessions_ended": ended},
        )  # fmt: skip
    return user
