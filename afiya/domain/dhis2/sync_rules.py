"""Pure rules of the DHIS2 exchange: what to send, how to read answers,
retries and payment alerts (the settings checks are in ``validation``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any

from afiya.domain.dhis2.conflicts import ConflictKind, RetryCondition, suggested_retry_date
from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.import_summary import ImportConflict, ImportSummary
from afiya.domain.dhis2.payloads import DataValue, content_hash
from afiya.domain.dhis2.periods import Period, PeriodType
from afiya.domain.dhis2.sync_model import (
    SETTLED,
    LedgerEntry,
    LedgerState,
)

MAX_ATTEMPTS = 8


def period_of_type(period_id: str, period_type: PeriodType) -> Period | None:
    """The period named ``period_id`` when it is of ``period_type``, else ``None``."""
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return None
    return period if period.type is period_type else None


class Decision(Enum):
    SEND = "send"  # new key, or a value that changed: a new ledger version
    RESEND = "resend"  # same value, not settled yet (pending, sent, retry due)
    UNCHANGED = "unchanged"
    BLOCKED = "blocked"
    WAITING = "waiting"


def decide(current: LedgerEntry | None, value: DataValue, today: date) -> Decision:
    """What a push does with ``value`` given the key's current ledger entry.

    Rules: an unchanged value DHIS2 settled is not sent again; an unchanged value refused
    by a blocking conflict waits for a change; a retriable conflict is resent once its
    retry date has come; anything else unsettled is (re)sent.
    """
    if current is None or current.content_hash != content_hash(value):
        return Decision.SEND
    if current.state in SETTLED:
        return Decision.UNCHANGED
    if current.state is LedgerState.CONFLICT:
        if current.conflict_kind != ConflictKind.RETRIABLE.value:
            return Decision.BLOCKED
        if current.retry_on is not None and current.retry_on > today:
            return Decision.WAITING
    return Decision.RESEND


@dataclass(frozen=True, slots=True)
class ValueOutcome:
    state: LedgerState
    conflict: ImportConflict | None = None
    retry_on: date | None = None


def retry_date(
    conflict: ImportConflict, period_id: str, today: date, open_future_periods: int | None
) -> date | None:
    """When to resend a value refused by ``conflict`` (``None``: when a person acts).

    A future period (E7641) opens when it comes within the data set's open future
    periods; without that number, and for closed input periods, at the latest the day
    after the period ends.
    """
    rule = conflict.rule
    if rule.retry is not RetryCondition.PERIOD_OPENS:
        return None
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return suggested_retry_date(rule, today, today)
    if rule.code in ("E7641", "E2022") and open_future_periods is not None:
        opening = period.shifted(-max(0, open_future_periods)).start
        return max(today + timedelta(days=1), opening)
    return suggested_retry_date(rule, period.end, today)


def _legacy_match(conflict: ImportConflict, value: DataValue) -> bool:
    """DHIS2 before 2.36 names only the offending object: match it against the value."""
    names = {conflict.object, *conflict.objects.values()} - {None, ""}
    fields = {
        value.data_element,
        value.period,
        value.org_unit,
        value.category_option_combo,
        value.attribute_option_combo,
    }
    return bool(names & fields)


def classify_chunk(
    summary: ImportSummary,
    values: Sequence[DataValue],
    previously_accepted: Sequence[bool],
    *,
    today: date,
    open_future_periods: Callable[[str], int | None] = lambda _de: None,
) -> list[ValueOutcome]:
    """The ledger state of each posted value, read from DHIS2's import summary.

    Rules: a value named by a conflict (by index, or by object for servers without
    indexes) takes that conflict; when DHIS2 aborted the whole payload every value takes
    the set-level conflict; a rejected index without conflict is ignored; any other
    value is imported, or updated when DHIS2 had accepted an earlier version of it.
    """
    indexed = any(c.indexes for c in summary.conflicts) or bool(summary.rejected_indexes)
    outcomes: list[ValueOutcome] = []
    for index, value in enumerate(values):
        if summary.aborted:
            conflicts: tuple[ImportConflict, ...] = summary.conflicts or (
                ImportConflict(None, summary.description or "aborted"),
            )
        elif indexed:
            conflicts = summary.conflicts_at(index)
        else:
            conflicts = tuple(c for c in summary.conflicts if _legacy_match(c, value))
        if conflicts:
            # A blocking conflict outranks a retriable one: resending cannot fix it.
            conflict = min(conflicts, key=lambda c: c.retriable)
            when = (
                retry_date(conflict, value.period, today, open_future_periods(value.data_element))
                if conflict.retriable
                else None
            )
            outcomes.append(ValueOutcome(LedgerState.CONFLICT, conflict, when))
        elif index in summary.rejected_indexes:
            outcomes.append(ValueOutcome(LedgerState.IGNORED))
        elif previously_accepted[index]:
            outcomes.append(ValueOutcome(LedgerState.UPDATED))
        else:
            outcomes.append(ValueOutcome(LedgerState.IMPORTED))
    return outcomes


def conflict_json(conflict: ImportConflict) -> dict[str, Any]:
    return {
        "code": conflict.rule.code or None,
        "kind": conflict.kind.value,
        "object": conflict.object,
        "value": conflict.value,
        "property": conflict.property_name,
        "indexes": list(conflict.indexes)[:50],
    }


def backoff_seconds(attempt: int, base: int, retry_after: float | None = None) -> float:
    """Wait before attempt ``attempt + 1``: doubling from ``base``, at most an hour, and
    never sooner than the server's ``Retry-After``."""
    delay = float(min(base * 2 ** max(0, attempt - 1), 3600))
    return max(delay, retry_after or 0.0)


def same_content(sent: DataValue, found: DataValue) -> bool:
    """Whether DHIS2 holds what Afiya sent: same deletion state and value (numbers compared
    as numbers, since DHIS2 may rewrite ``5.0`` as ``5``), ignoring server stamps."""
    if sent.is_deletion or found.is_deletion:
        return sent.is_deletion == found.is_deletion
    left, right = (sent.value or "").strip(), (found.value or "").strip()
    if left == right:
        return True
    try:
        return float(left) == float(right)
    except ValueError:
        return False


def changed_after_payment(entry: LedgerEntry, pulled: DataValue) -> bool:
    """A paid value that DHIS2 accepted now reads differently there: someone changed it."""
    if entry.paid_at is None or entry.state not in (LedgerState.IMPORTED, LedgerState.UPDATED):
        return False
    return not same_content(entry.value, pulled)
