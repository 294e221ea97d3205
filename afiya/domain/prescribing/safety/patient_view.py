"""The patient as the rules see it: current problems, lab values in canonical units,
an eGFR estimate when only creatinine is known, and criteria evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afiya.domain.prescribing.model import LabFact, MedicationFact, PatientContext
from afiya.domain.prescribing.safety.alerts import Evidence
from afiya.domain.prescribing.safety.codes import fmt, normalize_icd10, normalize_unit
from afiya.domain.prescribing.safety.knowledge_base import DrugProfile, KnowledgeBase
from afiya.domain.prescribing.safety.rules import (
    AgeCriterion,
    Analyte,
    BreastfeedingCriterion,
    ConditionCriterion,
    Criterion,
    LabCriterion,
    PregnancyCriterion,
    SexCriterion,
)

EGFR = "egfr"
CREATININE = "creatinine"
_UMOL_PER_MG_DL_CREATININE = 88.42


def ckd_epi_2021(creatinine_mg_dl: float, age_years: float, female: bool) -> float:
    """eGFR (mL/min/1.73 m2) by the race-free CKD-EPI 2021 creatinine equation."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    egfr: float = 142 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age_years
    return egfr * 1.012 if female else egfr


def bedside_schwartz(creatinine_mg_dl: float, height_cm: float) -> float:
    """eGFR (mL/min/1.73 m2) for children 1 to 17 years (Schwartz 2009)."""
    return 0.413 * height_cm / creatinine_mg_dl


@dataclass(frozen=True, slots=True)
class LabValue:
    """A result converted to its analyte's unit; ``derived_from`` marks an estimate."""

    analyte: Analyte
    value: float
    at: datetime
    fact: LabFact
    derivation: str | None = None

    def evidence(self) -> Evidence:
        display = f"{self.analyte.symbol} {fmt(self.value)} {self.analyte.unit}"
        code = self.fact.loinc
        if self.derivation:
            display += f" ({self.derivation})"
            code = f"{self.analyte.id}:{self.derivation}"
        return Evidence("lab", code, display, self.value, self.analyte.unit)


class PatientView:
    """Derived facts about one patient for one check (built once per ``check``)."""

    def __init__(self, context: PatientContext, kb: KnowledgeBase) -> None:
        self.context = context
        self.kb = kb
        self.conditions = [(normalize_icd10(c.code), c) for c in context.conditions if c.is_current]
        self._labs: dict[str, list[LabValue]] = {}
        for fact in context.labs:
            known = kb.analyte_for_loinc(fact.loinc)
            if known is None:
                continue
            analyte, factors = known
            factor = factors.get(normalize_unit(fact.unit))
            if factor is None:  # a unit we cannot convert is not guessed at
                continue
            value = LabValue(analyte, fact.value * factor, fact.at, fact)
            self._labs.setdefault(analyte.id, []).append(value)
        self._add_egfr_estimates()
        for values in self._labs.values():
            values.sort(key=lambda v: v.at, reverse=True)
        self._medications: list[tuple[MedicationFact, DrugProfile]] | None = None

    @property
    def medications(self) -> list[tuple[MedicationFact, DrugProfile]]:
        if self._medications is None:
            self._medications = [(m, self.kb.profile(m.product)) for m in self.context.medications]
        return self._medications

    def _add_egfr_estimates(self) -> None:
        egfr = self.kb.analytes.get(EGFR)
        creatinine = self._labs.get(CREATININE, [])
        ctx = self.context
        if egfr is None or not creatinine or ctx.age is None:
            return
        years = ctx.age.years
        for value in creatinine:
            mg_dl = value.value / _UMOL_PER_MG_DL_CREATININE
            if mg_dl <= 0:
                continue
            if years >= 18 and ctx.sex in ("female", "male"):
                estimate = ckd_epi_2021(mg_dl, years, ctx.sex == "female")
                how = "CKD-EPI 2021"
            elif 1 <= years < 18 and ctx.height_cm:
                estimate = bedside_schwartz(mg_dl, ctx.height_cm)
                how = "Schwartz"
            else:
                continue
            self._labs.setdefault(EGFR, []).append(
                LabValue(egfr, estimate, value.at, value.fact, derivation=how)
            )

    def recent(self, analyte: str, within_hours: float) -> list[LabValue]:
        """Values of ``analyte`` at most ``within_hours`` old, newest first."""
        now = self.context.as_of
        return [
            v
            for v in self._labs.get(analyte, ())
            if (now - v.at).total_seconds() <= within_hours * 3600
        ]

    # -- criteria -------------------------------------------------------------------

    def evaluate(self, criterion: Criterion) -> tuple[Evidence, ...] | None:
        """The evidence that ``criterion`` holds, or None when it does not."""
        ctx = self.context
        if isinstance(criterion, ConditionCriterion):
            ranges = self.kb.icd10_ranges(criterion)
            found = tuple(
                Evidence("condition", fact.code, f"{fact.code} {fact.display or ''}".strip())
                for code, fact in self.conditions
                if any(r.matches(code) for r in ranges)
            )
            return found or None
        if isinstance(criterion, LabCriterion):
            return self._evaluate_lab(criterion)
        if isinstance(criterion, AgeCriterion):
            if ctx.age is None:
                return None
            days = ctx.age.days
            if criterion.min_days is not None and days < criterion.min_days:
                return None
            if criterion.below_days is not None and days >= criterion.below_days:
                return None
            return (age_evidence(days, ctx.age.completed_years),)
        if isinstance(criterion, PregnancyCriterion):
            return self._evaluate_pregnancy(criterion)
        if isinstance(criterion, BreastfeedingCriterion):
            if not ctx.breastfeeding:
                return None
            return (Evidence("breastfeeding", "breastfeeding", "breastfeeding"),)
        if isinstance(criterion, SexCriterion):
            return (Evidence("sex", ctx.sex, ctx.sex),) if ctx.sex == criterion.sex else None
        raise TypeError(criterion)  # pragma: no cover - the union is closed

    def _evaluate_lab(self, criterion: LabCriterion) -> tuple[Evidence, ...] | None:
        values = self.recent(criterion.analyte, criterion.within_hours)
        if criterion.use == "latest":
            values = values[:1]
        for value in values:
            if criterion.below is not None and not value.value < criterion.below:
                continue
            if criterion.at_least is not None and not value.value >= criterion.at_least:
                continue
            if criterion.above is not None and not value.value > criterion.above:
                continue
            return (value.evidence(),)
        return None

    def _evaluate_pregnancy(self, criterion: PregnancyCriterion) -> tuple[Evidence, ...] | None:
        ctx = self.context
        if not ctx.pregnant:
            return None
        weeks = ctx.gestational_weeks
        if weeks is None:
            if not criterion.when_weeks_unknown:
                return None
            return (Evidence("pregnancy", "pregnant", "pregnant, term unknown"),)
        if criterion.min_weeks is not None and weeks < criterion.min_weeks:
            return None
        if criterion.below_weeks is not None and weeks >= criterion.below_weeks:
            return None
        return (Evidence("pregnancy", "pregnant", f"pregnant {weeks} wk", float(weeks), "wk"),)


def age_evidence(days: int, completed_years: int) -> Evidence:
    """``20 d`` under two years of age, ``8 y`` from then on."""
    if days < 730:
        return Evidence("age", str(days), f"{days} d", float(days), "d")
    return Evidence("age", str(days), f"{completed_years} y", float(completed_years), "y")
