"""SMS cost estimates, E.164 numbers, masking, delivery status merging."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.messaging.model import DeliveryStatus, merge_delivery_status
from afiya.domain.messaging.phone import country_of, is_e164, mask_phone
from afiya.domain.messaging.sms_encoding import analyze
from afiya.domain.messaging.sms_pricing import SmsPriceList, SmsTariff, estimate_cost
from afiya.domain.shared.errors import NotFound, ValidationFailed

AT_MR = SmsTariff("MR", "africastalking", "MRU", Decimal("2.50"))
AT_ML = SmsTariff("ML", "africastalking", "XOF", Decimal("18"))
TWILIO_MR = SmsTariff("MR", "twilio", "USD", Decimal("0.2215"))


class TestCost:
    def test_cost_is_segments_times_price(self) -> None:
        estimate = estimate_cost("a" * 161, AT_MR)
        assert (estimate.segments, estimate.currency, estimate.amount) == (
            2,
            "MRU",
            Decimal("5.00"),
        )

    def test_arabic_text_costs_more_segments_than_the_same_length_in_french(self) -> None:
        assert estimate_cost("م" * 100, AT_MR).amount == Decimal("5.00")
        assert estimate_cost("m" * 100, AT_MR).amount == Decimal("2.50")

    def test_precomputed_encoding_info_is_accepted(self) -> None:
        assert estimate_cost(analyze("x" * 400), TWILIO_MR).amount == Decimal("0.6645")

    def test_price_list_finds_tariff_by_country_and_provider_case_blind(self) -> None:
        prices = SmsPriceList([AT_MR, AT_ML, TWILIO_MR])
        assert prices.tariff_for("mr", "Twilio") is TWILIO_MR
        assert prices.estimate("bonjour", country="ML", provider="africastalking").amount == 18

    def test_missing_tariff_is_not_found(self) -> None:
        with pytest.raises(NotFound) as caught:
            SmsPriceList([AT_MR]).tariff_for("NE", "africastalking")
        assert caught.value.code == "sms_tariff_not_found"

    def test_campaign_totals_are_kept_per_currency(self) -> None:
        prices = SmsPriceList([AT_MR, AT_ML])
        totals = prices.estimate_campaign(
            [("MR", "a" * 10), ("MR", "a" * 200), ("ML", "b")], provider="africastalking"
        )
        assert totals == {"MRU": Decimal("7.50"), "XOF": Decimal("18")}

    @pytest.mark.parametrize("price", [0.05, Decimal("-1"), Decimal("NaN")])
    def test_floats_and_negative_prices_are_refused(self, price: object) -> None:
        with pytest.raises(ValidationFailed) as caught:
            SmsTariff("MR", "twilio", "USD", price)  # type: ignore[arg-type]
        assert caught.value.errors[0].field == "price_per_segment"

    def test_currency_must_be_iso_code(self) -> None:
        with pytest.raises(ValidationFailed):
            SmsTariff("MR", "twilio", "dollars", Decimal(1))

    @given(st.text(max_size=500), st.decimals(min_value=0, max_value=100, places=4))
    def test_cost_is_never_negative_and_scales_with_segments(
        self, text: str, price: Decimal
    ) -> None:
        estimate = estimate_cost(text, SmsTariff("MR", "x", "MRU", price))
        assert estimate.amount == price * analyze(text).segments
        assert estimate.amount >= 0


class TestPhoneNumbers:
    @pytest.mark.parametrize(
        ("number", "country"),
        [
            ("+22236123456", "MR"),
            ("+22376123456", "ML"),
            ("+22790123456", "NE"),
            ("+33612345678", "FR"),
            ("+14155550100", "US"),
            ("+99912345678", None),
        ],
    )
    def test_country_of_number(self, number: str, country: str | None) -> None:
        assert country_of(number) == country

    @pytest.mark.parametrize("number", ["22236123456", "+222 36 12 34 56", "+0123456", "+1"])
    def test_non_e164_numbers_are_rejected(self, number: str) -> None:
        assert not is_e164(number)
        assert country_of(number) is None

    def test_mask_keeps_calling_code_and_last_two_digits(self) -> None:
        assert mask_phone("+22236123456") == "+222******56"
        assert mask_phone("+14155550100") == "+1********00"

    def test_mask_hides_anything_that_is_not_a_number(self) -> None:
        assert mask_phone("Aminata Mint Ahmed") == "***"

    @given(st.from_regex(r"\+[1-9]\d{6,14}", fullmatch=True))
    def test_mask_never_reveals_the_subscriber_part(self, number: str) -> None:
        masked = mask_phone(number)
        assert len(masked) == len(number)
        assert masked[-2:] == number[-2:]
        assert masked.count("*") >= len(number) - 1 - 3 - 2


class TestDeliveryStatusMerge:
    def test_late_sent_does_not_overwrite_delivered(self) -> None:
        assert (
            merge_delivery_status(DeliveryStatus.DELIVERED, DeliveryStatus.SENT)
            is DeliveryStatus.DELIVERED
        )

    def test_progress_moves_forward(self) -> None:
        assert (
            merge_delivery_status(DeliveryStatus.QUEUED, DeliveryStatus.SENT) is DeliveryStatus.SENT
        )
        assert (
            merge_delivery_status(DeliveryStatus.SENT, DeliveryStatus.QUEUED) is DeliveryStatus.SENT
        )

    def test_first_final_status_wins(self) -> None:
        assert (
            merge_delivery_status(DeliveryStatus.FAILED, DeliveryStatus.DELIVERED)
            is DeliveryStatus.FAILED
        )
        assert (
            merge_delivery_status(DeliveryStatus.SENT, DeliveryStatus.EXPIRED)
            is DeliveryStatus.EXPIRED
        )

    @given(st.lists(st.sampled_from(list(DeliveryStatus)), min_size=1, max_size=8))
    def test_merge_is_monotonic(self, reports: list[DeliveryStatus]) -> None:
        current = DeliveryStatus.QUEUED
        for reported in reports:
            merged = merge_delivery_status(current, reported)
            if current.is_final:
                assert merged is current
            current = merged
        finals = [r for r in reports if r.is_final]
        if finals:
            assert current is finals[0]
