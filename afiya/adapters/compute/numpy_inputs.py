"""Input data as dense numpy arrays, and their alignment with a plan's axes."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from afiya.domain.pbf.engine.expansion import InputKey, Inputs
from afiya.domain.pbf.engine.plan import Plan
from afiya.domain.pbf.errors import PlanningError
from afiya.domain.shared.i18n import N_, Message

Array = NDArray[np.float64]


class ArrayInputs(Mapping[InputKey, float]):
    """Input values as one ``(activity, org unit, period)`` array per state; NaN = missing.

    The bulk path: a repository (or the benchmark) fills arrays straight from a columnar
    query, without building millions of Python tuples. It is also a read-only
    ``Mapping[(org_unit_id, period, activity_code, state), float]``, so the reference
    evaluator and explanations accept it unchanged.
    """

    def __init__(
        self,
        activities: Sequence[str],
        units: Sequence[str],
        periods: Sequence[str],
        states: Mapping[str, Array],
    ) -> None:
        self.activities = tuple(activities)
        self.units = tuple(units)
        self.periods = tuple(periods)
        shape = (len(self.activities), len(self.units), len(self.periods))
        for state, values in states.items():
            if values.shape != shape:
                raise ValueError(f"{state}: shape {values.shape}, expected {shape}")
        self.states = dict(states)
        self._activity = {code: i for i, code in enumerate(self.activities)}
        self._unit = {code: i for i, code in enumerate(self.units)}
        self._period = {code: i for i, code in enumerate(self.periods)}

    def __getitem__(self, key: InputKey) -> float:
        unit, period, activity, state = key
        try:
            values = self.states[state]
            value = float(values[self._activity[activity], self._unit[unit], self._period[period]])
        except KeyError:
            raise KeyError(key) from None
        if math.isnan(value):
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[InputKey]:
        for state, values in self.states.items():
            for a, u, p in np.argwhere(~np.isnan(values)):
                yield self.units[u], self.periods[p], self.activities[a], state

    def __len__(self) -> int:
        return int(sum(np.count_nonzero(~np.isnan(v)) for v in self.states.values()))

    def aligned(self, plan: Plan, state: str, frequency: str) -> Array:
        """The state's values on the plan's axes for ``frequency`` (NaN where missing)."""
        periods = plan.input_periods.get(frequency, ())
        result = np.full((len(plan.activities), len(plan.units), len(periods)), np.nan)
        values = self.states.get(state)
        if values is None or not periods:
            return result
        a = np.array([self._activity.get(code, -1) for code in plan.activities])
        u = np.array([self._unit.get(code, -1) for code in plan.units])
        p = np.array([self._period.get(code, -1) for code in periods])
        if (a >= 0).all() and (u >= 0).all() and (p >= 0).all():
            gathered: Array = values[np.ix_(a, u, p)]
            return gathered
        ai, ui, pi = np.flatnonzero(a >= 0), np.flatnonzero(u >= 0), np.flatnonzero(p >= 0)
        result[np.ix_(ai, ui, pi)] = values[np.ix_(a[ai], u[ui], p[pi])]
        return result


def _frequency_of(period: str) -> str:
    return "quarterly" if "Q" in period else "monthly"


def tensors_from_mapping(
    plan: Plan, inputs: Inputs, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], Array]:
    """Arrays ``(activity, unit, period)`` (NaN = missing) for each wanted (state, frequency).

    One pass over the mapping; values for states, activities, units or periods the plan
    does not read are skipped.

    Raises:
        PlanningError: when a value read is not a finite number.
    """
    activity = {code: i for i, code in enumerate(plan.activities)}
    unit = {code: i for i, code in enumerate(plan.units)}
    period = {
        frequency: {code: i for i, code in enumerate(codes)}
        for frequency, codes in plan.input_periods.items()
    }
    columns: dict[tuple[str, str], tuple[list[int], list[int], list[int], list[float]]] = {
        key: ([], [], [], []) for key in wanted
    }
    for (unit_id, period_code, activity_code, state), raw in inputs.items():
        target = columns.get((state, _frequency_of(period_code)))
        if target is None:
            continue
        a = activity.get(activity_code)
        u = unit.get(unit_id)
        p = period.get(_frequency_of(period_code), {}).get(period_code)
        if a is None or u is None or p is None:
            continue
        target[0].append(a)
        target[1].append(u)
        target[2].append(p)
        target[3].append(float(raw))
    tensors: dict[tuple[str, str], Array] = {}
    for (state, frequency), (a_list, u_list, p_list, v_list) in columns.items():
        shape = (len(plan.activities), len(plan.units), len(plan.input_periods.get(frequency, ())))
        tensor = np.full(shape, np.nan)
        values = np.array(v_list, dtype=np.float64)
        if not np.isfinite(values).all():
            bad = v_list[int(np.flatnonzero(~np.isfinite(values))[0])]
            raise PlanningError(
                Message(N_("The input value {value} is not a number."), {"value": str(bad)})
            )
        index = tuple(np.array(axis, dtype=np.int64) for axis in (a_list, u_list, p_list))
        tensor[index] = values
        tensors[(state, frequency)] = tensor
    return tensors
