"""What an SMS will cost: segments times a price per segment, per country and provider."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from afiya.domain.messaging.sms_encoding import SmsEncodingInfo, analyze
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class SmsTariff:
    """The price of one SMS segment sent by ``provider`` to numbers of ``country``.

    Attributes:
        country: ISO 3166-1 alpha-2 code of the destination (``MR``, ``ML``, ``NE``...).
        provider: gateway name as registered (``africastalking``, ``twilio``...).
        currency: ISO 4217 code the provider bills in (``MRU``, ``XOF``, ``USD``).
        price_per_segment: a ``Decimal``; floats are refused so no cent is lost.
    """

    country: str
    provider: str
    currency: str
    price_per_segment: Decimal

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.price_per_segment, Decimal):
            errors.append(
                FieldError(
                    "price_per_segment",
                    Message(N_("The price must be a decimal number, not a float.")),
                    code="not_decimal",
                )
            )
        elif not self.price_per_segment.is_finite() or self.price_per_segment < 0:
            errors.append(
                FieldError(
                    "price_per_segment",
                    Message(N_("The price must be zero or more.")),
                    code="negative",
                )
            )
        if len(self.currency) != 3 or not self.currency.isalpha():
            errors.append(
                FieldError(
                    "currency",
                    Message(N_("The currency must be a three-letter ISO 4217 code.")),
                )
            )
        if errors:
            raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class SmsCostEstimate:
    """Segments billed and their total price for one recipient."""

    segments: int
    currency: str
    amount: Decimal


def estimate_cost(text_or_info: str | SmsEncodingInfo, tariff: SmsTariff) -> SmsCostEstimate:
    """Price of sending one text to one recipient: segments × price per segment."""
    info = analyze(text_or_info) if isinstance(text_or_info, str) else text_or_info
    return SmsCostEstimate(
        segments=info.segments,
        currency=tariff.currency,
        amount=tariff.price_per_segment * info.segments,
    )


class SmsPriceList:
    """Tariffs by (country, provider), as negotiated per country; looked up case-blind."""

    def __init__(self, tariffs: Iterable[SmsTariff]) -> None:
        self._by_key: dict[tuple[str, str], SmsTariff] = {}
        for tariff in tariffs:
            self._by_key[(tariff.country.upper(), tariff.provider.lower())] = tariff

    def tariff_for(self, country: str, provider: str) -> SmsTariff:
        """The tariff for ``country`` and ``provider``; raises ``NotFound`` if none."""
        tariff = self._by_key.get((country.upper(), provider.lower()))
        if tariff is None:
            raise NotFound(
                Message(
                    N_("No SMS tariff for {provider} in {country}."),
                    {"provider": provider, "country": country},
                ),
                code="sms_tariff_not_found",
            )
        return tariff

    def estimate(self, text: str, *, country: str, provider: str) -> SmsCostEstimate:
        """Price of ``text`` for one recipient in ``country`` through ``provider``."""
        return estimate_cost(text, self.tariff_for(country, provider))

    def estimate_campaign(
        self, texts_by_country: Iterable[tuple[str, str]], *, provider: str
    ) -> dict[str, Decimal]:
        """Total per currency for many (country, text) pairs, e.g. a day's reminders."""
        totals: dict[str, Decimal] = {}
        for country, text in texts_by_country:
            estimate = self.estimate(text, country=country, provider=provider)
            totals[estimate.currency] = totals.get(estimate.currency, Decimal(0)) + estimate.amount
        return totals
