"""Incremental readers and writers for data value sets too large to hold in memory.

``DataValueSetJsonParser`` reads a ``dataValueSet`` JSON document chunk by chunk and
hands out each element of ``dataValues`` as soon as it is complete; ``CsvDataValueParser``
does the same for ``/api/dataValueSets.csv`` (quoted fields may hold newlines). Memory
stays bounded by the largest single value, whatever the size of the answer.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

from afiya.domain.dhis2.payloads import DataValue

_WS = re.compile(r"[ \t\n\r]*")
_COMPACT_AFTER = 1 << 16
_DECODER = json.JSONDecoder()


class StreamFormatError(ValueError):
    """The text is not a data value set (bad JSON, wrong structure, truncated)."""


class DataValueSetJsonParser:
    """Push parser for ``{"dataSet": ..., "dataValues": [{...}, ...], ...}``.

    Call :meth:`feed` with each decoded text chunk and :meth:`close` at the end; both
    return the data values completed so far. Set-level fields met before ``dataValues``
    (``period``, ``orgUnit``, ``attributeOptionCombo``) fill values that lack them.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._pos = 0
        self._state = "start"
        self._key: str | None = None
        self.header: dict[str, Any] = {}
        self._eof = False

    def feed(self, text: str) -> list[DataValue]:
        self._buf += text
        return self._run()

    def close(self) -> list[DataValue]:
        self._eof = True
        values = self._run()
        if self._state != "done":
            raise StreamFormatError("the data value set ends before its closing brace")
        return values

    # The document is walked as a small state machine; any value other than the
    # dataValues array is decoded whole with the standard JSON decoder.
    def _run(self) -> list[DataValue]:
        out: list[DataValue] = []
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos >= len(self._buf):
                break
            char = self._buf[self._pos]
            state = self._state
            if state == "start":
                self._expect(char, "{")
                self._state = "key"
            elif state == "key":
                if char == "}":
                    self._pos += 1
                    self._state = "done"
                    continue
                key = self._decode()
                if key is _MORE:
                    break
                if not isinstance(key, str):
                    raise StreamFormatError("object key expected")
                self._key = key
                self._state = "colon"
            elif state == "colon":
                self._expect(char, ":")
                self._state = "array" if self._key == "dataValues" else "value"
            elif state == "value":
                value = self._decode()
                if value is _MORE:
                    break
                self.header[self._key or ""] = value
                self._state = "after_value"
            elif state == "after_value":
                if char == ",":
                    self._pos += 1
                    self._state = "key"
                elif char == "}":
                    self._pos += 1
                    self._state = "done"
                else:
                    raise StreamFormatError(f"',' or '}}' expected at {char!r}")
            elif state == "array":
                self._expect(char, "[")
                self._state = "item_or_end"
            elif state in ("item_or_end", "item"):
                if char == "]" and state == "item_or_end":
                    self._pos += 1
                    self._state = "after_value"
                    continue
                item = self._decode()
                if item is _MORE:
                    break
                if not isinstance(item, dict):
                    raise StreamFormatError("each element of dataValues must be an object")
                out.append(self._to_value(item))
                self._state = "item_sep"
            elif state == "item_sep":
                if char == ",":
                    self._pos += 1
                    self._state = "item"
                elif char == "]":
                    self._pos += 1
                    self._state = "after_value"
                else:
                    raise StreamFormatError(f"',' or ']' expected at {char!r}")
            else:  # done: only whitespace may follow
                raise StreamFormatError("text after the end of the data value set")
        if self._pos > _COMPACT_AFTER:
            self._buf = self._buf[self._pos :]
            self._pos = 0
        return out

    def _expect(self, char: str, wanted: str) -> None:
        if char != wanted:
            raise StreamFormatError(f"{wanted!r} expected, found {char!r}")
        self._pos += 1

    def _decode(self) -> Any:
        try:
            value, end = _DECODER.raw_decode(self._buf, self._pos)
        except json.JSONDecodeError as exc:
            if self._eof:
                raise StreamFormatError(f"invalid JSON: {exc.msg}") from exc
            return _MORE
        # A number may go on in the next chunk ("12" then "3").
        if end == len(self._buf) and not self._eof and isinstance(value, int | float):
            return _MORE
        self._pos = end
        return value

    def _to_value(self, item: Mapping[str, Any]) -> DataValue:
        try:
            return DataValue.from_dhis2(item, self.header)
        except ValueError as exc:
            raise StreamFormatError(str(exc)) from exc


