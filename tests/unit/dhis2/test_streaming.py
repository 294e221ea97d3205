"""Incremental JSON/CSV readers and the streamed request body (pure, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.adapters.dhis2.streaming import (
    CsvDataValueParser,
    DataValueSetJsonParser,
    StreamFormatError,
    encode_data_value_set,
)
from afiya.domain.dhis2.payloads import DataValue


def feed_in_pieces(parser: Any, text: str, size: int) -> list[DataValue]:
    out: list[DataValue] = []
    for start in range(0, len(text), size):
        out.extend(parser.feed(text[start : start + size]))
    out.extend(parser.close())
    return out


class TestJsonParser:
    @pytest.mark.parametrize("size", [1, 2, 7, 64, 10_000])
    def test_docs_export_is_read_whatever_the_chunking(
        self, dhis2_fixture: Callable[[str], Any], size: int
    ) -> None:
        document = dhis2_fixture("dhis2-docs/docs_dataValueSets_GET_response.json")
        values = feed_in_pieces(DataValueSetJsonParser(), json.dumps(document, indent=2), size)
        assert [v.value for v in values] == ["10003", "10002", "10001"]
        assert {v.category_option_combo for v in values} == {"bRowv6yZOF2"}

    def test_values_are_handed_out_before_the_document_ends(self) -> None:
        parser = DataValueSetJsonParser()
        first = parser.feed(
            '{"dataValues":[{"dataElement":"a","period":"202601","orgUnit":"o","value":"1"},'
        )
        assert [v.data_element for v in first] == ["a"]
        rest = parser.feed('{"dataElement":"b","period":"202601","orgUnit":"o"}]}')
        assert [v.data_element for v in rest] == ["b"]
        assert parser.close() == []

    def test_header_fields_fill_values_and_numbers_split_across_chunks_are_whole(
        self,
    ) -> None:
        parser = DataValueSetJsonParser()
        text = (
            '{"period": "201401", "orgUnit": "DiszpKrYNg8", "count": 12'
            '345, "dataValues": [{"dataElement": "f7n9E0hX8qk", "value": 3}]}'
        )
        head, tail = text.split("12", 1)
        values = parser.feed(head + "12") + parser.feed(tail) + parser.close()
        assert parser.header["count"] == 12345
        assert values == [DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="3")]

    @pytest.mark.parametrize(
        "text",
        [
            '{"dataValues": [{"dataElement": "a", "period": "1", "orgUnit": "o"}',
            '{"dataValues": [1, 2]}',
            '["not", "an", "object"]',
            '{"dataValues": [{"period": "202601"}]}',
            '{"dataValues": []} trailing',
            "<html>captive portal</html>",
        ],
    )
    def test_broken_documents_raise_a_format_error(self, text: str) -> None:
        with pytest.raises(StreamFormatError):
            feed_in_pieces(DataValueSetJsonParser(), text, len(text))

    def test_empty_object_has_no_values(self) -> None:
        assert feed_in_pieces(DataValueSetJsonParser(), "{ }", 1) == []


class TestCsvParser:
    DOCS = (
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,"
        "comment,flwup\n"
        "f7n9E0hX8qk,201401,DiszpKrYNg8,bRowv6yZOF2,bRowv6yZOF2,12,system,"
        "2015-04-05T19:58:12.000,comment1,false\n"
        "Ix2HsbDMLea,201401,DiszpKrYNg8,bRowv6yZOF2,bRowv6yZOF2,14,system,"
        "2015-04-05T19:58:12.000,comment2,true\n"
    )

    @pytest.mark.parametrize("size", [1, 5, 33, 100_000])
    def test_docs_csv_export_is_read_with_header_aliases(self, size: int) -> None:
        values = feed_in_pieces(CsvDataValueParser(), self.DOCS, size)
        assert [(v.data_element, v.value, v.comment, v.followup) for v in values] == [
            ("f7n9E0hX8qk", "12", "comment1", False),
            ("Ix2HsbDMLea", "14", "comment2", True),
        ]
        assert values[0].last_updated == "2015-04-05T19:58:12.000"

    @pytest.mark.parametrize("size", [1, 3, 1000])
    def test_quoted_comment_with_newlines_and_quotes_stays_one_value(self, size: int) -> None:
        text = (
            "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,"
            "storedby,lastupdated,comment,followup,deleted\n"
            'a,202601,o,c,c,5,u,2026-01-01,"line one\nline ""two""",false,false\n'
            "b,202601,o,c,c,,u,2026-01-01,,false,true"
        )
        values = feed_in_pieces(CsvDataValueParser(), text, size)
        assert values[0].comment == 'line one\nline "two"'
        assert (values[1].value, values[1].deleted) == (None, True)

    def test_headerless_csv_uses_dhis2_column_order(self) -> None:
        values = feed_in_pieces(CsvDataValueParser(), "a,202601,o,c,d,9\n", 4)
        assert values == [DataValue("a", "202601", "o", "c", "d", value="9")]

    def test_unterminated_quote_is_a_format_error(self) -> None:
        parser = CsvDataValueParser()
        parser.feed('dataelement,period,orgunit\na,202601,"o\n')
        with pytest.raises(StreamFormatError):
            parser.close()


values_strategy = st.builds(
    DataValue,
    data_element=st.text("abcXYZ019", min_size=1, max_size=11),
    period=st.sampled_from(["202601", "2026W3", "2026Q1", "20260115"]),
    org_unit=st.text("abcXYZ019", min_size=1, max_size=11),
    category_option_combo=st.none() | st.just("HllvX50cXC0"),
    value=st.none() | st.text(max_size=20).filter(lambda s: s.strip() == s and s != ""),
    comment=st.none() | st.text(min_size=1, max_size=30),
    followup=st.none() | st.booleans(),
)


@settings(max_examples=60)
@given(st.lists(values_strategy, max_size=40), st.integers(min_value=1, max_value=50))
def test_encoded_body_parses_back_to_the_same_values_in_order(
    values: list[DataValue], size: int
) -> None:
    body = b"".join(encode_data_value_set(values, data_set="pBOMPrpg1QX", batch=7)).decode()
    document = json.loads(body)
    assert document["dataSet"] == "pBOMPrpg1QX"
    parsed = feed_in_pieces(DataValueSetJsonParser(), body, size)
    expected = [
        DataValue(
            v.data_element,
            v.period,
            v.org_unit,
            v.category_option_combo,
            value=v.value,
            comment=v.comment,
            followup=v.followup,
            deleted=v.value is None,
        )
        for v in values
    ]
    assert parsed == expected
