"""Data values: DHIS2 JSON mapping, content hashes and lazy chunking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count, islice
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.dhis2.payloads import (
    DataValue,
    changed_values,
    chunked,
    content_hash,
    data_value_set,
)

MEASLES = DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="12")


class TestDhis2Mapping:
    def test_android_sdk_value_is_read_with_all_its_fields(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        value = DataValue.from_dhis2(dhis2_fixture("dhis2-android-sdk/data_value.json"))
        assert value.key == ("s46m5MS0hxu", "201712", "DiszpKrYNg8", "Gmbgme7z9BF", "bRowv6yZOF2")
        assert (value.value, value.stored_by, value.followup, value.deleted) == (
            "12",
            "bodata1",
            False,
            False,
        )
        assert value.comment is None  # DHIS2 sends "" for no comment

    def test_set_level_period_and_org_unit_fill_the_values(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        document = dhis2_fixture(
            "dhis2-docs/docs_dataValueSet_mortality_under5_ngelehun_201401.json"
        )
        header = {k: v for k, v in document.items() if k != "dataValues"}
        values = [DataValue.from_dhis2(raw, header) for raw in document["dataValues"]]
        assert {v.period for v in values} == {"201401"}
        assert {v.org_unit for v in values} == {"DiszpKrYNg8"}
        assert [v.value for v in values] == ["1", "2", "3"]

    def test_missing_identity_is_refused(self) -> None:
        with pytest.raises(ValueError, match="dataElement, period or orgUnit"):
            DataValue.from_dhis2({"dataElement": "f7n9E0hX8qk", "value": "1"})

    def test_value_is_sent_with_only_the_fields_that_are_set(self) -> None:
        assert MEASLES.to_dhis2() == {
            "dataElement": "f7n9E0hX8qk",
            "period": "201401",
            "orgUnit": "DiszpKrYNg8",
            "value": "12",
        }

    def test_deletion_is_sent_as_deleted_without_value(self) -> None:
        deletion = DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", "HllvX50cXC0", value=None)
        sent = deletion.to_dhis2()
        assert sent["deleted"] is True
        assert "value" not in sent
        assert sent["categoryOptionCombo"] == "HllvX50cXC0"

    def test_round_trip_through_dhis2_json_keeps_the_value(self) -> None:
        value = DataValue(
            "f7n9E0hX8qk",
            "2026W3",
            "DiszpKrYNg8",
            "Gmbgme7z9BF",
            "bRowv6yZOF2",
            value="7",
            comment="rupture de stock",
            followup=True,
        )
        assert DataValue.from_dhis2(value.to_dhis2()) == value

    def test_data_value_set_document_carries_the_data_set(self) -> None:
        document = data_value_set([MEASLES], data_set="pBOMPrpg1QX", complete_date="2014-02-03")
        assert document["dataSet"] == "pBOMPrpg1QX"
        assert document["dataValues"] == [MEASLES.to_dhis2()]


class TestContentHash:
    def test_hash_ignores_what_the_server_stamps(self) -> None:
        stamped = DataValue(
            MEASLES.data_element,
            MEASLES.period,
            MEASLES.org_unit,
            value="12",
            stored_by="admin",
            created="2026-01-01",
            last_updated="2026-02-01",
        )
        assert content_hash(stamped) == content_hash(MEASLES)
        assert len(content_hash(MEASLES)) == 64

    @pytest.mark.parametrize(
        "changed",
        [
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="13"),
            DataValue("f7n9E0hX8qk", "201402", "DiszpKrYNg8", value="12"),
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", "Gmbgme7z9BF", value="12"),
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", None, "bRowv6yZOF2", value="12"),
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="12", comment="note"),
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="12", followup=True),
            DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value=None),
        ],
    )
    def test_any_change_dhis2_would_store_changes_the_hash(self, changed: DataValue) -> None:
        assert content_hash(changed) != content_hash(MEASLES)

    def test_whitespace_dhis2_trims_does_not_change_the_hash(self) -> None:
        padded = DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value=" 12 ")
        assert content_hash(padded) == content_hash(MEASLES)

    def test_deletions_hash_alike_whatever_stale_value_they_carry(self) -> None:
        a = DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value="12", deleted=True)
        b = DataValue("f7n9E0hX8qk", "201401", "DiszpKrYNg8", value=None)
        assert content_hash(a) == content_hash(b)

    def test_fields_cannot_blur_into_each_other(self) -> None:
        a = DataValue("ab", "c", "d", value="1")
        b = DataValue("a", "bc", "d", value="1")
        assert content_hash(a) != content_hash(b)

    def test_changed_values_skips_what_dhis2_already_accepted(self) -> None:
        other = DataValue("Ix2HsbDMLea", "201401", "DiszpKrYNg8", value="2")
        updated = DataValue("eY5ehpbEsB7", "201401", "DiszpKrYNg8", value="4")
        ledger = {
            MEASLES.key: content_hash(MEASLES),
            updated.key: content_hash(DataValue("eY5ehpbEsB7", "201401", "DiszpKrYNg8", value="3")),
        }
        assert list(changed_values([MEASLES, other, updated], ledger.get)) == [other, updated]


class TestChunked:
    def test_chunks_have_the_requested_size_and_keep_order(self) -> None:
        chunks = list(chunked(range(2500)))
        assert [len(c) for c in chunks] == [1000, 1000, 500]
        assert [x for c in chunks for x in c] == list(range(2500))

    def test_chunking_is_lazy_on_an_endless_stream(self) -> None:
        consumed = 0

        def endless() -> Iterator[int]:
            nonlocal consumed
            for n in count():
                consumed += 1
                yield n

        first_two = list(islice(chunked(endless(), 3), 2))
        assert first_two == [[0, 1, 2], [3, 4, 5]]
        assert consumed <= 7

    def test_empty_input_gives_no_chunk(self) -> None:
        assert list(chunked([], 10)) == []

    @pytest.mark.parametrize("size", [0, -5])
    def test_size_must_be_positive(self, size: int) -> None:
        with pytest.raises(ValueError, match="positive"):
            next(chunked([1], size))

    @given(st.lists(st.integers(), max_size=200), st.integers(min_value=1, max_value=50))
    def test_chunks_partition_the_input(self, items: list[int], size: int) -> None:
        chunks = list(chunked(items, size))
        assert [x for c in chunks for x in c] == items
        assert all(len(c) == size for c in chunks[:-1])
        assert all(0 < len(c) <= size for c in chunks)
