"""The audit trail: every state change leaves one row, written inside the change's transaction.
A payment's row also tells the operator's queue and dashboard (services/events)."""

from __future__ import annotations

from yatri.models import AuditLog, User
from yatri.services.events import announce


async def record(
    entity: str,
    entity_id: int | str,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    *,
    actor: User | None = None,
    data: dict | None = None,
) -> AuditLog:
    if entity == "payment":
        await announce("payments", "dashboard")
    return await AuditLog.create(
        actor=actor,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
