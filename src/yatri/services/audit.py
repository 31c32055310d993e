"""The audit trail: every state change leaves one row, written inside the change's transaction."""

from __future__ import annotations

from yatri.models import AuditLog, User


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
    return await AuditLog.create(
        actor=actor,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
