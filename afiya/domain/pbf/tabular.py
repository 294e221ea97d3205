"""Data-entry files (XLSX or CSV), pure: the template's rows and the reading of filled rows.

One template per programme, period and step: a row per contracted facility and activity
of the packages declared at the period's frequency, with the values already entered at
earlier steps for reference. Only the step's own column is read back; a blank cell is
skipped (nothing entered), ``NA`` records an explicitly missing value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from afiya.domain.pbf.model import RuleSet
from afiya.domain.pbf.periods import parse_period
from afiya.domain.pbf.records import Declaration, Facility, Step, StepEntry
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

KEY_COLUMNS = (
    "org_unit_code",
    "org_unit_name",
    "period",
    "package",
    "activity_code",
    "activity_name",
)
STATES = ("claimed", "verified", "validated")
MISSING = frozenset({"na", "n/a", "nd"})


def unreadable_file() -> Message:
    """The message for an upload that is not a spreadsheet."""
    return Message(N_("The file is not a readable XLSX or CSV table."))


def columns(step: Step) -> tuple[str, ...]:
    """The template's header: the keys, earlier steps' values, then the step's column."""
    return KEY_COLUMNS + STATES[: STATES.index(step.state) + 1]


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def template_rows(
    rule_set: RuleSet,
    facilities: Sequence[Facility],
    period: str,
    step: Step,
    declarations: Iterable[Declaration],
) -> list[list[str]]:
    """Rows of the template (without header), in facility then package order."""
    frequency = parse_period(period).frequency
    known = {(d.org_unit_id, d.package, d.activity, d.period): d for d in declarations}
    width = len(columns(step)) - len(KEY_COLUMNS)
    rows = []
    for facility in facilities:
        for package in rule_set.packages:
            if package.frequency is not frequency or step.state not in package.states:
                continue
            if package.org_unit_groups and not package.org_unit_groups & facility.groups:
                continue
            for activity in package.activities:
                d = known.get((facility.id, package.code, activity.code, period))
                values = [_text(getattr(d, s)) if d else "" for s in STATES][:width]
                rows.append(
                    [
                        facility.code or facility.uid,
                        facility.name,
                        period,
                        package.code,
                        activity.code,
                        activity.name,
                        *values,
                    ]
                )
    return rows


@dataclass(frozen=True, slots=True)
class ParsedFile:
    entries: list[StepEntry]
    row_numbers: list[int]  # the file's row number of each entry (header = 1)
    errors: list[FieldError]


def _cell(row: Sequence[object], index: int | None) -> str:
    if index is None or index >= len(row) or row[index] is None:
        return ""
    value = row[index]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_rows(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    step: Step,
    facilities: Mapping[str, Facility],
    *,
    first_row: int = 2,
) -> ParsedFile:
    """Read filled rows; every unreadable cell is reported as ``rows.<n>.<column>``.

    ``facilities`` maps facility codes (or uids) to facilities.
    """
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    index = {name: i for i, name in enumerate(names) if name}
    required = ("org_unit_code", "period", "package", "activity_code", step.state)
    missing = [c for c in required if c not in index]
    if missing:
        return ParsedFile(
            [],
            [],
            [
                FieldError(
                    "header",
                    Message(N_("Missing columns: {columns}."), {"columns": ", ".join(missing)}),
                    "missing_columns",
                )
            ],
        )
    entries: list[StepEntry] = []
    numbers: list[int] = []
    errors: list[FieldError] = []
    for number, row in enumerate(rows, start=first_row):
        raw = _cell(row, index[step.state])
        if not raw:
            continue
        code = _cell(row, index["org_unit_code"])
        facility = facilities.get(code)
        row_errors = []
        if facility is None:
            row_errors.append(
                FieldError(
                    f"rows.{number}.org_unit_code",
                    Message(N_("Unknown facility code {code}."), {"code": code}),
                )
            )
        value: Decimal | None = None
        if raw.lower() not in MISSING:
            try:
                value = Decimal(raw.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
                if not value.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                row_errors.append(
                    FieldError(
                        f"rows.{number}.{step.state}",
                        Message(N_("{value} is not a number."), {"value": raw}),
                    )
                )
        if row_errors:
            errors += row_errors
            continue
        assert facility is not None
        entries.append(
            StepEntry(
                facility.id,
                _cell(row, index["period"]),
                _cell(row, index["package"]),
                _cell(row, index["activity_code"]),
                value,
            )
        )
        numbers.append(number)
    return ParsedFile(entries, numbers, errors)
