"""Errors of the PBF module. Formula errors always name the equation they come from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from afiya.domain.shared.errors import DomainError, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class FormulaError(DomainError):
    """A formula that cannot be parsed, resolved or evaluated.

    ``equation`` names where it happened: a rule-set formula (``quantity.amount``) while
    planning, or an expanded equation key (``act1_amount_fosa1_201601``) while evaluating.
    Every message has an ``{equation}`` parameter; errors raised deep inside a function
    evaluation start with an empty name and get it from :meth:`in_equation`.
    """

    code = "formula_error"
    default_message = N_("The formula {equation} is invalid.")

    def __init__(self, message: Message, *, equation: str = "") -> None:
        params = dict(message.params)
        params["equation"] = equation
        super().__init__(Message(message.msgid, params), details={"equation": equation})
        self.equation = equation

    def in_equation(self, equation: str) -> Self:
        """The same error, naming ``equation``; kept as is when it already names one."""
        if self.equation:
            return self
        return type(self)(self.message, equation=equation)


class FormulaSyntaxError(FormulaError):
    code = "formula_syntax_error"


class UnknownVariable(FormulaError):
    code = "unknown_variable"


class UnknownFunction(FormulaError):
    code = "unknown_function"


class WrongArity(FormulaError):
    code = "wrong_arity"


class ArrayMisuse(FormulaError):
    """A list of values (``%{x_values}``) used where a single number is expected."""

    code = "array_misuse"


class DependencyCycle(FormulaError):
    """Equations that depend on each other in a loop; ``cycle`` lists them in order."""

    code = "dependency_cycle"

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            Message(N_("Circular reference: {cycle}."), {"cycle": " → ".join(self.cycle)}),
            equation=self.cycle[0] if self.cycle else "",
        )


class DivisionByZero(FormulaError):
    code = "division_by_zero"


class InvalidOperation(FormulaError):
    """A function or operator outside its domain: square root of -1, overflow, bad index."""

    code = "invalid_operation"


class RuleSetInvalid(ValidationFailed):
    """A rule set whose structure is wrong; lists every problem found, not only the first."""

    code = "pbf_rule_set_invalid"
    default_message = N_("The PBF rule set is invalid.")


class DecisionTableError(DomainError):
    """A decision table that cannot be read, or that gives no or several answers."""

    code = "decision_table_error"
    default_message = N_("The decision table is invalid.")


class PeriodInvalid(DomainError):
    code = "period_invalid"
    default_message = N_("The period is invalid.")

    def __init__(self, period: str) -> None:
        super().__init__(
            Message(
                N_("{period} is not a period (expected 201601, 2016Q1 or 2016)."),
                {"period": period},
            ),
            details={"period": period},
        )


class NoRuleSet(NotFound):
    code = "pbf_no_rule_set"
    default_message = N_("No rule set applies to this period.")


class PlanningError(DomainError):
    """A calculation that cannot be set up: facilities, periods or data do not fit the rules."""

    code = "pbf_planning_error"
    default_message = N_("The calculation cannot be set up.")


def invalid_rule_set(errors: Sequence[FieldError]) -> RuleSetInvalid:
    """A :class:`RuleSetInvalid` listing ``errors``."""
    return RuleSetInvalid(list(errors))


def field_error(field: str, msgid: str, **params: Any) -> FieldError:
    """Shorthand for a :class:`FieldError` with a translatable message."""
    return FieldError(field, Message(msgid, params))
