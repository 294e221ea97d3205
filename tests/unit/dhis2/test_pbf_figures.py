"""How a mapping names a PBF result, when it counts as paid, and the mapping check."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.pbf_figures import (
    PBF_SOURCE,
    PbfFigure,
    paid_at,
    parse_pbf_figure,
    period_within,
)
from afiya.domain.dhis2.periods import PeriodType
from afiya.domain.dhis2.sync_model import MappingSettings, MetadataObject
from afiya.domain.dhis2.validation import validate_mapping

DE = MetadataObject(MetadataResource.DATA_ELEMENTS, "s46m5MS0hxu", "BCG")


class TestFigureCodes:
    @pytest.mark.parametrize(
        ("code", "parsed"),
        [
            ("FBR-MR:quantity.amount.act1", PbfFigure("FBR-MR", "quantity", "amount", "act1")),
            ("FBR-MR:quantity.quantity_total", PbfFigure("FBR-MR", "quantity", "quantity_total")),
            ("pbf_2:payment.total", PbfFigure("pbf_2", "payment", "total")),
        ],
    )
    def test_a_code_names_programme_owner_formula_and_activity(self, code, parsed):
        assert parse_pbf_figure(code) == parsed
        assert parsed.code == code

    @pytest.mark.parametrize(
        "code",
        [
            "quantity.amount",
            "FBR-MR:quantity",
            "FBR-MR:",
            ":quantity.amount",
            "FBR MR:q.a",
            "a:b.c.d.e",
        ],
    )
    def test_other_shapes_are_not_pbf_figures(self, code):
        assert parse_pbf_figure(code) is None

    def test_a_line_matches_on_package_formula_and_activity(self):
        figure = PbfFigure("FBR-MR", "quantity", "amount", "act1")
        line = {"source": "quantity", "formula": "amount", "activity": "act1", "value": "10"}
        assert figure.matches_line(line)
        assert not figure.matches_line({**line, "activity": "act2"})
        assert not figure.matches_line({**line, "activity": None})
        package = PbfFigure("FBR-MR", "quantity", "quantity_total")
        assert package.matches_line({"source": "quantity", "formula": "quantity_total"})
        assert not package.matches_line(line)

    def test_rule_total_reads_the_invoice_total_of_that_rule_only(self):
        assert PbfFigure("P", "payment", "total").is_invoice_total("payment")
        assert not PbfFigure("P", "payment", "total").is_invoice_total("bonus")
        assert not PbfFigure("P", "payment", "total", "act1").is_invoice_total("payment")


class TestPeriods:
    def test_a_figure_lies_within_the_dates_only_wholly(self):
        assert period_within("201601", date(2016, 1, 1), date(2016, 1, 31))
        assert not period_within("2016Q1", date(2016, 1, 1), date(2016, 2, 29))
        assert period_within("2016Q1", date(2015, 12, 1), date(2016, 3, 31))
        assert not period_within("garbage", date(2016, 1, 1), date(2016, 12, 31))

    def test_a_figure_is_paid_when_a_locked_period_overlaps_it(self):
        early, late = datetime(2016, 2, 5, tzinfo=UTC), datetime(2016, 4, 2, tzinfo=UTC)
        locks = [("201601", early), ("2016Q1", late), ("201605", None)]
        assert paid_at("201601", locks) == early
        assert paid_at("201603", locks) == late  # its quarter was locked
        assert paid_at("2016Q1", locks) == early  # January, inside the quarter, was paid
        assert paid_at("201604", locks) is None
        assert paid_at("201605", locks) is None  # a lock without a time is not a payment
        assert paid_at("2016", [("201512", early)]) is None


class TestMappingCheck:
    def _errors(self, figure: str, source: str) -> set[str]:
        mapping = MappingSettings(figure, PeriodType.MONTHLY, DE.uid, source=source)
        return {
            e.field
            for e in validate_mapping(
                mapping,
                data_element=DE,
                category_option_combo=None,
                attribute_option_combo=None,
                data_set=None,
                duplicate=False,
            )
        }

    def test_a_pbf_mapping_needs_a_pbf_figure_code(self):
        assert self._errors("quantity.amount", PBF_SOURCE) == {"figure"}
        assert self._errors("FBR-MR:quantity.amount.act1", PBF_SOURCE) == set()

    def test_the_figure_table_keeps_its_own_codes(self):
        assert self._errors("quantity.amount", "figure_table") == set()
