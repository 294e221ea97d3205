"""XLSX (openpyxl) and CSV tables: write a header and rows, read them back.

CSV is written UTF-8 with a BOM (so Excel opens accents and Arabic correctly) and read with
``,`` or ``;`` (French Excel) detected from the header line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


class UnreadableFile(ValueError):
    """The bytes are not a spreadsheet of the announced format."""


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook with one sheet per ``(title, header, rows)``; streams rows (write-only)."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise UnreadableFile("empty file")
    return rows[0], rows[1:]


def read_xlsx(data: bytes) -> tuple[list[Any], list[tuple[Any, ...]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, xml, key errors)
        raise UnreadableFile(str(exc)) from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()))
        if not header:
            raise UnreadableFile("empty sheet")
        return header, [r for r in rows if any(c is not None and c != "" for c in r)]
    finally:
        book.close()


def read_table(
    data: bytes, filename: str | None, content_type: str | None
) -> tuple[list[Any], Sequence[Sequence[Any]]]:
    """Read a CSV or XLSX upload (by extension or content type; XLSX files start with PK)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or (content_type or "").startswith(XLSX) or data[:2] == b"PK":
        return read_xlsx(data)
    return read_csv(data)
