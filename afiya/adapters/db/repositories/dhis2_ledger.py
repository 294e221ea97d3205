"""SQL stores of the DHIS2 sync: the per-value ledger and the alerts.

Bulk paths throughout: inserts and updates go as one ``executemany`` per batch, and
lookups by value key as one ``IN`` query per batch of at most a thousand keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.dhis2 import (
    Dhis2AlertRow,
    Dhis2LedgerRow,
)
from afiya.domain.dhis2.payloads import DataValue
from afiya.domain.dhis2.sync_model import (
    ACCEPTED,
    SETTLED,
    Alert,
    LedgerEntry,
    LedgerState,
    value_key,
)
from afiya.domain.dhis2.sync_ports import LedgerQuery, LedgerUpdate

L = Dhis2LedgerRow
LT = cast(Table, Dhis2LedgerRow.__table__)  # Core table: executemany by id
_SETTLED = [s.value for s in SETTLED]


def _entry(row: Any) -> LedgerEntry:
    """From a Core row of the whole table (no ORM identity map on the bulk paths)."""
    return LedgerEntry(
        id=row.id,
        connection_id=row.connection_id,
        value=DataValue(
            row.data_element,
            row.period,
            row.org_unit,
            row.category_option_combo,
            row.attribute_option_combo,
            row.value,
            row.comment,
        ),
        content_hash=row.content_hash,
        state=LedgerState(row.state),
        run_id=row.run_id,
        chunk_no=row.chunk_no,
        attempts=row.attempts,
        conflict_code=row.conflict_code,
        conflict_kind=row.conflict_kind,
        conflict_text=row.conflict_text,
        retry_on=row.retry_on,
        response=row.response or {},
        paid_at=row.paid_at,
        replaces_accepted=row.replaces_accepted,
        first_sent_at=row.first_sent_at,
        last_sent_at=row.last_sent_at,
        settled_at=row.settled_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_STATES = {s.value: s for s in LedgerState}


def _decision_entry(row: Any) -> LedgerEntry:
    """From a row of :data:`_DECISION`: what a push decides on, the rest left empty."""
    return LedgerEntry(
        id=row.id,
        connection_id=row.connection_id,
        value=DataValue(
            row.data_element,
            row.period,
            row.org_unit,
            row.category_option_combo,
            row.attribute_option_combo,
            row.value,
            row.comment,
        ),
        content_hash=row.content_hash,
        state=_STATES[row.state],
        run_id=row.run_id,
        conflict_kind=row.conflict_kind,
        retry_on=row.retry_on,
        paid_at=row.paid_at,
        replaces_accepted=row.replaces_accepted,
    )


# What a push decides on: reading DHIS2's stored answers and the timestamps for each of
# a million values would cost more than the decision itself.
_DECISION = [
    LT.c[name]
    for name in (
        "id",
        "connection_id",
        "value_key",
        "data_element",
        "period",
        "org_unit",
        "category_option_combo",
        "attribute_option_combo",
        "value",
        "comment",
        "content_hash",
        "state",
        "run_id",
        "conflict_kind",
        "retry_on",
        "paid_at",
        "replaces_accepted",
    )
]


class SqlLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def current(self, connection_id: UUID, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(keys), 1000):
            rows = await self._session.execute(
                select(*_DECISION)
                .where(
                    LT.c.connection_id == connection_id,
                    LT.c.value_key.in_(keys[start : start + 1000]),
                    LT.c.state != LedgerState.SUPERSEDED.value,
                )
                .order_by(LT.c.id)
            )
            found.update({r.value_key: _decision_entry(r) for r in rows})
        return found

    async def add_many(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        rows = []
        for e in entries:
            v = e.value
            rows.append(
                {
                    "id": e.id,
                    "connection_id": e.connection_id,
                    "value_key": value_key(v),
                    "data_element": v.data_element,
                    "period": v.period,
                    "org_unit": v.org_unit,
                    "category_option_combo": v.category_option_combo,
                    "attribute_option_combo": v.attribute_option_combo,
                    "value": None if v.is_deletion else v.value,
                    "comment": v.comment,
                    "content_hash": e.content_hash,
                    "state": e.state.value,
                    "attempts": 0,
                    "paid_at": e.paid_at,
                    "replaces_accepted": e.replaces_accepted,
                    "created_at": e.created_at,
                    "updated_at": e.updated_at,
                }
            )
        await self._session.execute(insert(L), rows)

    async def supersede(self, entry_ids: Sequence[UUID]) -> None:
        for start in range(0, len(entry_ids), 1000):
            await self._session.execute(
                update(LT)
                .where(LT.c.id.in_(entry_ids[start : start + 1000]))
                .values(state=LedgerState.SUPERSEDED.value)
            )

    async def set_paid(self, paid: Sequence[tuple[UUID, datetime | None]]) -> None:
        if paid:
            await self._session.execute(
                update(LT).where(LT.c.id == bindparam("b_id")).values(paid_at=bindparam("b_paid")),
                [{"b_id": i, "b_paid": at} for i, at in paid],
            )

    async def assign(self, run_id: UUID, entry_chunks: Sequence[tuple[UUID, int]]) -> None:
        if entry_chunks:
            await self._session.execute(
                update(LT)
                .where(LT.c.id == bindparam("b_id"))
                .values(run_id=run_id, chunk_no=bindparam("b_chunk"), state="pending"),
                [{"b_id": i, "b_chunk": n} for i, n in entry_chunks],
            )

    async def due_retries(self, connection_id: UUID, today: date) -> AsyncIterator[LedgerEntry]:
        last: UUID | None = None
        while True:
            stmt = select(LT).where(
                LT.c.connection_id == connection_id,
                LT.c.state == LedgerState.CONFLICT.value,
                LT.c.conflict_kind == "retriable",
                LT.c.retry_on <= today,
            )
            if last is not None:
                stmt = stmt.where(LT.c.id > last)
            rows = (await self._session.execute(stmt.order_by(LT.c.id).limit(1000))).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last = rows[-1].id

    async def chunk_entries(self, run_id: UUID, chunk_no: int) -> list[LedgerEntry]:
        rows = await self._session.execute(
            select(LT).where(LT.c.run_id == run_id, LT.c.chunk_no == chunk_no).order_by(LT.c.id)
        )
        return [_entry(r) for r in rows]

    async def record_attempt(
        self, entry_ids: Sequence[UUID], at: datetime, state: LedgerState | None
    ) -> None:
        values: dict[str, Any] = {
            "attempts": LT.c.attempts + 1,
            "last_sent_at": at,
            "first_sent_at": func.coalesce(LT.c.first_sent_at, at),
            "updated_at": at,
        }
        if state is not None:
            values["state"] = state.value
        for start in range(0, len(entry_ids), 1000):
            await self._session.execute(
                update(LT).where(LT.c.id.in_(entry_ids[start : start + 1000])).values(**values)
            )

    async def record_outcomes(
        self, updates: Sequence[LedgerUpdate], response: Mapping[str, Any], at: datetime
    ) -> None:
        if not updates:
            return
        stmt = (
            update(LT)
            .where(LT.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                conflict_code=bindparam("b_code"),
                conflict_kind=bindparam("b_kind"),
                conflict_text=bindparam("b_text"),
                retry_on=bindparam("b_retry"),
                settled_at=bindparam("b_settled"),
                response=bindparam("b_response"),
                attempts=LT.c.attempts + 1,
                last_sent_at=at,
                first_sent_at=func.coalesce(LT.c.first_sent_at, at),
                updated_at=at,
            )
        )
        params = [
            {
                "b_id": u.entry_id,
                "b_state": u.state.value,
                "b_code": u.conflict_code,
                "b_kind": u.conflict_kind,
                "b_text": u.conflict_text,
                "b_retry": u.retry_on,
                "b_settled": at if u.state in SETTLED else None,
                "b_response": dict(response),
            }
            for u in updates
        ]
        await self._session.execute(stmt, params)

    async def earliest_retry(self, run_id: UUID) -> date | None:
        found = await self._session.execute(
            select(func.min(LT.c.retry_on)).where(
                LT.c.run_id == run_id,
                LT.c.state == LedgerState.CONFLICT.value,
                LT.c.conflict_kind == "retriable",
            )
        )
        earliest = found.scalar()
        return earliest if isinstance(earliest, date) else None

    async def browse(self, connection_id: UUID, query: LedgerQuery) -> list[LedgerEntry]:
        stmt = select(LT).where(LT.c.connection_id == connection_id)
        for column, value in (
            (LT.c.state, query.state.value if query.state else None),
            (LT.c.data_element, query.data_element),
            (LT.c.period, query.period),
            (LT.c.org_unit, query.org_unit),
            (LT.c.run_id, query.run_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.after_id is not None:
            stmt = stmt.where(LT.c.id > query.after_id)
        rows = await self._session.execute(stmt.order_by(LT.c.id).limit(query.limit))
        return [_entry(r) for r in rows]

    async def paid_accepted(
        self, connection_id: UUID, keys: Sequence[str]
    ) -> dict[str, LedgerEntry]:
        rows = await self._session.execute(
            select(LT).where(
                LT.c.connection_id == connection_id,
                LT.c.value_key.in_(list(keys)),
                LT.c.state.in_([s.value for s in ACCEPTED]),
                LT.c.paid_at.is_not(None),
            )
        )
        return {r.value_key: _entry(r) for r in rows}

    def _placed(self, run_id: UUID) -> Any:
        return (
            LT.c.run_id == run_id,
            LT.c.chunk_no.is_not(None),
            LT.c.state != LedgerState.SUPERSEDED.value,
        )

    async def count_placed(self, run_id: UUID) -> int:
        found = await self._session.execute(
            select(func.count()).select_from(LT).where(*self._placed(run_id))
        )
        return int(found.scalar_one())

    async def chunk_sizes(self, run_id: UUID) -> dict[int, int]:
        rows = await self._session.execute(
            select(LT.c.chunk_no, func.count()).where(*self._placed(run_id)).group_by(LT.c.chunk_no)
        )
        return {int(n): int(c) for n, c in rows}


def _alert(row: Dhis2AlertRow) -> Alert:
    return Alert(
        id=row.id,
        connection_id=row.connection_id,
        kind=row.kind,
        value_key=row.value_key,
        expected=row.expected,
        found=row.found,
        dhis2_last_updated=row.dhis2_last_updated,
        paid_at=row.paid_at,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


def _fingerprint(alert: Alert) -> str:
    text = "\x1f".join((alert.kind, alert.value_key, alert.found or "\x00"))
    return hashlib.sha256(text.encode()).hexdigest()


class SqlAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, alerts: Sequence[Alert]) -> int:
        if not alerts:
            return 0
        by_print = {_fingerprint(a): a for a in alerts}
        known = set(
            (
                await self._session.execute(
                    select(Dhis2AlertRow.fingerprint).where(
                        Dhis2AlertRow.connection_id == alerts[0].connection_id,
                        Dhis2AlertRow.fingerprint.in_(list(by_print)),
                    )
                )
            ).scalars()
        )
        fresh = [
            {
                "id": a.id,
                "connection_id": a.connection_id,
                "kind": a.kind,
                "fingerprint": fp,
                "value_key": a.value_key,
                "expected": a.expected,
                "found": a.found,
                "dhis2_last_updated": a.dhis2_last_updated,
                "paid_at": a.paid_at,
                "created_at": a.created_at,
            }
            for fp, a in by_print.items()
            if fp not in known
        ]
        if fresh:
            await self._session.execute(insert(Dhis2AlertRow), fresh)
        return len(fresh)

    async def for_connection(
        self, connection_id: UUID, *, open_only: bool = True, limit: int = 100
    ) -> list[Alert]:
        stmt = select(Dhis2AlertRow).where(Dhis2AlertRow.connection_id == connection_id)
        if open_only:
            stmt = stmt.where(Dhis2AlertRow.acknowledged_at.is_(None))
        rows = await self._session.execute(stmt.order_by(Dhis2AlertRow.created_at).limit(limit))
        return [_alert(r) for r in rows.scalars()]

    async def get(self, alert_id: UUID) -> Alert | None:
        row = await self._session.get(Dhis2AlertRow, alert_id)
        return _alert(row) if row else None

    async def acknowledge(self, alert_id: UUID, by: str, at: datetime) -> Alert:
        row = await self._session.get(Dhis2AlertRow, alert_id)
        if row is None:
            raise LookupError(alert_id)
        row.acknowledged_at, row.acknowledged_by = at, by[:64]
        await self._session.flush()
        return _alert(row)
