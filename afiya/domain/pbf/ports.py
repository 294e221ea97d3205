"""Ports of the PBF engine: how a plan is evaluated, and what evaluation returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from afiya.domain.pbf.engine.expansion import Inputs
from afiya.domain.pbf.engine.plan import Plan


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
