"""Ports of the PBF engine: how a plan is evaluated, and what evaluation returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from afiya.domain.access.policy import Scope
from afiya.domain.pbf.engine.expansion import Inputs
from afiya.domain.pbf.engine.plan import Plan
from afiya.domain.pbf.records import (
    Adjustment,
    Budget,
    Computation,
    Contract,
    CounterVerification,
    Declaration,
    Facility,
    OrgUnitGroup,
    PeriodLock,
    ProgrammeRecord,
    QualityChecklist,
    QualityEvaluation,
    RuleSetVersion,
    StoredInvoice,
)


class Results(Protocol):
    """The computed value of every cell of every template of a plan."""

    def value(self, template: str, activity: str | None, entity: str, period: str) -> float:
        """The value of template ``template`` (``"quantity.amount"``) for one cell.

        ``activity`` is ``None`` for templates that are not per activity; ``entity`` is a
        facility id (a zone id for zone formulas); ``period`` a code of the template's
        periods.
        """
        ...

    def table(self, template: str) -> Sequence[Sequence[Sequence[float]]]:
        """All values of ``template`` as ``[activity][row][period]``, in plan order."""
        ...


class EquationEvaluator(Protocol):
    """Evaluates every equation of a plan against input data.

    Implementations: :class:`~afiya.domain.pbf.engine.scalar.ScalarEvaluator` (the
    reference, cell by cell) and ``afiya.adapters.compute.NumpyEquationEvaluator``
    (template by template over whole arrays). They must return the same values, and raise
    a :class:`~afiya.domain.pbf.errors.FormulaError` on the same plans.
    """

    def evaluate(self, plan: Plan, inputs: Inputs) -> Results:
        """Evaluate ``plan``; ``inputs`` maps (org unit, period, activity, state) to a value.

        A key absent from ``inputs`` is a missing value: it reads as 0 and its
        ``_is_null`` reads as 1.
        """
        ...


class PbfStore(Protocol):
    """Stores the PBF module's data. List queries of facility data take a scope."""

    async def programme(self, code: str) -> ProgrammeRecord | None: ...

    async def programmes(self) -> list[ProgrammeRecord]: ...

    async def add_programme(self, programme: ProgrammeRecord) -> None: ...

    async def rule_sets(self, programme_id: UUID) -> list[RuleSetVersion]: ...

    async def add_rule_set(self, version: RuleSetVersion) -> None: ...

    async def close_rule_set(self, version: RuleSetVersion) -> None:
        """Save a new end of validity (and the hash that goes with it)."""
        ...

    async def computed_periods(self, rule_set_id: UUID) -> list[str]:
        """Periods of the current computations made with a rule-set version."""
        ...

    async def groups(self) -> list[OrgUnitGroup]: ...

    async def save_group(self, group: OrgUnitGroup) -> OrgUnitGroup: ...

    async def contracts(self, programme_id: UUID, scope: Scope) -> list[Contract]: ...

    async def add_contract(self, contract: Contract) -> None: ...

    async def facilities(self, org_unit_ids: Sequence[UUID]) -> dict[UUID, Facility]:
        """The units with their uid, path and PBF groups."""
        ...

    async def facilities_by_code(self, codes: Sequence[str]) -> dict[str, Facility]: ...

    async def declarations(
        self,
        programme_id: UUID,
        periods: Sequence[str],
        scope: Scope,
        org_unit_id: UUID | None = None,
    ) -> list[Declaration]: ...

    async def declarations_by_key(
        self, programme_id: UUID, keys: Sequence[tuple[UUID, str, str, str]]
    ) -> dict[tuple[UUID, str, str, str], Declaration]: ...

    async def save_declarations(
        self, new: Sequence[Declaration], changed: Sequence[Declaration]
    ) -> None:
        """Insert ``new`` and update ``changed`` (optimistic version) in one flush."""
        ...

    async def checklists(self, programme_id: UUID) -> list[QualityChecklist]: ...

    async def add_checklist(self, checklist: QualityChecklist) -> None: ...

    async def evaluations(
        self, programme_id: UUID, periods: Sequence[str], scope: Scope
    ) -> list[QualityEvaluation]: ...

    async def save_evaluation(self, evaluation: QualityEvaluation) -> QualityEvaluation: ...

    async def counter_verifications(
        self, programme_id: UUID, periods: Sequence[str], scope: Scope
    ) -> list[CounterVerification]: ...

    async def save_counter_verification(self, cv: CounterVerification) -> CounterVerification: ...

    async def adjustments(
        self, programme_id: UUID, apply_periods: Sequence[str], scope: Scope
    ) -> list[Adjustment]: ...

    async def add_adjustment(self, adjustment: Adjustment) -> None: ...

    async def locks(self, programme_id: UUID) -> list[PeriodLock]: ...

    async def save_lock(self, lock: PeriodLock) -> PeriodLock: ...

    async def budget(self, programme_id: UUID, period: str) -> Budget | None: ...

    async def save_budget(self, budget: Budget) -> Budget: ...

    async def store_computation(
        self, computation: Computation, invoices: Sequence[StoredInvoice]
    ) -> None:
        """Store a computation and its invoices; earlier ones of the period stop being current."""
        ...

    async def current_computation(self, programme_id: UUID, period: str) -> Computation | None: ...

    async def invoices(
        self, computation_id: UUID, scope: Scope, org_unit_id: UUID | None = None
    ) -> list[StoredInvoice]: ...

    async def invoice(self, invoice_id: UUID) -> StoredInvoice | None: ...
