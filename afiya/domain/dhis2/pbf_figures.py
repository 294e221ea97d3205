"""PBF results as a figure source: how a mapping names a computed PBF value.

A mapping whose ``source`` is :data:`PBF_SOURCE` names its figure
``<programme>:<package or payment rule>.<formula>[.<activity>]``, the same keys as the
PBF programme's own DHIS2 export: ``FBR-MR:quantity.amount.act1`` is the ``amount`` of
activity ``act1`` in package ``quantity``; ``FBR-MR:quantity.quantity_total`` a package
formula; ``FBR-MR:payment.total`` the total of the invoices of payment rule ``payment``
(what the facility is paid, after the budget envelope and carried adjustments).

The values are those of each period's *current* computation; a figure counts as paid
once a locked PBF period overlaps its period (a locked period is one that was paid and
can no longer change), so a later change in DHIS2 raises an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.periods import Period
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

PBF_SOURCE = "pbf_results"
TOTAL = "total"
_FIGURE = re.compile(
    r"^(?P<programme>[A-Za-z0-9_-]{1,50}):(?P<owner>[A-Za-z0-9_]{1,50})\."
    r"(?P<formula>[A-Za-z0-9_]{1,50})(?:\.(?P<activity>[A-Za-z0-9_-]{1,50}))?$"
)


@dataclass(frozen=True, slots=True)
class PbfFigure:
    """A computed PBF value as a mapping names it."""

    programme: str
    owner: str  # package or payment rule code
    formula: str
    activity: str | None = None

    @property
    def code(self) -> str:
        tail = f".{self.activity}" if self.activity else ""
        return f"{self.programme}:{self.owner}.{self.formula}{tail}"

    def matches_line(self, line: Mapping[str, Any]) -> bool:
        """Whether an invoice line (``source``, ``formula``, ``activity``) is this figure."""
        return (
            line.get("source") == self.owner
            and line.get("formula") == self.formula
            and (line.get("activity") or None) == self.activity
        )

    def is_invoice_total(self, payment_rule: str) -> bool:
        """``<rule>.total`` reads the invoice total of that payment rule, as PBF's export."""
        return self.activity is None and self.formula == TOTAL and self.owner == payment_rule


def parse_pbf_figure(code: str) -> PbfFigure | None:
    """The PBF figure a code names, or ``None`` when it is not of that shape."""
    found = _FIGURE.match(code)
    if found is None:
        return None
    return PbfFigure(
        found["programme"], found["owner"], found["formula"], found["activity"] or None
    )


def check_pbf_figure(code: str) -> list[FieldError]:
    """The problem with a mapping's figure when its source is the PBF results."""
    if parse_pbf_figure(code) is not None:
        return []
    return [
        FieldError(
            "figure",
            Message(
                N_(
                    "A PBF figure is written programme:package.formula or "
                    "programme:package.formula.activity (for example "
                    "FBR-MR:quantity.amount.act1)."
                )
            ),
            "format",
        )
    ]


def period_within(period_id: str, start: date, end: date) -> bool:
    """Whether a period lies wholly within the dates (as the figure table reads them)."""
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return False
    return start <= period.start and period.end <= end


def overlaps(period_id: str, start: date, end: date) -> bool:
    """Whether a period shares at least a day with the dates."""
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return False
    return period.start <= end and start <= period.end


def paid_at(period_id: str, locks: Iterable[tuple[str, datetime | None]]) -> datetime | None:
    """When money was paid on a figure of ``period_id``: the earliest lock time of a
    locked PBF period overlapping it (a quarterly score paid on a locked month counts)."""
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return None
    times = [
        at
        for lock_period, at in locks
        if at is not None and overlaps(lock_period, period.start, period.end)
    ]
    return min(times) if times else None
