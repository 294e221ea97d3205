"""Whether a period is open for entry: expiry days, future periods, approval, input periods.

The checks behind conflicts E7633 and E7640-E7643, mixed into the double's importer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from afiya.domain.dhis2.periods import Period, PeriodType
from tests.doubles.dhis2.rules import Conflicts, ImportOptions
from tests.doubles.dhis2.store import Store, data_set_elements


class PeriodChecks:
    """Needs ``store``, ``conflicts``, ``options`` and ``today`` from the importer."""

    store: Store
    conflicts: Conflicts
    options: ImportOptions
    today: date

    def _period_open(
        self,
        index: int,
        de: str,
        period: Period,
        ou: str,
        aoc: str,
        data_set: dict[str, Any] | None,
    ) -> bool:
        store, add = self.store, self.conflicts.add
        strict = data_set is not None and self.options.strict_data_elements
        if strict and data_set is not None and de not in data_set_elements(data_set):
            add(
                index,
                "E7633",
                "dataElement",
                f"Data element: `{de}` is not part of dataset: `{data_set['id']}`",
                dataElement=de,
                dataSet=data_set["id"],
            )
            return False
        sets = (
            [data_set]
            if data_set is not None
            else [s for s in (store.get("dataSets", uid) for uid in store.data_sets_of(de)) if s]
        )
        if not sets:
            return True
        expired = [s for s in sets if self._expired(s, period, ou)]
        if len(expired) == len(sets):
            ds = expired[0]["id"]
            add(
                index,
                "E7640",
                "period",
                f"Current date is past expiry days for period: `{period.id}`  and data set: `{ds}`",
                period=period.id,
                dataSet=ds,
            )
            return False
        latest = max((self._latest_open(s) for s in sets), key=lambda p: p.end)
        if period.start > latest.end:
            add(
                index,
                "E7641",
                "period",
                f"Period: `{period.id}` is after latest open future period: `{latest}` "
                f"for data element: `{de}`",
                period=period.id,
                dataElement=de,
            )
            return False
        for s in sets:
            if (s["id"], period.id, ou, aoc) in store.approvals:
                add(
                    index,
                    "E7642",
                    None,
                    f"Data is already approved for data set: `{s['id']}` period: `{period.id}` "
                    f"organisation unit: `{ou}` attribute option combo: `{aoc}`",
                    organisationUnit=ou,
                    period=period.id,
                    attributeOptionCombo=aoc,
                    dataSet=s["id"],
                )
                return False
        closed = [s for s in sets if not self._input_open(s, period)]
        if len(closed) == len(sets):
            ds = closed[0]["id"]
            add(
                index,
                "E7643",
                "period",
                f"Period: `{period.id}` is not open for this data set at this time: `{ds}`",
                period=period.id,
                dataSet=ds,
            )
            return False
        return True

    def _expired(self, data_set: dict[str, Any], period: Period, ou: str) -> bool:
        days = int(data_set.get("expiryDays") or 0)
        if days <= 0 or (data_set["id"], period.id, ou) in self.store.lock_exceptions:
            return False
        return self.today > period.end + timedelta(days=days)

    def _latest_open(self, data_set: dict[str, Any]) -> Period:
        """The latest period open for entry: the current one plus ``openFuturePeriods``."""
        try:
            period_type = PeriodType(data_set.get("periodType") or "Monthly")
        except ValueError:
            period_type = PeriodType.MONTHLY
        current = Period.containing(period_type, self.today)
        return current.shifted(int(data_set.get("openFuturePeriods") or 0))

    def _input_open(self, data_set: dict[str, Any], period: Period) -> bool:
        windows = data_set.get("dataInputPeriods") or ()
        if not windows:
            return True
        for window in windows:
            if (window.get("period") or {}).get("id") != period.id:
                continue
            opening, closing = window.get("openingDate"), window.get("closingDate")
            if opening and self.today < date.fromisoformat(str(opening)[:10]):
                continue
            if closing and self.today > date.fromisoformat(str(closing)[:10]):
                continue
            return True
        return False
