"""Performance-based financing (PBF / FBP / FBR): rules, engine, invoices, explanations.

Facilities declare monthly quantities, the verification agency verifies them, a committee
validates them; quality scores come quarterly. Payment rules turn these into what each
facility is paid, split between payers. The rules follow Bluesquare's hesabu / OpenRBF:
formulas expanded into named equations, ordered by dependency, evaluated with Excel-like
functions.
"""

from afiya.domain.pbf.budget import apply_budget
from afiya.domain.pbf.calculation import (
    Calculation,
    OverlayInputs,
    calculate,
    override_constants,
    simulate,
)
from afiya.domain.pbf.decision_tables import DecisionTable
from afiya.domain.pbf.engine.expansion import InputKey, Inputs
from afiya.domain.pbf.engine.plan import Plan
from afiya.domain.pbf.engine.planner import plan_calculation
from afiya.domain.pbf.engine.scalar import ScalarEvaluator, solve
from afiya.domain.pbf.explain import ExplainedValue, Explanation, explain, explain_line
from afiya.domain.pbf.invoices import Invoice, InvoiceLine, PayerPart, build_invoices
from afiya.domain.pbf.model import (
    Activity,
    BudgetEnvelope,
    BudgetPolicy,
    Formula,
    OrgUnit,
    Package,
    PackageKind,
    PayerShare,
    PaymentRule,
    Programme,
    RuleSet,
)
from afiya.domain.pbf.periods import Frequency
from afiya.domain.pbf.ports import EquationEvaluator, Results

__all__ = [
    "Activity",
    "BudgetEnvelope",
    "BudgetPolicy",
    "Calculation",
    "DecisionTable",
    "EquationEvaluator",
    "ExplainedValue",
    "Explanation",
    "Formula",
    "Frequency",
    "InputKey",
    "Inputs",
    "Invoice",
    "InvoiceLine",
    "OrgUnit",
    "OverlayInputs",
    "Package",
    "PackageKind",
    "PayerPart",
    "PayerShare",
    "PaymentRule",
    "Plan",
    "Programme",
    "Results",
    "RuleSet",
    "ScalarEvaluator",
    "apply_budget",
    "build_invoices",
    "calculate",
    "explain",
    "explain_line",
    "override_constants",
    "plan_calculation",
    "simulate",
    "solve",
]
