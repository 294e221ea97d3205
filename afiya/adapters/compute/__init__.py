"""Compute adapters: the vectorised (numpy) evaluator of the PBF engine."""

from afiya.adapters.compute.numpy_evaluator import NumpyEquationEvaluator, NumpyResults
from afiya.adapters.compute.numpy_inputs import ArrayInputs

__all__ = ["ArrayInputs", "NumpyEquationEvaluator", "NumpyResults"]
