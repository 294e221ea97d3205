from __future__ import annotations

import ast
import math
import re
import string
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from afiya.domain.pbf_intelligence import reasons
from afiya.domain.pbf_intelligence.model import RiskCategory

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *sorted((ROOT / "afiya/domain/pbf_intelligence").glob("*.py")),
    *sorted((ROOT / "afiya/adapters/ml").glob("*.py")),
    ROOT / "afiya/jobs/pbf_intelligence.py",
    *sorted((ROOT / "afiya/api/pbf_intelligence").glob("*.py")),
]


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                found.add(node.args[0].value)
    return found


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class TestFeatureReasons:
    @pytest.mark.parametrize("feature", sorted(reasons.FEATURE_WORDING))
    def test_every_feature_wording_formats_with_its_parameters(self, feature: str) -> None:
        reason = reasons.feature_reason(feature, 12.0, math.log(1.3))
        if feature in reasons.UNEXPLAINED_FEATURES:
            assert reason is None
            return
        assert reason is not None
        assert reason.code == f"feature:{feature}"
        text = reason.message.msgid.format(**reason.message.params)
        assert "+30%" in text

    def test_effect_is_the_signed_relative_change_of_a_log_contribution(self) -> None:
        reason = reasons.feature_reason("lag_1", 41.6, math.log(0.75))
        assert reason is not None
        assert reason.message.params == {"value": 42, "effect": "-25"}
        assert reason.weight == pytest.approx(abs(math.log(0.75)))

    def test_ratio_features_are_shown_as_percentages(self) -> None:
        reason = reasons.feature_reason("gap_ratio_facility", 0.237, 0.1)
        assert reason is not None
        assert reason.message.params["value"] == 24

    def test_missing_or_unknown_features_give_no_reason(self) -> None:
        assert reasons.feature_reason("lag_12", math.nan, 0.4) is None
        assert reasons.feature_reason("no_such_feature", 1.0, 0.4) is None

    def test_rule_reasons_quote_the_figures(self) -> None:
        hmis = reasons.hmis_reason(120, 80.4, 2.0)
        assert hmis.code == "hmis_gap"
        assert hmis.message.render() == (
            "Declared 120 for PBF but 80 in the HMIS (DHIS2) for the same month."
        )
        related = reasons.related_reason("CPN1", 60, 40.0, 1.5, 0.93, 1.5)
        assert related.message.params["parent"] == "CPN1"
        assert "ratio of 1.5" in related.message.render()

    def test_rule_ranking_reason_depends_on_the_category(self) -> None:
        high = reasons.ranked_by_rules_reason(1, 50, RiskCategory.HIGH, 0.1234, 3)
        unknown = reasons.ranked_by_rules_reason(9, 50, RiskCategory.UNKNOWN, 0.0, 0)
        assert high.render() == (
            "Ranked 1 of 50 by the fixed rules: high risk, mean gap of 12.3% over the last "
            "3 verifications."
        )
        assert "never verified" in unknown.render()

    def test_random_draw_reason_rounds_the_probability(self) -> None:
        message = reasons.random_draw_reason(4, 45, Fraction(4, 45))
        assert message.params == {"drawn": 4, "pool": 45, "probability": 8.9}

    def test_model_ranking_reason_keeps_the_amount_as_money(self) -> None:
        message = reasons.ranked_by_model_reason(2, 10, Decimal("125000"))
        assert message.params["amount"] == Decimal("125000")


class TestCatalogues:
    @pytest.mark.parametrize("language", ["fr", "ar"])
    def test_every_message_is_translated_with_the_same_placeholders(self, language: str) -> None:
        path = ROOT / f"afiya/locale/{language}/LC_MESSAGES/pbf_intelligence.po"
        with path.open("rb") as handle:
            catalog = read_po(handle)
        assert str(catalog.locale) == language
        translated = {m.id: m.string for m in catalog if m.id}
        missing = _msgids() - translated.keys()
        assert not missing, f"untranslated in {language}: {sorted(missing)}"
        for msgid in _msgids():
            text = translated[msgid]
            assert text, f"empty translation for {msgid!r}"
            assert _placeholders(text) == _placeholders(msgid), msgid
        stale = translated.keys() - _msgids()
        assert not stale, f"obsolete entries in {language}: {sorted(stale)}"

    def test_arabic_catalogue_is_in_arabic_script(self) -> None:
        with (ROOT / "afiya/locale/ar/LC_MESSAGES/pbf_intelligence.po").open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.id:
                assert re.search("[\u0600-\u06ff]", message.string), message.id
