"""FHIR search-parameter parsing: dates and prefixes, tokens, modifiers, result params."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.fhir.search import (
    MAX_COUNT,
    ParamType,
    Prefix,
    SearchError,
    SearchSpec,
    TokenValue,
    parse_date,
    parse_search,
    string_matches,
)

SPEC = SearchSpec(
    params={"name": ParamType.STRING, "birthdate": ParamType.DATE, "identifier": ParamType.TOKEN},
    sorts=frozenset({"birthdate"}),
    includes=frozenset({"Appointment:patient"}),
)


class TestDates:
    def test_each_precision_covers_its_whole_interval(self):
        year = parse_date("1981")
        assert (year.start, year.end) == (
            datetime(1981, 1, 1, tzinfo=UTC),
            datetime(1982, 1, 1, tzinfo=UTC),
        )
        december = parse_date("1981-12")
        assert december.end == datetime(1982, 1, 1, tzinfo=UTC)
        day = parse_date("1981-03-02")
        assert day.end - day.start == timedelta(days=1) and day.precision == "day"
        minute = parse_date("2026-12-07T10:15+01:00")
        assert minute.start == datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
        assert minute.end - minute.start == timedelta(minutes=1)

    def test_prefixes_compare_an_instant_as_fhir_says(self):
        inside = datetime(1981, 6, 1, tzinfo=UTC)
        after = datetime(1982, 6, 1, tzinfo=UTC)
        before = datetime(1980, 6, 1, tzinfo=UTC)
        cases = {
            "eq1981": (True, False, False),
            "ne1981": (False, True, True),
            "gt1981": (False, True, False),
            "ge1981": (True, True, False),
            "lt1981": (False, False, True),
            "le1981": (True, False, True),
            "sa1981": (False, True, False),
            "eb1981": (False, False, True),
        }
        for text, expected in cases.items():
            value = parse_date(text)
            assert (value.matches(inside), value.matches(after), value.matches(before)) == expected

    @pytest.mark.parametrize("text", ["ap1981", "1981-13", "19810302", "1981-02-30", "x"])
    def test_malformed_or_unsupported_values_are_refused(self, text):
        with pytest.raises(SearchError):
            parse_date(text)

    @given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
    def test_a_day_value_matches_exactly_the_instants_of_that_day(self, moment):
        moment = moment.replace(tzinfo=UTC)
        value = parse_date(moment.date().isoformat())
        assert value.prefix is Prefix.EQ
        assert value.matches(moment)
        assert not value.matches(moment + timedelta(days=1))
        assert parse_date("ge" + moment.date().isoformat()).matches(moment)
        assert not parse_date("lt" + moment.date().isoformat()).matches(moment)


class TestParameters:
    def test_repeats_are_anded_and_commas_ored(self):
        request = parse_search(
            "Patient",
            [("name", "ahmed,sidi"), ("name", "ould"), ("identifier", "urn:x|42\\,1")],
            SPEC,
        )
        names = request.values("name")
        assert [c.values for c in names] == [("ahmed", "sidi"), ("ould",)]
        assert request.values("identifier")[0].values == (TokenValue("urn:x", "42,1"),)

    def test_result_parameters(self):
        request = parse_search(
            "Patient",
            [("_count", "5"), ("_offset", "10"), ("_sort", "-birthdate"), ("_summary", "count")],
            SPEC,
        )
        assert (request.count, request.offset, request.summary_count) == (5, 10, True)
        assert request.sort[0].name == "birthdate" and request.sort[0].descending

    @pytest.mark.parametrize(
        "items",
        [
            [("shoe", "42")],
            [("name:fuzzy", "x")],
            [("birthdate:exact", "1981")],
            [("_count", str(MAX_COUNT + 1))],
            [("_count", "many")],
            [("_sort", "name")],
            [("_include", "Patient:link")],
            [("_summary", "true")],
            [("name", "")],
        ],
    )
    def test_what_is_not_supported_is_refused_not_ignored(self, items):
        with pytest.raises(SearchError):
            parse_search("Patient", items, SPEC)

    def test_lenient_handling_lists_what_it_ignored(self):
        request = parse_search("Patient", [("shoe", "42"), ("name", "a")], SPEC, lenient=True)
        assert request.ignored == ("shoe",) and len(request.criteria) == 1


class TestStrings:
    def test_default_is_a_case_and_accent_insensitive_word_prefix(self):
        assert string_matches(["Fatimétou Mint Sidi"], "fatimet", None)
        assert string_matches(["Fatimétou Mint Sidi"], "SID", None)
        assert not string_matches(["Fatimétou Mint Sidi"], "imet", None)
        assert string_matches(["Fatimétou Mint Sidi"], "imét", "contains")
        assert string_matches(["Mint Sidi"], "Mint Sidi", "exact")
        assert not string_matches(["Mint Sidi"], "mint sidi", "exact")
