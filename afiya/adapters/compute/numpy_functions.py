"""Vectorised twins of :mod:`afiya.domain.pbf.engine.functions`, operation for operation.

Each function performs, on whole arrays, the same correctly rounded IEEE operations in the
same order as the scalar definition, so results are bit-for-bit equal. Where the scalar
evaluator raises an error, the cell becomes NaN ("poison"); NaN then propagates through
every operation (comparisons included) except the branch IF does not take, exactly as the
error would. The evaluator turns a poisoned result back into the precise error by
re-evaluating that one cell with the reference evaluator.

A list of values is a Python list of ``(values, valid)`` pairs; ``valid`` is a boolean
array (or ``None`` when every cell has the element). Valid elements always come first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from afiya.domain.pbf.engine.functions import (
    EXACT_INTEGER_LIMIT,
    INTEGER_POWER_LIMIT,
    MONTH_NUMBER_RANGE,
    POWERS_OF_TEN,
    SNAP_TOLERANCE,
)

Array = NDArray[np.float64]
Item = tuple[Array, NDArray[np.bool_] | None]
ListValue = list[Item]
Arg = Array | ListValue

_POWERS = np.array(POWERS_OF_TEN)
_DAYS = np.array([31.0, 28.0, 31.0, 30.0, 31.0, 30.0, 31.0, 31.0, 30.0, 31.0, 30.0, 31.0])


def clean(x: Array) -> Array:
    """Poison every non-finite value (the scalar evaluator raises on those)."""
    return np.where(np.isfinite(x), x, np.nan)


def poison(result: Array, *args: Array) -> Array:
    """``result``, NaN wherever one of ``args`` is NaN."""
    mask = np.zeros(np.shape(result), dtype=bool)
    for arg in args:
        mask = mask | np.isnan(arg)
    return np.where(mask, np.nan, result)


def snap(v: Array) -> Array:
    nearest = np.rint(v)
    return np.where(np.abs(v - nearest) <= np.abs(v) * SNAP_TOLERANCE, nearest, v)


def _safe_pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):
        return math.nan


_pow = np.frompyfunc(_safe_pow, 2, 1)


def power(a: Array, b: Array) -> Array:
    """``a ^ b``: exact repeated squaring for integer exponents, libm ``pow`` otherwise."""
    a, b = (np.array(x, dtype=np.float64) for x in np.broadcast_arrays(a, b))
    out = np.full(a.shape, np.nan)
    integral = (b == np.floor(b)) & (np.abs(b) < INTEGER_POWER_LIMIT)
    if integral.any():
        base, exponent = a[integral], b[integral]
        n = np.abs(exponent).astype(np.int64)
        result, factor = np.ones_like(base), base.copy()
        while n.any():
            result = np.where((n & 1).astype(bool), result * factor, result)
            n >>= 1
            factor = factor * factor
        negative = exponent < 0
        zero = negative & (result == 0)
        result = np.where(negative, 1.0 / np.where(zero, 1.0, result), result)
        out[integral] = np.where(zero, np.nan, result)
    fractional = ~integral & ~np.isnan(a) & ~np.isnan(b)
    if fractional.any():
        base, exponent = a[fractional], b[fractional]
        allowed = (base > 0) | ((base == 0) & (exponent > 0))
        values = np.full(base.shape, np.nan)
        if allowed.any():
            values[allowed] = _pow(base[allowed], exponent[allowed]).astype(np.float64)
        out[fractional] = values
    return poison(clean(out), a, b)


def binary(op: str, a: Array, b: Array) -> Array:
    if op == "+":
        return clean(a + b)
    if op == "-":
        return clean(a - b)
    if op == "*":
        return clean(a * b)
    if op == "/":
        return clean(np.where(b == 0, np.nan, a / b))
    if op == "^":
        return power(a, b)
    compare: dict[str, Callable[[Array, Array], NDArray[np.bool_]]] = {
        "=": np.equal,
        "<>": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }
    return poison(compare[op](a, b).astype(np.float64), a, b)


def _items(args: Sequence[Arg]) -> ListValue:
    items: ListValue = []
    for arg in args:
        if isinstance(arg, list):
            items.extend(arg)
        else:
            items.append((arg, None))
    return items


def _scalars(args: Sequence[Arg]) -> list[Array]:
    out = [a for a in args if not isinstance(a, list)]
    assert len(out) == len(args)
    return out


def _count(items: ListValue) -> Array | float:
    count: Array | float = 0.0
    for _, valid in items:
        count = count + (1.0 if valid is None else valid.astype(np.float64))
    return count


def _total(items: ListValue) -> Array:
    acc: Array = np.float64(0.0)  # type: ignore[assignment]
    for values, valid in items:
        acc = acc + (values if valid is None else np.where(valid, values, 0.0))
    return acc


def _extreme(items: ListValue, pick: Callable[[Array, Array], Array], start: float) -> Array:
    acc: Array = np.float64(start)  # type: ignore[assignment]
    for values, valid in items:
        acc = pick(acc, values if valid is None else np.where(valid, values, start))
    return np.where(_count(items) == 0, 0.0, acc)


def _stdevp(items: ListValue) -> Array:
    count = _count(items)
    mean = _total(items) / count
    acc: Array = np.float64(0.0)  # type: ignore[assignment]
    for values, valid in items:
        deviation = values - mean
        square = deviation * deviation
        acc = acc + (square if valid is None else np.where(valid, square, 0.0))
    return clean(np.where(count == 0, np.nan, np.sqrt(clean(acc) / count)))


def excel_round(x: Array, places: Array) -> Array:
    digits = np.clip(np.trunc(np.nan_to_num(places)), -22, 22)
    scale = _POWERS[np.abs(digits).astype(np.int64)]
    magnitude = np.abs(x)
    scaled = np.where(digits >= 0, magnitude * scale, magnitude / scale)
    whole = np.where(scaled >= EXACT_INTEGER_LIMIT, scaled, np.floor(snap(scaled + 0.5)))
    result = np.where(digits >= 0, whole / scale, whole * scale)
    return poison(clean(np.copysign(result, x)), x, places)


def to_multiple(x: Array, significance: Array, up: bool) -> Array:
    quotient = clean(np.where(significance == 0, np.nan, x / significance))
    snapped = snap(quotient)
    whole = np.ceil(snapped) if up else np.floor(snapped)
    return clean(whole * significance)


def _access(items: ListValue, index: Array) -> Array:
    result: Array = np.full(np.shape(index), np.nan)
    broken = np.isnan(index)
    for i, (values, valid) in enumerate(items):
        present = np.ones(np.shape(values), dtype=bool) if valid is None else valid
        result = np.where(present & (index == i), values, result)
        broken = broken | (present & np.isnan(values))
    return np.where(broken, np.nan, result)


def _score_table(x: list[Array]) -> Array:
    value, rows, result = x[0], x[1:-1], x[-1]
    for i in range(len(rows) - 3, -1, -3):
        hit = (rows[i] <= value) & (value < rows[i + 1])
        result = np.where(hit, rows[i + 2], result)
    return poison(result, *x)


def _days_in_month(x: Array) -> Array:
    low, high = MONTH_NUMBER_RANGE
    integral = (x == np.floor(x)) & (x >= low) & (x <= high)
    number = np.where(integral, x, 101.0)
    month = np.mod(number, 100.0)
    year = (number - month) / 100.0
    valid = integral & (month >= 1) & (month <= 12)
    days = _DAYS[np.clip(month - 1, 0, 11).astype(np.int64)]
    leap = (np.mod(year, 4.0) == 0) & ((np.mod(year, 100.0) != 0) | (np.mod(year, 400.0) == 0))
    days = np.where((month == 2) & leap, 29.0, days)
    return np.where(valid, days, np.nan)


def apply(name: str, args: Sequence[Arg]) -> Array:
    """Evaluate function ``name`` (IF is handled by the evaluator) on evaluated arguments."""
    if name in {"SUM", "AVG", "MIN", "MAX", "STDEVP"}:
        items = _items(args)
        if name == "SUM":
            return clean(_total(items))
        if name == "AVG":
            count = _count(items)
            return clean(np.where(count == 0, np.nan, _total(items) / count))
        if name == "MIN":
            return _extreme(items, np.minimum, math.inf)
        if name == "MAX":
            return _extreme(items, np.maximum, -math.inf)
        return _stdevp(items)
    if name == "ACCESS":
        first, index = args
        assert not isinstance(index, list)
        return _access(first if isinstance(first, list) else [(first, None)], index)
    x = _scalars(args)
    if name == "AND":
        result = np.float64(1.0)
        for v in x:
            result = result * (v != 0)
        return poison(np.asarray(result, dtype=np.float64), *x)
    if name == "OR":
        hit = np.zeros(np.broadcast_shapes(*(np.shape(v) for v in x)), dtype=bool)
        for v in x:
            hit = hit | (v != 0)
        return poison(hit.astype(np.float64), *x)
    if name == "NOT":
        return poison((x[0] == 0).astype(np.float64), x[0])
    if name == "ABS":
        return np.abs(x[0])
    if name == "SQRT":
        return np.where(x[0] < 0, np.nan, np.sqrt(np.where(x[0] < 0, 0.0, x[0])))
    if name == "ROUND":
        return excel_round(x[0], x[1] if len(x) > 1 else np.float64(0.0))  # type: ignore[arg-type]
    if name in {"FLOOR", "CEILING"}:
        significance = x[1] if len(x) > 1 else np.float64(1.0)
        return to_multiple(x[0], significance, up=name == "CEILING")  # type: ignore[arg-type]
    if name == "SAFE_DIV":
        return poison(clean(np.where(x[1] == 0, 0.0, x[0] / x[1])), x[0], x[1])
    if name == "SCORE_TABLE":
        return _score_table(x)
    if name == "CAL_DAYS_IN_MONTH":
        return _days_in_month(x[0])
    raise AssertionError(name)
