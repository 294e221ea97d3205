"""The audit trail in SQL: appends under a head-row lock, reads for verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.platform import AuditEventRow, AuditHead
from afiya.domain.audit.model import (
    AuditContext,
    AuditEvent,
    AuditRecord,
    ChainBreak,
    ChainVerifier,
    Outcome,
    canonical_payload,
    chain_hash,
)
from afiya.domain.shared.ids import uuid7

# One event (most requests) is appended with the head's hash in one statement on
# PostgreSQL; more go in two (SQLAlchemy does not cache a multi-row VALUES, which would
# cost more CPU than the round trip saved).
_ONE_STATEMENT_MAX = 1


async def append_events(
    session: AsyncSession, context: AuditContext, records: list[AuditRecord]
) -> None:
    """Append ``records`` to the chain inside the session's transaction.

    The first statement bumps the single head row, which takes its lock (row lock on
    PostgreSQL, the write lock on SQLite): concurrent appenders queue there until this
    transaction ends, so the chain never forks. The second inserts the events and stores
    the last hash in the head (on SQLite, which has no data-modifying CTE, two).
    """
    if not records:
        return
    head = (
        await session.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(last_seq=AuditHead.last_seq + len(records))
            .returning(AuditHead.last_seq, AuditHead.last_hash)
        )
    ).one()
    seq = int(head.last_seq) - len(records)
    prev = str(head.last_hash)
    now = session_now(session)
    rows = []
    for record in records:
        seq += 1
        event_id = uuid7()
        digest = chain_hash(prev, canonical_payload(seq, event_id, now, context, record))
        rows.append(
            {
                "seq": seq,
                "id": event_id,
                "occurred_at": now,
                "user_id": context.user_id,
                "username": context.username,
                "roles": context.roles,
                "action": record.action,
                "resource_type": record.resource_type,
                "resource_id": record.resource_id,
                "patient_id": record.patient_id,
                "outcome": record.outcome.value,
                "purpose": context.purpose,
                "ip": context.ip,
                "user_agent": (context.user_agent or "")[:255] or None,
                "node": context.node,
                "request_id": context.request_id,
                "details": dict(record.details),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    new_head = update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev)
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql" and len(rows) <= _ONE_STATEMENT_MAX:
        # The events and the head's new hash in one statement (a data-modifying CTE runs
        # exactly once, in the same transaction, under the lock the bump above took).
        appended = insert(AuditEventRow).values(rows[0]).cte("appended")
        await session.execute(new_head.add_cte(appended))
        return
    await session.execute(insert(AuditEventRow), rows)
    await session.execute(new_head)


class SqlAuditLog:
    """:class:`afiya.domain.audit.ports.AuditLog` buffered until the unit of work commits.

    Buffering keeps the head-row lock for the shortest time: it is taken just before the
    commit, not when the first event of a long request is recorded.
    """

    def __init__(self, session: AsyncSession, context: AuditContext) -> None:
        self._session = session
        self.context = context
        self._buffer: list[AuditRecord] = []

    async def record(self, record: AuditRecord) -> None:
        self._buffer.append(record)

    async def flush(self) -> None:
        records, self._buffer = self._buffer, []
        await append_events(self._session, self.context, records)

    def discard(self) -> list[AuditRecord]:
        records, self._buffer = self._buffer, []
        return records


def _to_event(row: AuditEventRow) -> AuditEvent:
    occurred = row.occurred_at
    return AuditEvent(
        seq=row.seq,
        id=row.id,
        occurred_at=occurred,
        context=AuditContext(
            user_id=row.user_id,
            username=row.username,
            roles=row.roles,
            ip=row.ip,
            user_agent=row.user_agent,
            node=row.node,
            request_id=row.request_id,
            purpose=row.purpose,
        ),
        record=AuditRecord(
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            patient_id=row.patient_id,
            outcome=Outcome(row.outcome),
            details=row.details,
        ),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def iter_events(self, after_seq: int = 0, batch: int = 2000) -> AsyncIterator[AuditEvent]:
        last = after_seq
        while True:
            rows = (
                (
                    await self._session.execute(
                        select(AuditEventRow)
                        .where(AuditEventRow.seq > last)
                        .order_by(AuditEventRow.seq)
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return
            for row in rows:
                yield _to_event(row)
            last = rows[-1].seq

    async def list(
        self,
        *,
        patient_id: UUID | None,
        user_id: UUID | None,
        after_seq: int | None,
        limit: int,
    ) -> list[AuditEvent]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)
        if patient_id:
            stmt = stmt.where(AuditEventRow.patient_id == patient_id)
        if user_id:
            stmt = stmt.where(AuditEventRow.user_id == user_id)
        if after_seq is not None:
            stmt = stmt.where(AuditEventRow.seq < after_seq)
        return [_to_event(r) for r in (await self._session.execute(stmt)).scalars()]


async def verify_stored_chain(session: AsyncSession) -> tuple[int, ChainBreak | None]:
    """Verify the whole stored trail; return (events checked, first break or None).

    The head row must also agree with the last event: truncating the newest events
    is a break too.
    """
    verifier = ChainVerifier()
    async for event in SqlAuditStore(session).iter_events():
        broken = verifier.check(event)
        if broken is not None:
            return verifier.checked, broken
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    if head.last_hash != verifier.previous or head.last_seq != verifier.checked:
        return verifier.checked, ChainBreak(
            head.last_seq, UUID(int=0), "events missing after the last stored one"
        )
    return verifier.checked, None
