"""Rules of the verification workflow, pure: which step may follow which, what a value
may be, which periods are locked, and how stored data become the engine's inputs.

declared (by the facility) -> verified (by the verification agency) -> validated (by the
committee). A step fills its own state (``claimed``, ``verified``, ``validated``) and
records who and when; a later step cannot be undone by an earlier one (a facility cannot
re-declare what the agency has verified). A value may be missing (``None``): its
``_is_null`` is then 1 in the formulas, which is not the same as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from afiya.domain.pbf.engine.expansion import InputKey
from afiya.domain.pbf.errors import PeriodInvalid
from afiya.domain.pbf.model import RuleSet
from afiya.domain.pbf.periods import Frequency, Period, parse_period, quarter_of
from afiya.domain.pbf.records import (
    CounterVerification,
    Declaration,
    DeclarationStatus,
    QualityChecklist,
    QualityEvaluation,
    Step,
    StepEntry,
)
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

#: The statuses a row may be in for each step to apply.
ALLOWED_FROM: Mapping[Step, frozenset[DeclarationStatus | None]] = {
    Step.DECLARE: frozenset({None, DeclarationStatus.DECLARED}),
    Step.VERIFY: frozenset({DeclarationStatus.DECLARED, DeclarationStatus.VERIFIED}),
    Step.VALIDATE: frozenset({DeclarationStatus.VERIFIED, DeclarationStatus.VALIDATED}),
}
MAX_VALUE = Decimal("1e12")


@dataclass(frozen=True, slots=True)
class Problem:
    """A rejected entry: the field it concerns and why."""

    field: str
    message: Message


def period_problem(code: str, frequency: Frequency) -> Message | None:
    """Why ``code`` is not a period of ``frequency`` (``None`` when it is)."""
    try:
        period = parse_period(code)
        if period.frequency is frequency:
            return None
    except PeriodInvalid:
        pass
    if frequency is Frequency.MONTHLY:
        return Message(N_("{period} is not a month (expected e.g. 201601)."), {"period": code})
    return Message(N_("{period} is not a quarter (expected e.g. 2016Q1)."), {"period": code})


def is_locked(period: str, locked: Iterable[str]) -> bool:
    """A period is locked when it, or the quarter or year that contains it, is locked."""
    try:
        wanted = parse_period(period)
    except PeriodInvalid:
        return False
    for code in locked:
        try:
            if parse_period(code).contains(wanted):
                return True
        except PeriodInvalid:
            continue
    return False


def value_problem(value: Decimal | None) -> Message | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        return Message(N_("The value must be zero or more."))
    if value > MAX_VALUE:
        return Message(N_("The value is too large."))
    return None


def entry_problems(entry: StepEntry, step: Step, rule_set: RuleSet) -> list[Problem]:
    """What is wrong with one entry under the rules of its period (every problem)."""
    problems = key_problems(entry.package, entry.activity, entry.period, step, rule_set)
    if (message := value_problem(entry.value)) is not None:
        problems = [*problems, Problem("value", message)]
    return problems


def key_problems(
    package_code: str, activity: str, period: str, step: Step, rule_set: RuleSet
) -> list[Problem]:
    """What is wrong with the package, activity and period of an entry (not its value)."""
    problems: list[Problem] = []
    package = next((p for p in rule_set.packages if p.code == package_code), None)
    if package is None:
        return [
            Problem("package", Message(N_("Unknown package {package}."), {"package": package_code}))
        ]
    if step.state not in package.states:
        problems.append(
            Problem(
                "package",
                Message(
                    N_("Package {package} has no state {state}."),
                    {"package": package.code, "state": step.state},
                ),
            )
        )
    if activity not in {a.code for a in package.activities}:
        problems.append(
            Problem(
                "activity",
                Message(
                    N_("Package {package} has no activity {activity}."),
                    {"package": package.code, "activity": activity},
                ),
            )
        )
    if (message := period_problem(period, package.frequency)) is not None:
        problems.append(Problem("period", message))
    return problems


def transition_problem(existing: Declaration | None, step: Step) -> Message | None:
    """Why ``step`` cannot apply to a row in its current status."""
    status = existing.status if existing is not None else None
    if status in ALLOWED_FROM[step]:
        return None
    if status is None:
        return Message(N_("Nothing was declared for this activity and period yet."))
    if step is Step.VALIDATE:
        return Message(N_("The declaration must be verified before it is validated."))
    return Message(
        N_("The declaration is already {status}; it cannot be changed at this step."),
        {"status": status.value},
    )


def apply_step(
    existing: Declaration | None,
    entry: StepEntry,
    step: Step,
    *,
    programme_id: UUID,
    org_unit_path: str,
    actor: UUID | None,
    now: datetime,
) -> Declaration:
    """The declaration after ``step`` (checked beforehand with :func:`transition_problem`)."""
    base = existing or Declaration(
        id=uuid7(),
        programme_id=programme_id,
        org_unit_id=entry.org_unit_id,
        org_unit_path=org_unit_path,
        period=entry.period,
        package=entry.package,
        activity=entry.activity,
        status=DeclarationStatus.DECLARED,
    )
    changes: dict[str, object] = {
        step.state: entry.value,
        "status": step.status,
        f"{step.status.value}_by": actor,
        f"{step.status.value}_at": now,
    }
    if entry.comment is not None:
        changes["comment"] = entry.comment
    return replace(base, **changes)  # type: ignore[arg-type]


def score_problems(checklist: QualityChecklist, scores: Mapping[str, Decimal]) -> list[Problem]:
    """Every item scored once, between 0 and its maximum; no unknown item."""
    items = checklist.items()
    problems = [
        Problem(f"scores.{code}", Message(N_("Unknown checklist item {item}."), {"item": code}))
        for code in scores
        if code not in items
    ]
    for code, item in items.items():
        score = scores.get(code)
        if score is None:
            problems.append(
                Problem(
                    f"scores.{code}", Message(N_("The item {item} has no score."), {"item": code})
                )
            )
        elif not score.is_finite() or score < 0 or score > item.max_score:
            problems.append(
                Problem(
                    f"scores.{code}",
                    Message(
                        N_("The score of {item} must be between 0 and {max}."),
                        {"item": code, "max": format(item.max_score, "f")},
                    ),
                )
            )
    return problems


def counter_verification_problems(sampled: int, found: int, confirmed: int) -> list[Problem]:
    """0 <= confirmed <= found <= sampled."""
    problems = []
    if sampled < 0:
        problems.append(Problem("sampled", Message(N_("The value must be zero or more."))))
    if not 0 <= found <= max(sampled, 0):
        problems.append(
            Problem("found", Message(N_("Patients found cannot exceed patients sampled.")))
        )
    if not 0 <= confirmed <= max(found, 0):
        problems.append(
            Problem("confirmed", Message(N_("Confirmed services cannot exceed patients found.")))
        )
    return problems


def months_of(period: str) -> list[str]:
    """The months a computation of ``period`` reads: whole quarters."""
    wanted = parse_period(period)
    first = quarter_of(wanted).first
    last = quarter_of(Period(wanted.last, wanted.last)).last
    return Period(first, last).months() if first != last else [period]


def engine_inputs(
    declarations: Iterable[Declaration],
    evaluations: Iterable[tuple[QualityEvaluation, QualityChecklist]],
    counter_verifications: Iterable[CounterVerification],
    uid_of: Mapping[UUID, str],
) -> dict[InputKey, float]:
    """The engine's inputs: ``(facility uid, period, activity, state) -> value``.

    A missing value is absent (not zero). Quality evaluations give ``score`` and
    ``max_score`` per item; counter-verifications give ``cv_sampled``, ``cv_found``,
    ``cv_not_found`` and ``cv_confirmed``.
    """
    inputs: dict[InputKey, float] = {}
    for d in declarations:
        uid = uid_of.get(d.org_unit_id)
        if uid is None:
            continue
        for state, value in (
            ("claimed", d.claimed),
            ("verified", d.verified),
            ("validated", d.validated),
        ):
            if value is not None:
                inputs[(uid, d.period, d.activity, state)] = float(value)
    for evaluation, checklist in evaluations:
        uid = uid_of.get(evaluation.org_unit_id)
        if uid is None:
            continue
        for code, item in checklist.items().items():
            if code in evaluation.scores:
                inputs[(uid, evaluation.period, code, "score")] = float(evaluation.scores[code])
            inputs[(uid, evaluation.period, code, "max_score")] = float(item.max_score)
    for cv in counter_verifications:
        uid = uid_of.get(cv.org_unit_id)
        if uid is None:
            continue
        for state, count in (
            ("cv_sampled", cv.sampled),
            ("cv_found", cv.found),
            ("cv_not_found", cv.sampled - cv.found),
            ("cv_confirmed", cv.confirmed),
        ):
            inputs[(uid, cv.period, cv.activity, state)] = float(count)
    return inputs


def duplicate_keys(entries: Sequence[StepEntry]) -> dict[int, int]:
    """Position of each entry that repeats an earlier one -> position of the first."""
    seen: dict[tuple[UUID, str, str, str], int] = {}
    repeated: dict[int, int] = {}
    for i, e in enumerate(entries):
        key = (e.org_unit_id, e.period, e.package, e.activity)
        if key in seen:
            repeated[i] = seen[key]
        else:
            seen[key] = i
    return repeated
