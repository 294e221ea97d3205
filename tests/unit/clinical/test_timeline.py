"""Timeline merge, filters and keyset cursors."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.domain.clinical.timeline import (
    ItemType,
    TimelineItem,
    decode_cursor,
    encode_cursor,
    item,
    make_query,
    merge,
    order,
)
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.i18n import Message
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import NOUAKCHOTT, T0

TYPES = list(ItemType)


def _items(count: int, seed: int = 7) -> list[TimelineItem]:
    rng = random.Random(seed)
    # coarse times so that many items share a time: the id must break the ties
    return [
        item(
            rng.choice(TYPES),
            uuid7(),
            T0 + timedelta(minutes=rng.randrange(count // 3 + 1)),
            Message("x"),
        )
        for _ in range(count)
    ]


def _sources(items: list[TimelineItem], newest_first: bool) -> list[list[TimelineItem]]:
    by_type: dict[ItemType, list[TimelineItem]] = {}
    for entry in items:
        by_type.setdefault(entry.type, []).append(entry)
    return [order(group, newest_first=newest_first) for group in by_type.values()]


def _walk(items: list[TimelineItem], **query: object) -> list[TimelineItem]:
    seen: list[TimelineItem] = []
    cursor = None
    newest_first = bool(query.get("newest_first", True))
    while True:
        page = merge(_sources(items, newest_first), make_query(cursor=cursor, **query))  # type: ignore[arg-type]
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(0, 120),
    limit=st.integers(1, 25),
    newest_first=st.booleans(),
    seed=st.integers(0, 99),
)
def test_paging_visits_every_item_once_in_order(
    count: int, limit: int, newest_first: bool, seed: int
) -> None:
    items = _items(count, seed)
    walked = _walk(items, limit=limit, newest_first=newest_first)
    assert walked == order(items, newest_first=newest_first)


def test_filters_by_type_and_half_open_period() -> None:
    items = _items(90)
    since, until = T0 + timedelta(minutes=5), T0 + timedelta(minutes=20)
    walked = _walk(items, types=["note", "result"], since=since, until=until, limit=7)
    expected = [
        e
        for e in order(items)
        if e.type in (ItemType.NOTE, ItemType.RESULT) and since <= e.at < until
    ]
    assert walked == expected and expected


def test_an_item_inserted_before_the_cursor_does_not_shift_the_next_page() -> None:
    items = _items(30)
    first = merge(_sources(items, True), make_query(limit=10))
    late = item(
        ItemType.OBSERVATION, uuid7(), T0 + timedelta(days=1), Message("late")
    )  # newest of all
    second = merge(_sources([*items, late], True), make_query(limit=10, cursor=first.next_cursor))
    assert second.items == tuple(order(items)[10:20])


def test_cursor_round_trip_is_time_zone_independent() -> None:
    at = T0.astimezone(NOUAKCHOTT)
    identifier = uuid7()
    cursor = decode_cursor(encode_cursor(at, identifier))
    assert cursor.at == T0 and cursor.id == identifier


@pytest.mark.parametrize("bad", ["nonsense", "Zm9vfGJhcg", encode_cursor(T0, uuid7())[:-3]])
def test_foreign_cursor_is_a_field_error(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(bad)
    assert caught.value.errors[0].field == "cursor"


def test_query_validation_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_query(types=["note", "x-ray"], since=T0, until=T0 - timedelta(days=1), limit=0)
    assert {e.field for e in caught.value.errors} == {"types", "until", "limit"}


def test_items_link_to_their_detail() -> None:
    identifier = uuid7()
    assert (
        item(ItemType.ENCOUNTER, identifier, T0, Message("x")).link
        == f"/api/v1/encounters/{identifier}"
    )
