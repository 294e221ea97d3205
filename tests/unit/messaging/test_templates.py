"""SMS templates: validation, rendering, defaults in three languages, formatters."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from afiya.adapters.sms.babel_formatting import BabelFormatter
from afiya.domain.messaging.default_templates import DEFAULT_TEXTS
from afiya.domain.messaging.formatting import PlainFormatter
from afiya.domain.messaging.model import Language
from afiya.domain.messaging.sms_encoding import SmsEncoding, is_gsm7
from afiya.domain.messaging.templates import (
    SmsTemplate,
    TemplateCatalog,
    TemplateKey,
    render_template,
)
from afiya.domain.shared.errors import NotFound, ValidationFailed

NOUAKCHOTT = ZoneInfo("Africa/Nouakchott")
BAMAKO = ZoneInfo("Africa/Bamako")
START = datetime(2025, 8, 12, 9, 30, tzinfo=UTC)
VALUES: dict[str, object] = {
    "patient_name": "Aminata",
    "facility": "CS Teyarett",
    "facility_phone": "+22245250000",
    "date": START,
    "time": START,
}


class SpyFormatter:
    """Records the zone and language it was asked to format with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tzinfo]] = []

    def format_date(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        self.calls.append(("date", language, zone))
        return value.astimezone(zone).strftime("D%d")

    def format_time(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        self.calls.append(("time", language, zone))
        return value.astimezone(zone).strftime("T%H")

    def format_amount(self, amount: Decimal, *, currency: str, language: str) -> str:
        return f"{amount} {currency}"


class TestValidation:
    def test_unknown_variable_is_rejected_with_the_allowed_ones(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            SmsTemplate(TemplateKey.RESULTS_READY, Language.FR, "Résultat {diagnosis} prêt")
        [error] = caught.value.errors
        assert error.code == "unknown_variable"
        assert error.message.params["name"] == "diagnosis"
        assert "patient_name" in error.message.params["allowed"]

    def test_variable_allowed_elsewhere_is_rejected_for_this_purpose(self) -> None:
        with pytest.raises(ValidationFailed):
            SmsTemplate(TemplateKey.OPT_OUT_CONFIRMATION, Language.EN, "Bye {patient_name}")

    @pytest.mark.parametrize(
        "body",
        [
            "Hi {patient_name.__class__}",
            "Hi {patient_name!r}",
            "At {time:%H}",
            "Hi {}",
            "Hi {0}",
            "Hi {patient_name[0]}",
        ],
    )
    def test_format_tricks_are_rejected(self, body: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            SmsTemplate(TemplateKey.APPOINTMENT_REMINDER, Language.EN, body)
        assert caught.value.errors[0].code == "bad_field"

    @pytest.mark.parametrize("body", ["Hi {patient_name", "Hi }", ""])
    def test_malformed_or_empty_text_is_rejected(self, body: str) -> None:
        with pytest.raises(ValidationFailed):
            SmsTemplate(TemplateKey.HELP, Language.EN, body)

    def test_every_bad_variable_is_reported(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            SmsTemplate(TemplateKey.HELP, Language.EN, "{a} {b} {facility}")
        assert len(caught.value.errors) == 2

    def test_literal_braces_are_allowed(self) -> None:
        template = SmsTemplate(TemplateKey.HELP, Language.EN, "{{code}} at {facility}")
        rendered = render_template(template, VALUES, formatter=PlainFormatter(), zone=NOUAKCHOTT)
        assert rendered.text == "{code} at CS Teyarett"


class TestRendering:
    def test_dates_are_formatted_in_the_facility_zone_and_language(self) -> None:
        spy = SpyFormatter()
        template = SmsTemplate(
            TemplateKey.APPOINTMENT_DETAILS, Language.AR, "{date} {time} {facility}"
        )
        late = datetime(2025, 8, 12, 23, 30, tzinfo=UTC)
        rendered = render_template(
            template,
            {**VALUES, "date": late, "time": late},
            formatter=spy,
            zone=ZoneInfo("Asia/Dubai"),
        )
        assert rendered.text == "D13 T03 CS Teyarett"  # already the 13th in Dubai
        assert {(kind, lang) for kind, lang, _ in spy.calls} == {("date", "ar"), ("time", "ar")}

    def test_missing_and_mistyped_values_are_all_reported(self) -> None:
        template = TemplateCatalog.defaults().get(TemplateKey.APPOINTMENT_REMINDER, "fr")
        with pytest.raises(ValidationFailed) as caught:
            render_template(
                template,
                {"patient_name": "  ", "facility": "CS", "date": "12/08", "time": START},
                formatter=PlainFormatter(),
                zone=NOUAKCHOTT,
            )
        assert {e.field for e in caught.value.errors} == {"patient_name", "date"}

    def test_newlines_in_values_cannot_break_the_layout(self) -> None:
        template = SmsTemplate(TemplateKey.HELP, Language.EN, "{facility}: hi")
        rendered = render_template(
            template,
            {"facility": "CS\nTeyarett\t Nord"},
            formatter=PlainFormatter(),
            zone=NOUAKCHOTT,
        )
        assert rendered.text == "CS Teyarett Nord: hi"

    def test_french_name_with_cedilla_is_folded_to_stay_in_one_gsm_sms(self) -> None:
        template = TemplateCatalog.defaults().get(TemplateKey.APPOINTMENT_REMINDER, "fr")
        values = {**VALUES, "patient_name": "Françoise", "facility": "Hôpital de l’Amitié"}
        rendered = render_template(template, values, formatter=PlainFormatter(), zone=NOUAKCHOTT)
        assert "Francoise" in rendered.text and "Hopital de l'Amitié" in rendered.text
        assert rendered.encoding.encoding is SmsEncoding.GSM7
        unfolded = render_template(
            template, values, formatter=PlainFormatter(), zone=NOUAKCHOTT, gsm_fold=False
        )
        assert unfolded.encoding.encoding is SmsEncoding.UCS2
        assert unfolded.encoding.segments > rendered.encoding.segments


class TestDefaults:
    def test_every_purpose_has_french_arabic_and_english(self) -> None:
        assert set(DEFAULT_TEXTS) == set(TemplateKey)
        for by_language in DEFAULT_TEXTS.values():
            assert set(by_language) == set(Language)

    @pytest.mark.parametrize("key", list(TemplateKey))
    def test_french_and_english_defaults_are_gsm7(self, key: TemplateKey) -> None:
        assert is_gsm7(DEFAULT_TEXTS[key][Language.FR])
        assert is_gsm7(DEFAULT_TEXTS[key][Language.EN])

    @pytest.mark.parametrize("key", list(TemplateKey))
    @pytest.mark.parametrize("language", list(Language))
    def test_defaults_render_within_budget(self, key: TemplateKey, language: Language) -> None:
        long_names = {
            **VALUES,
            "patient_name": "Mariem Mint Mohamed",
            "facility": "Centre de santé de Teyarett",
        }
        template = TemplateCatalog.defaults().get(key, language)
        rendered = render_template(
            template, long_names, formatter=PlainFormatter(), zone=NOUAKCHOTT
        )
        assert "{" not in rendered.text
        budget = 3 if language is Language.AR else 2
        assert rendered.encoding.segments <= budget, rendered.text

    def test_reminder_with_usual_values_is_one_sms_in_french(self) -> None:
        template = TemplateCatalog.defaults().get(TemplateKey.APPOINTMENT_REMINDER, "fr")
        rendered = render_template(template, VALUES, formatter=PlainFormatter(), zone=NOUAKCHOTT)
        assert rendered.text.startswith("Aminata, rappel: RDV le 12/08/2025 à 09h30, CS Teyarett.")
        assert rendered.encoding.segments == 1

    def test_results_ready_never_mentions_a_result(self) -> None:
        for language in Language:
            text = DEFAULT_TEXTS[TemplateKey.RESULTS_READY][language]
            assert TemplateCatalog.defaults().get(
                TemplateKey.RESULTS_READY, language
            ).variables <= {
                "patient_name",
                "facility",
                "facility_phone",
            }
            assert "{date}" not in text


class TestCatalog:
    def test_facility_override_replaces_one_text_only(self) -> None:
        custom = SmsTemplate(TemplateKey.HELP, Language.FR, "Aide: appelez {facility_phone}.")
        catalog = TemplateCatalog.defaults().with_overrides([custom])
        assert catalog.get(TemplateKey.HELP, "fr") is custom
        assert (
            catalog.get(TemplateKey.HELP, "ar").body == DEFAULT_TEXTS[TemplateKey.HELP][Language.AR]
        )

    def test_unknown_language_falls_back_to_french(self) -> None:
        catalog = TemplateCatalog.defaults()
        assert catalog.get(TemplateKey.HELP, "ff").language is Language.FR

    def test_missing_language_falls_back_along_the_chain(self) -> None:
        english_only = SmsTemplate(TemplateKey.HELP, Language.EN, "Help: {facility}")
        catalog = TemplateCatalog([english_only])
        assert catalog.get(TemplateKey.HELP, "ar") is english_only
        with pytest.raises(NotFound):
            catalog.get(TemplateKey.RESULTS_READY, "en")


class TestFormatters:
    def test_plain_formatter_writes_numeric_dates_and_local_times(self) -> None:
        plain = PlainFormatter()
        moment = datetime(2025, 8, 12, 23, 5, tzinfo=UTC)
        assert plain.format_date(moment, language="fr", zone=ZoneInfo("Asia/Dubai")) == "13/08/2025"
        assert plain.format_time(moment, language="fr", zone=BAMAKO) == "23h05"
        assert plain.format_time(moment, language="ar", zone=BAMAKO) == "23:05"

    @pytest.mark.parametrize(
        ("amount", "currency", "language", "expected"),
        [
            (Decimal("1250.5"), "MRU", "fr", "1 250,50 MRU"),
            (Decimal("15000"), "XOF", "fr", "15 000 XOF"),
            (Decimal("1234567.891"), "MRU", "en", "1,234,567.89 MRU"),
            (Decimal("-5"), "XOF", "ar", "-5 XOF"),
            (Decimal("999"), "MRU", "en", "999.00 MRU"),
        ],
    )
    def test_plain_amounts(
        self, amount: Decimal, currency: str, language: str, expected: str
    ) -> None:
        assert (
            PlainFormatter().format_amount(amount, currency=currency, language=language) == expected
        )

    def test_formatters_refuse_naive_datetimes(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            PlainFormatter().format_date(datetime(2025, 1, 1), language="fr", zone=BAMAKO)
        with pytest.raises(ValueError, match="aware"):
            BabelFormatter().format_time(datetime(2025, 1, 1), language="fr", zone=BAMAKO)

    def test_babel_names_days_and_months_per_locale(self) -> None:
        babel = BabelFormatter()
        assert babel.format_date(START, language="fr", zone=NOUAKCHOTT) == "mardi 12 août"
        assert babel.format_date(START, language="en", zone=NOUAKCHOTT) == "Tuesday 12 August"
        assert babel.format_date(START, language="ar", zone=NOUAKCHOTT) == "الثلاثاء 12 أغشت"
        assert babel.format_time(START, language="fr", zone=ZoneInfo("Europe/Paris")) == "11:30"

    def test_babel_amounts_use_plain_spaces_for_gsm(self) -> None:
        text = BabelFormatter().format_amount(Decimal("1250.5"), currency="MRU", language="fr")
        assert "\u202f" not in text and "\xa0" not in text
        assert text.startswith("1 250,50")

    def test_babel_month_with_circumflex_is_folded_in_a_french_sms(self) -> None:
        template = TemplateCatalog.defaults().get(TemplateKey.APPOINTMENT_CONFIRMED, "fr")
        rendered = render_template(template, VALUES, formatter=BabelFormatter(), zone=NOUAKCHOTT)
        assert "mardi 12 aout" in rendered.text
        assert rendered.encoding.encoding is SmsEncoding.GSM7
