"""Money: currencies with their minor units, exact rounding and exact splitting.

Amounts are :class:`~decimal.Decimal`, never float. Every amount that leaves a computation
(an invoice line, a payer's part) is quantized to the currency's minor unit with
ROUND_HALF_UP, and every split (between payers, or of a budget between facilities) uses the
largest-remainder method, so that the parts always add up to the whole, to the last khoum
or franc.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from afiya.domain.shared.errors import DomainError
from afiya.domain.shared.i18n import N_, Message


class MoneyError(DomainError):
    """An amount or a split that cannot be computed as asked."""

    code = "money_error"
    default_message = N_("The amount could not be computed.")


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the number of decimals amounts are kept to.

    ``minor_units`` is what Afiya keeps, not always what ISO says: the ouguiya's khoum is
    one fifth of an ouguiya, but amounts are kept (and printed) to two decimals.
    """

    code: str
    minor_units: int
    name: str
    #: The smallest amount kept: ``0.01`` for MRU, ``1`` for XOF.
    quantum: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantum", Decimal(1).scaleb(-self.minor_units))


MRU = Currency("MRU", 2, "Mauritanian ouguiya")
XOF = Currency("XOF", 0, "West African CFA franc")

CURRENCIES: Mapping[str, Currency] = {c.code: c for c in (MRU, XOF)}


def currency(code: str) -> Currency:
    """The currency with ISO code ``code``.

    Raises:
        MoneyError: when Afiya does not know the currency.
    """
    try:
        return CURRENCIES[code.upper()]
    except KeyError:
        raise MoneyError(
            Message(N_("Unknown currency {code}."), {"code": code}), code="unknown_currency"
        ) from None


def quantize(amount: Decimal, currency: Currency) -> Decimal:
    """Round ``amount`` to the currency's minor unit, halves away from zero.

    A negative zero (from a tiny negative amount) comes back as a plain zero.
    """
    result = amount.quantize(currency.quantum, rounding=ROUND_HALF_UP)
    return result.copy_abs() if result.is_zero() else result


def to_minor_units(amount: Decimal, currency: Currency) -> int:
    """``amount`` (quantized first) as a whole number of minor units."""
    return int(quantize(amount, currency).scaleb(currency.minor_units))


def from_minor_units(units: int, currency: Currency) -> Decimal:
    """A whole number of minor units as an amount with the currency's decimals."""
    return quantize(Decimal(units).scaleb(-currency.minor_units), currency)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: Currency) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``; the parts add up exactly to ``total``.

    Largest remainder (Hamilton) method on minor units: every part first gets the floor of
    its exact share, then the units left over go one each to the parts with the largest
    fractional remainders, earlier parts first on ties. Each part is therefore within one
    minor unit of its exact share, and the result does not depend on float rounding.

    Args:
        total: the amount to split (quantized to the currency first; may be negative).
        weights: non-negative weights, at least one positive.
        currency: the currency whose minor unit bounds the parts.

    Raises:
        MoneyError: when a weight is negative or all weights are zero.
    """
    if not weights:
        raise MoneyError(Message(N_("There is nothing to split the amount between.")))
    if any(w < 0 for w in weights):
        raise MoneyError(Message(N_("A share of an amount cannot be negative.")))
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    if weight_sum == 0:
        raise MoneyError(Message(N_("The shares of an amount cannot all be zero.")))
    units = to_minor_units(total, currency)
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Fraction(units) * Fraction(w) / weight_sum for w in weights]
    floors = [int(share) for share in exact]  # shares are non-negative: int() is floor
    left = units - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [from_minor_units(sign * part, currency) for part in floors]


def split_by_percentages(
    total: Decimal, percentages: Mapping[str, Decimal], currency: Currency
) -> dict[str, Decimal]:
    """Split ``total`` between payers by percentage, parts summing exactly to ``total``.

    Args:
        total: the amount to split.
        percentages: payer code to percentage; they must add up to exactly 100.
        currency: the currency of ``total``.

    Returns:
        Payer code to amount, in the order of ``percentages``.

    Raises:
        MoneyError: when the percentages do not add up to 100 or one is negative.
    """
    shares = list(percentages.values())
    if sum(shares, Decimal(0)) != 100:
        raise MoneyError(
            Message(
                N_("The payers' percentages add up to {sum}, not 100."),
                {"sum": str(sum(shares, Decimal(0)))},
            ),
            code="percentages_not_100",
        )
    parts = allocate(total, shares, currency)
    return dict(zip(percentages, parts, strict=True))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, always quantized to its minor unit."""

    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if self.amount != quantize(self.amount, self.currency):
            raise MoneyError(
                Message(
                    N_("{amount} has more decimals than {currency} allows."),
                    {"amount": str(self.amount), "currency": self.currency.code},
                )
            )

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: Currency) -> Money:
        """Build from any exact amount, rounding to the minor unit."""
        return cls(quantize(Decimal(amount), currency), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(
                Message(
                    N_("Cannot combine amounts in {left} and {right}."),
                    {"left": self.currency.code, "right": other.currency.code},
                )
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(quantize(-self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency.code}"
