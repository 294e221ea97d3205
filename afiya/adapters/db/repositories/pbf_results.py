"""SQL queries of the PBF module, second half: quality evaluations, counter-verifications,
adjustments, period locks, budgets, computations and invoices (mixed into
:class:`~afiya.adapters.db.repositories.pbf.SqlPbfRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.pbf import (
    PbfAdjustmentRow,
    PbfBudgetRow,
    PbfComputationRow,
    PbfCounterVerificationRow,
    PbfInvoiceRow,
    PbfPeriodLockRow,
    PbfQualityChecklistRow,
    PbfQualityEvaluationRow,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.pbf.model import BudgetPolicy
from afiya.domain.pbf.records import (
    Adjustment,
    Budget,
    ChecklistItem,
    ChecklistSection,
    Computation,
    CounterVerification,
    PeriodLock,
    QualityChecklist,
    QualityEvaluation,
    StoredInvoice,
)
from afiya.domain.shared.money import currency, quantize

_CHUNK = 500


def _checklist(row: PbfQualityChecklistRow) -> QualityChecklist:
    return QualityChecklist(
        row.id,
        row.programme_id,
        row.code,
        row.name,
        row.package,
        tuple(
            ChecklistSection(
                s["code"],
                s["name"],
                tuple(
                    ChecklistItem(i["code"], i["label"], Decimal(i["max_score"]))
                    for i in s["items"]
                ),
            )
            for s in row.sections
        ),
    )


def _invoice(row: PbfInvoiceRow) -> StoredInvoice:
    money = currency(row.currency)
    return StoredInvoice(
        row.id,
        row.computation_id,
        row.payment_rule,
        row.org_unit_id,
        row.org_unit_path,
        row.period,
        row.currency,
        quantize(row.computed_total, money),
        quantize(row.budget_adjustment, money),
        quantize(row.carried_adjustments, money),
        quantize(row.total, money),
        tuple(row.payers),
        tuple(row.lines),
        row.rule_set_hash,
    )


def _computation(row: PbfComputationRow) -> Computation:
    return Computation(
        row.id,
        row.programme_id,
        row.period,
        row.rule_set_id,
        row.rule_set_hash,
        row.current,
        row.invoice_count,
        row.total,
        row.created_by,
        row.created_at,
    )


class PbfResultQueries:
    _session: AsyncSession

    async def _all(self, stmt: Any) -> list[Any]:
        return list((await self._session.execute(stmt)).scalars())

    # quality and counter-verification ----------------------------------------------------
    async def checklists(self, programme_id: UUID) -> list[QualityChecklist]:
        rows = await self._all(
            select(PbfQualityChecklistRow).where(
                PbfQualityChecklistRow.programme_id == programme_id,
                PbfQualityChecklistRow.deleted_at.is_(None),
            )
        )
        return [_checklist(r) for r in rows]

    async def add_checklist(self, checklist: QualityChecklist) -> None:
        self._session.add(
            PbfQualityChecklistRow(
                id=checklist.id,
                programme_id=checklist.programme_id,
                code=checklist.code,
                name=checklist.name,
                package=checklist.package,
                sections=[
                    {
                        "code": s.code,
                        "name": s.name,
                        "items": [
                            {
                                "code": i.code,
                                "label": i.label,
                                "max_score": format(i.max_score, "f"),
                            }
                            for i in s.items
                        ],
                    }
                    for s in checklist.sections
                ],
            )
        )
        await self._session.flush()

    async def evaluations(
        self, programme_id: UUID, periods: Sequence[str], scope: Scope
    ) -> list[QualityEvaluation]:
        rows = await self._all(
            select(PbfQualityEvaluationRow).where(
                PbfQualityEvaluationRow.programme_id == programme_id,
                PbfQualityEvaluationRow.period.in_(list(periods)),
                PbfQualityEvaluationRow.deleted_at.is_(None),
                scope_clause(PbfQualityEvaluationRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
        )
        return [
            QualityEvaluation(
                r.id,
                r.programme_id,
                r.checklist_id,
                r.org_unit_id,
                r.org_unit_path,
                r.period,
                {k: Decimal(v) for k, v in r.scores.items()},
                r.total,
                r.max_total,
                r.evaluated_by,
                r.evaluated_at,
                r.version,
            )
            for r in rows
        ]

    async def save_evaluation(self, evaluation: QualityEvaluation) -> QualityEvaluation:
        row = (
            await self._session.execute(
                select(PbfQualityEvaluationRow).where(
                    PbfQualityEvaluationRow.checklist_id == evaluation.checklist_id,
                    PbfQualityEvaluationRow.org_unit_id == evaluation.org_unit_id,
                    PbfQualityEvaluationRow.period == evaluation.period,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            row = PbfQualityEvaluationRow(
                id=evaluation.id,
                programme_id=evaluation.programme_id,
                checklist_id=evaluation.checklist_id,
                org_unit_id=evaluation.org_unit_id,
                org_unit_path=evaluation.org_unit_path,
                period=evaluation.period,
            )
            self._session.add(row)
        row.scores = {k: format(v, "f") for k, v in evaluation.scores.items()}
        row.total = evaluation.total
        row.max_total = evaluation.max_total
        row.evaluated_by = evaluation.evaluated_by
        row.evaluated_at = evaluation.evaluated_at
        row.deleted_at = None
        await self._session.flush()
        return replace(evaluation, id=row.id, version=row.version)

    async def counter_verifications(
        self, programme_id: UUID, periods: Sequence[str], scope: Scope
    ) -> list[CounterVerification]:
        rows = await self._all(
            select(PbfCounterVerificationRow).where(
                PbfCounterVerificationRow.programme_id == programme_id,
                PbfCounterVerificationRow.period.in_(list(periods)),
                PbfCounterVerificationRow.deleted_at.is_(None),
                scope_clause(PbfCounterVerificationRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
        )
        return [
            CounterVerification(
                r.id,
                r.programme_id,
                r.org_unit_id,
                r.org_unit_path,
                r.period,
                r.package,
                r.activity,
                r.sampled,
                r.found,
                r.confirmed,
                r.recorded_by,
                r.recorded_at,
                r.version,
            )
            for r in rows
        ]

    async def save_counter_verification(self, cv: CounterVerification) -> CounterVerification:
        row = (
            await self._session.execute(
                select(PbfCounterVerificationRow).where(
                    PbfCounterVerificationRow.programme_id == cv.programme_id,
                    PbfCounterVerificationRow.org_unit_id == cv.org_unit_id,
                    PbfCounterVerificationRow.period == cv.period,
                    PbfCounterVerificationRow.package == cv.package,
                    PbfCounterVerificationRow.activity == cv.activity,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            row = PbfCounterVerificationRow(
                id=cv.id,
                programme_id=cv.programme_id,
                org_unit_id=cv.org_unit_id,
                org_unit_path=cv.org_unit_path,
                period=cv.period,
                package=cv.package,
                activity=cv.activity,
            )
            self._session.add(row)
        row.sampled, row.found, row.confirmed = cv.sampled, cv.found, cv.confirmed
        row.recorded_by, row.recorded_at = cv.recorded_by, cv.recorded_at
        await self._session.flush()
        return replace(cv, id=row.id, version=row.version)

    # adjustments, locks, budgets ---------------------------------------------------------
    async def adjustments(
        self, programme_id: UUID, apply_periods: Sequence[str], scope: Scope
    ) -> list[Adjustment]:
        rows = await self._all(
            select(PbfAdjustmentRow).where(
                PbfAdjustmentRow.programme_id == programme_id,
                PbfAdjustmentRow.apply_period.in_(list(apply_periods)),
                PbfAdjustmentRow.deleted_at.is_(None),
                scope_clause(PbfAdjustmentRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
        )
        return [
            Adjustment(
                r.id,
                r.programme_id,
                r.org_unit_id,
                r.org_unit_path,
                r.payment_rule,
                r.origin_period,
                r.apply_period,
                r.amount,
                r.reason,
                r.created_by,
                r.created_at,
            )
            for r in rows
        ]

    async def add_adjustment(self, adjustment: Adjustment) -> None:
        self._session.add(
            PbfAdjustmentRow(
                id=adjustment.id,
                programme_id=adjustment.programme_id,
                org_unit_id=adjustment.org_unit_id,
                org_unit_path=adjustment.org_unit_path,
                payment_rule=adjustment.payment_rule,
                origin_period=adjustment.origin_period,
                apply_period=adjustment.apply_period,
                amount=adjustment.amount,
                reason=adjustment.reason,
            )
        )
        await self._session.flush()

    async def locks(self, programme_id: UUID) -> list[PeriodLock]:
        rows = await self._all(
            select(PbfPeriodLockRow).where(PbfPeriodLockRow.programme_id == programme_id)
        )
        return [
            PeriodLock(
                r.id,
                r.programme_id,
                r.period,
                r.locked,
                r.locked_by,
                r.locked_at,
                r.reopened_by,
                r.reopened_at,
                r.reason,
                r.version,
            )
            for r in rows
        ]

    async def save_lock(self, lock: PeriodLock) -> PeriodLock:
        row = await self._session.get(PbfPeriodLockRow, lock.id)
        if row is None:
            row = PbfPeriodLockRow(id=lock.id, programme_id=lock.programme_id, period=lock.period)
            self._session.add(row)
        for f in ("locked", "locked_by", "locked_at", "reopened_by", "reopened_at", "reason"):
            setattr(row, f, getattr(lock, f))
        await self._session.flush()
        return replace(lock, version=row.version)

    async def budget(self, programme_id: UUID, period: str) -> Budget | None:
        row = (
            await self._session.execute(
                select(PbfBudgetRow).where(
                    PbfBudgetRow.programme_id == programme_id,
                    PbfBudgetRow.period == period,
                    PbfBudgetRow.deleted_at.is_(None),
                )
            )
        ).scalar_one_or_none()
        return (
            Budget(row.id, row.programme_id, row.period, row.amount, BudgetPolicy(row.policy))
            if row
            else None
        )

    async def save_budget(self, budget: Budget) -> Budget:
        row = await self._session.get(PbfBudgetRow, budget.id)
        if row is None:
            row = PbfBudgetRow(id=budget.id, programme_id=budget.programme_id, period=budget.period)
            self._session.add(row)
        row.amount = budget.amount
        row.policy = budget.policy.value
        await self._session.flush()
        return budget

    # computations and invoices -----------------------------------------------------------
    async def store_computation(
        self, computation: Computation, invoices: Sequence[StoredInvoice]
    ) -> None:
        for previous in await self._all(
            select(PbfComputationRow).where(
                PbfComputationRow.programme_id == computation.programme_id,
                PbfComputationRow.period == computation.period,
                PbfComputationRow.current.is_(True),
            )
        ):
            previous.current = False
        self._session.add(
            PbfComputationRow(
                id=computation.id,
                programme_id=computation.programme_id,
                period=computation.period,
                rule_set_id=computation.rule_set_id,
                rule_set_hash=computation.rule_set_hash,
                current=True,
                invoice_count=computation.invoice_count,
                total=computation.total,
            )
        )
        await self._session.flush()
        self._session.add_all(
            PbfInvoiceRow(
                id=i.id,
                computation_id=i.computation_id,
                payment_rule=i.payment_rule,
                org_unit_id=i.org_unit_id,
                org_unit_path=i.org_unit_path,
                period=i.period,
                currency=i.currency,
                computed_total=i.computed_total,
                budget_adjustment=i.budget_adjustment,
                carried_adjustments=i.carried_adjustments,
                total=i.total,
                payers=list(i.payers),
                lines=list(i.lines),
                rule_set_hash=i.rule_set_hash,
            )
            for i in invoices
        )
        await self._session.flush()

    async def current_computation(self, programme_id: UUID, period: str) -> Computation | None:
        row = (
            await self._session.execute(
                select(PbfComputationRow).where(
                    PbfComputationRow.programme_id == programme_id,
                    PbfComputationRow.period == period,
                    PbfComputationRow.current.is_(True),
                )
            )
        ).scalar_one_or_none()
        return _computation(row) if row else None

    async def invoices(
        self, computation_id: UUID, scope: Scope, org_unit_id: UUID | None = None
    ) -> list[StoredInvoice]:
        stmt = select(PbfInvoiceRow).where(
            PbfInvoiceRow.computation_id == computation_id,
            scope_clause(PbfInvoiceRow.org_unit_path, scope),  # type: ignore[arg-type]
        )
        if org_unit_id is not None:
            stmt = stmt.where(PbfInvoiceRow.org_unit_id == org_unit_id)
        stmt = stmt.order_by(
            PbfInvoiceRow.org_unit_path, PbfInvoiceRow.payment_rule, PbfInvoiceRow.period
        )
        return [_invoice(r) for r in await self._all(stmt)]

    async def invoice(self, invoice_id: UUID) -> StoredInvoice | None:
        row = await self._session.get(PbfInvoiceRow, invoice_id)
        return _invoice(row) if row else None