class _More:
    """Marker: the buffer ends inside a token."""


_MORE: Any = _More()

_CSV_COLUMNS = {
    "dataelement": "dataElement",
    "period": "period",
    "orgunit": "orgUnit",
    "catoptcombo": "categoryOptionCombo",
    "categoryoptioncombo": "categoryOptionCombo",
    "attroptcombo": "attributeOptionCombo",
    "attributeoptioncombo": "attributeOptionCombo",
    "value": "value",
    "storedby": "storedBy",
    "strby": "storedBy",
    "created": "created",
    "lastupdated": "lastUpdated",
    "lstupd": "lastUpdated",
    "timestamp": "lastUpdated",
    "comment": "comment",
    "cmt": "comment",
    "followup": "followup",
    "flwup": "followup",
    "deleted": "deleted",
}
# Column order of DHIS2's CSV when the header row is missing or unknown.
_CSV_DEFAULT_ORDER = (
    "dataElement",
    "period",
    "orgUnit",
    "categoryOptionCombo",
    "attributeOptionCombo",
    "value",
    "storedBy",
    "lastUpdated",
    "comment",
    "followup",
    "deleted",
)


class CsvDataValueParser:
    """Push parser for DHIS2's data value CSV (first row: header)."""

    def __init__(self) -> None:
        self._carry = ""
        self._record = ""
        self._columns: tuple[str, ...] | None = None

    def feed(self, text: str) -> list[DataValue]:
        data = self._carry + text
        cut = data.rfind("\n") + 1
        self._carry = data[cut:]
        return self._lines(data[:cut].splitlines(keepends=True))

    def close(self) -> list[DataValue]:
        tail = self._carry
        self._carry = ""
        values = self._lines([tail] if tail else [])
        if self._record:
            raise StreamFormatError("the CSV ends inside a quoted field")
        return values

    def _lines(self, lines: Iterable[str]) -> list[DataValue]:
        out: list[DataValue] = []
        for line in lines:
            self._record += line
            # A record is complete once its quotes balance ("" escapes count twice).
            if self._record.count('"') % 2:
                continue
            record, self._record = self._record, ""
            if not record.strip():
                continue
            row = next(csv.reader([record]))
            if self._columns is None:
                if _looks_like_header(row):
                    self._columns = tuple(
                        _CSV_COLUMNS.get(name.strip().lower(), "") for name in row
                    )
                    continue
                self._columns = _CSV_DEFAULT_ORDER
            out.append(self._to_value(row))
        return out

    def _to_value(self, row: list[str]) -> DataValue:
        columns = self._columns or _CSV_DEFAULT_ORDER
        raw: dict[str, Any] = {}
        for name, cell in zip(columns, row, strict=False):
            if name and cell != "":
                raw[name] = cell
        try:
            return DataValue.from_dhis2(raw)
        except ValueError as exc:
            raise StreamFormatError(str(exc)) from exc


def _looks_like_header(row: list[str]) -> bool:
    return bool(row) and row[0].strip().lower() in ("dataelement", "data_element", "de")


async def parse_json_stream(chunks: AsyncIterable[str]) -> AsyncIterator[DataValue]:
    """Data values of a JSON data value set arriving as text chunks."""
    parser = DataValueSetJsonParser()
    async for chunk in chunks:
        for value in parser.feed(chunk):
            yield value
    for value in parser.close():
        yield value


async def parse_csv_stream(chunks: AsyncIterable[str]) -> AsyncIterator[DataValue]:
    """Data values of DHIS2 CSV arriving as text chunks."""
    parser = CsvDataValueParser()
    async for chunk in chunks:
        for value in parser.feed(chunk):
            yield value
    for value in parser.close():
        yield value


def encode_data_value_set(
    values: Iterable[DataValue], *, data_set: str | None = None, batch: int = 500
) -> Iterable[bytes]:
    """The JSON body of ``POST /api/dataValueSets``, produced lazily in byte chunks.

    Values keep their order, so a conflict's ``indexes`` point back into ``values``.
    """
    head: dict[str, Any] = {"dataSet": data_set} if data_set is not None else {}
    opening = json.dumps(head)[:-1] + (', "dataValues": [' if head else '"dataValues": [')
    yield opening.encode()
    parts: list[str] = []
    first = True
    for value in values:
        text = json.dumps(value.to_dhis2(), ensure_ascii=False, separators=(",", ":"))
        parts.append(text if first else "," + text)
        first = False
        if len(parts) >= batch:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("]}")
    yield "".join(parts).encode()
