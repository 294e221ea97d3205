"""The functions of the formula language: their arity and their exact scalar meaning.

Numbers are IEEE-754 doubles, as in hesabu. To keep the reference evaluator and the
vectorised one bit-for-bit identical, every function is defined here as a fixed sequence
of correctly rounded operations (+ - * / sqrt floor), never through a transcendental
library call whose last bit varies by CPU (SIMD ``pow`` does). Any result that is not a
finite number is an error, never a silent NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from afiya.domain.pbf.errors import DivisionByZero, InvalidOperation
from afiya.domain.pbf.periods import days_in_month
from afiya.domain.shared.i18n import N_, Message

Value = float | list[float]

#: Two doubles closer than this fraction of their magnitude are treated as equal when
#: rounding, so that ROUND(2.675, 2) gives 2.68 as a person (and Excel) expects, although
#: the double nearest 2.675 is slightly below it.
SNAP_TOLERANCE = 2.0**-50

#: Exact powers of ten (every one up to 1e22 is representable).
POWERS_OF_TEN = tuple(float(10**k) for k in range(23))

#: Integer exponents below this use exact repeated squaring; others use ``math.pow``.
INTEGER_POWER_LIMIT = 2.0**31

#: Past this magnitude every double is an integer: rounding must leave it alone.
EXACT_INTEGER_LIMIT = 2.0**52


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Name, number of arguments and which arguments may be lists of values."""

    name: str
    min_args: int
    max_args: int | None
    arrays: str = "none"  # "none", "all" (every argument) or "first"
    step: int = 1  # SCORE_TABLE: value, then triples, then a default

    def accepts(self, count: int) -> bool:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            return False
        return (count - self.min_args) % self.step == 0

    def expected(self) -> str:
        if self.step != 1:
            return f"{self.min_args} + {self.step}n"
        if self.max_args is None:
            return f"{self.min_args}+"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args}-{self.max_args}"

    def allows_array(self, position: int) -> bool:
        return self.arrays == "all" or (self.arrays == "first" and position == 0)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("IF", 3, 3),
        FunctionSpec("AND", 1, None),
        FunctionSpec("OR", 1, None),
        FunctionSpec("NOT", 1, 1),
        FunctionSpec("SUM", 1, None, "all"),
        FunctionSpec("AVG", 1, None, "all"),
        FunctionSpec("MIN", 1, None, "all"),
        FunctionSpec("MAX", 1, None, "all"),
        FunctionSpec("STDEVP", 1, None, "all"),
        FunctionSpec("ABS", 1, 1),
        FunctionSpec("SQRT", 1, 1),
        FunctionSpec("ROUND", 1, 2),
        FunctionSpec("FLOOR", 1, 2),
        FunctionSpec("CEILING", 1, 2),
        FunctionSpec("SAFE_DIV", 2, 2),
        FunctionSpec("SCORE_TABLE", 5, None, step=3),
        FunctionSpec("ACCESS", 2, 2, "first"),
        FunctionSpec("CAL_DAYS_IN_MONTH", 1, 1),
        FunctionSpec("ARRAY", 0, None, "all"),
    )
}

ARRAY_FUNCTIONS = frozenset(name for name, spec in FUNCTIONS.items() if spec.arrays != "none")


def _invalid(msgid: str, **params: object) -> InvalidOperation:
    return InvalidOperation(Message(msgid, params))


def too_large() -> InvalidOperation:
    return _invalid(N_("A result is too large to compute, in {equation}."))


def division_by_zero() -> DivisionByZero:
    return DivisionByZero(Message(N_("Division by zero in {equation}.")))


def finite(value: float) -> float:
    """``value`` when it is a finite number, else the "too large" error."""
    if not math.isfinite(value):
        raise too_large()
    return value


def snap(value: float) -> float:
    """The nearest integer when ``value`` is within representation error of it."""
    nearest = float(round(value))
    return nearest if abs(value - nearest) <= abs(value) * SNAP_TOLERANCE else value


def _digits(places: float) -> int:
    return max(-22, min(22, int(places)))


def excel_round(value: float, places: float = 0.0) -> float:
    """Round half away from zero to ``places`` decimals (negative: tens, hundreds...)."""
    digits = _digits(places)
    scale = POWERS_OF_TEN[abs(digits)]
    scaled = abs(value) * scale if digits >= 0 else abs(value) / scale
    if not math.isfinite(scaled):
        raise too_large()
    whole = scaled if scaled >= EXACT_INTEGER_LIMIT else float(math.floor(snap(scaled + 0.5)))
    result = whole / scale if digits >= 0 else whole * scale
    return math.copysign(finite(result), value)


def _to_multiple(value: float, significance: float, up: bool) -> float:
    if significance == 0:
        raise division_by_zero()
    quotient = finite(value / significance)
    snapped = snap(quotient)
    whole = math.ceil(snapped) if up else math.floor(snapped)
    return finite(float(whole) * significance)


