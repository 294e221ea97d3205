"""The PBF rules engine: formula language, planning, expansion and reference evaluation.

Pipeline: :func:`~afiya.domain.pbf.engine.planner.plan_calculation` compiles a rule set
against facilities and periods into a :class:`~afiya.domain.pbf.engine.plan.Plan` of
formula templates over (activity x facility x period) grids; an ``EquationEvaluator``
(the reference :class:`~afiya.domain.pbf.engine.scalar.ScalarEvaluator`, or the numpy
adapter) computes every cell.
"""