def power(base: float, exponent: float) -> float:
    """``base ^ exponent``; integer exponents by exact repeated squaring."""
    if exponent == math.floor(exponent) and abs(exponent) < INTEGER_POWER_LIMIT:
        n = int(abs(exponent))
        result, factor = 1.0, base
        while n:
            if n & 1:
                result *= factor
            n >>= 1
            if n:
                factor *= factor
        if exponent < 0:
            if result == 0:
                raise division_by_zero()
            result = 1.0 / result
        return finite(result)
    if base < 0:
        raise _invalid(N_("A negative number raised to a fractional power, in {equation}."))
    if base == 0 and exponent < 0:
        raise division_by_zero()
    try:
        return finite(math.pow(base, exponent))
    except OverflowError:
        raise too_large() from None


def flatten(args: Sequence[Value]) -> list[float]:
    out: list[float] = []
    for arg in args:
        if isinstance(arg, list):
            out.extend(arg)
        else:
            out.append(arg)
    return out


def total(values: Sequence[float]) -> float:
    """Left-to-right sum from 0.0 (the vectorised evaluator adds in the same order)."""
    acc = 0.0
    for v in values:
        acc += v
    return acc


def _stdevp(values: list[float]) -> float:
    if not values:
        raise _invalid(N_("{function} of an empty list, in {equation}."), function="STDEVP")
    count = float(len(values))
    mean = total(values) / count
    acc = 0.0
    for v in values:
        deviation = v - mean
        acc += deviation * deviation
    return finite(math.sqrt(finite(acc) / count))


def _access(values: list[float], index: float) -> float:
    if index != math.floor(index) or not 0 <= index < len(values):
        raise _invalid(
            N_("Index {index} is outside the list of {count} values, in {equation}."),
            index=index,
            count=len(values),
        )
    return values[int(index)]


def _score_table(args: list[float]) -> float:
    value, rows, default = args[0], args[1:-1], args[-1]
    for i in range(0, len(rows), 3):
        if rows[i] <= value < rows[i + 1]:
            return rows[i + 2]
    return default


#: CAL_DAYS_IN_MONTH reads YYYYMM numbers from year 1 (000101) to year 9999 (999912).
MONTH_NUMBER_RANGE = (101.0, 999912.0)


def _days_in_month(number: float) -> float:
    low, high = MONTH_NUMBER_RANGE
    integral = number == math.floor(number) and low <= number <= high
    month = int(number) % 100 if integral else 0
    if not 1 <= month <= 12:
        raise _invalid(N_("{value} is not a month written YYYYMM, in {equation}."), value=number)
    return float(days_in_month(int(number) // 100, month))


def _scalars(name: str, args: Sequence[Value]) -> list[float]:
    # The planner only lets lists reach functions that accept them.
    assert not any(isinstance(a, list) for a in args), name
    return [a for a in args if not isinstance(a, list)]


def apply(name: str, args: Sequence[Value]) -> float:
    """Evaluate function ``name`` (not IF, which is lazy) on evaluated arguments."""
    if name in ARRAY_FUNCTIONS and name != "ACCESS":
        values = flatten(args)
        if name == "SUM":
            return finite(total(values))
        if name == "AVG":
            if not values:
                raise _invalid(N_("{function} of an empty list, in {equation}."), function="AVG")
            return finite(total(values) / float(len(values)))
        if name == "MIN":
            return min(values) if values else 0.0
        if name == "MAX":
            return max(values) if values else 0.0
        return _stdevp(values)
    if name == "ACCESS":
        first = args[0]
        items = first if isinstance(first, list) else [first]
        return _access(items, _scalars(name, args[1:])[0])
    x = _scalars(name, args)
    match name:
        case "AND":
            return 1.0 if all(v != 0 for v in x) else 0.0
        case "OR":
            return 1.0 if any(v != 0 for v in x) else 0.0
        case "NOT":
            return 1.0 if x[0] == 0 else 0.0
        case "ABS":
            return abs(x[0])
        case "SQRT":
            if x[0] < 0:
                raise _invalid(N_("Square root of a negative number, in {equation}."))
            return math.sqrt(x[0])
        case "ROUND":
            return excel_round(x[0], x[1] if len(x) > 1 else 0.0)
        case "FLOOR":
            return _to_multiple(x[0], x[1] if len(x) > 1 else 1.0, up=False)
        case "CEILING":
            return _to_multiple(x[0], x[1] if len(x) > 1 else 1.0, up=True)
        case "SAFE_DIV":
            return 0.0 if x[1] == 0 else finite(x[0] / x[1])
        case "SCORE_TABLE":
            return _score_table(x)
        case "CAL_DAYS_IN_MONTH":
            return _days_in_month(x[0])
    raise AssertionError(name)  # the parser rejects unknown functions


def binary(op: str, left: float, right: float) -> float:
    """Evaluate an operator on two numbers; comparisons give 1.0 or 0.0."""
    match op:
        case "+":
            return finite(left + right)
        case "-":
            return finite(left - right)
        case "*":
            return finite(left * right)
        case "/":
            if right == 0:
                raise division_by_zero()
            return finite(left / right)
        case "^":
            return power(left, right)
        case "=":
            return 1.0 if left == right else 0.0
        case "<>":
            return 1.0 if left != right else 0.0
        case "<":
            return 1.0 if left < right else 0.0
        case "<=":
            return 1.0 if left <= right else 0.0
        case ">":
            return 1.0 if left > right else 0.0
        case ">=":
            return 1.0 if left >= right else 0.0
    raise AssertionError(op)
