"""``GET /api/dataValueSets``: select stored values and write them out in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date

from tests.doubles.dhis2.query import _parse_time
from tests.doubles.dhis2.store import (
    COMMENT,
    CREATED,
    DELETED,
    FOLLOWUP,
    LAST_UPDATED,
    STORED_BY,
    VALUE,
    Key,
    Record,
    Store,
    User,
    data_set_elements,
    parse_period,
    timestamp,
)

BATCH = 2000
CSV_HEADER = (
    "dataelement",
    "period",
    "orgunit",
    "categoryoptioncombo",
    "attributeoptioncombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
    "deleted",
)


class IllegalQuery(ValueError):
    """DHIS2 answers these with 409 and an ``E2xxx`` WebMessage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def select_values(
    store: Store, params: dict[str, list[str]], user: User
) -> list[tuple[Key, Record]]:
    """The stored values a data value set query returns, snapshotted under the lock."""

    def first(name: str) -> str | None:
        return params.get(name, [None])[0]

    data_sets = [store.get("dataSets", uid) for uid in params.get("dataSet", [])]
    elements = {de for ds in data_sets if ds for de in data_set_elements(ds)}
    if not elements:
        raise IllegalQuery(
            "E2001", "At least one data element, data set or data element group must be specified"
        )
    periods = set(params.get("period", []))
    start, end = first("startDate"), first("endDate")
    last_updated = first("lastUpdated")
    if not periods and not (start and end) and not last_updated:
        raise IllegalQuery(
            "E2002",
            "At least one period, start/end dates, last updated or last updated duration "
            "must be specified",
        )
    if periods and (start or end):
        raise IllegalQuery("E2003", "Both periods and start/end date cannot be specified")
    roots = params.get("orgUnit", [])
    if not roots:
        raise IllegalQuery("E2006", "At least one organisation unit must be specified")
    for root in roots:
        path = store.ou_path(root) or ""
        if not any(f"/{unit}" in path for unit in user.organisation_units):
            raise IllegalQuery("E2012", f"User is not allowed to view org unit: `{root}`")
    children = (first("children") or "false").lower() == "true"
    include_deleted = (first("includeDeleted") or "false").lower() == "true"
    start_day = date.fromisoformat(start) if start else None
    end_day = date.fromisoformat(end) if end else None
    updated_since = _since(last_updated)
    limit = int(first("limit") or 0)
    with store.lock:
        units = {
            uid
            for uid in store.metadata["organisationUnits"]
            if uid in roots
            or (children and any(f"/{root}/" in (store.ou_path(uid) or "") for root in roots))
        }
        out: list[tuple[Key, Record]] = []
        for key, record in store.values.items():
            if key[0] not in elements or key[2] not in units:
                continue
            if record[DELETED] and not include_deleted:
                continue
            if periods and key[1] not in periods:
                continue
            if start_day is not None and end_day is not None:
                period = parse_period(key[1])
                if period is None or period.start < start_day or period.end > end_day:
                    continue
            if updated_since is not None and record[LAST_UPDATED] < updated_since:
                continue
            out.append((key, record))
            if limit and len(out) >= limit:
                break
    return out


def _since(raw: str | None) -> str | None:
    if not raw:
        return None
    moment = _parse_time(raw)
    if moment is None:
        raise IllegalQuery("E2005", f"Last updated is not valid: `{raw}`")
    return timestamp(moment)


def _item_json(key: Key, record: Record, with_deleted: bool) -> str:
    parts = [
        f'"dataElement":"{key[0]}","period":"{key[1]}","orgUnit":"{key[2]}",'
        f'"categoryOptionCombo":"{key[3]}","attributeOptionCombo":"{key[4]}"'
    ]
    if record[VALUE] is not None:
        parts.append(f'"value":{json.dumps(record[VALUE], ensure_ascii=False)}')
    parts.append(
        f'"storedBy":{json.dumps(record[STORED_BY])},"created":"{record[CREATED]}",'
        f'"lastUpdated":"{record[LAST_UPDATED]}"'
    )
    if record[COMMENT] is not None:
        parts.append(f'"comment":{json.dumps(record[COMMENT], ensure_ascii=False)}')
    parts.append(f'"followup":{"true" if record[FOLLOWUP] else "false"}')
    if with_deleted:
        parts.append(f'"deleted":{"true" if record[DELETED] else "false"}')
    return "{" + ",".join(parts) + "}"


def write_json(rows: list[tuple[Key, Record]], with_deleted: bool) -> Iterator[bytes]:
    yield b'{"dataValues":['
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        text = ",".join(_item_json(k, r, with_deleted) for k, r in batch)
        yield (("," if start else "") + text).encode()
    yield b"]}"


def write_csv(rows: list[tuple[Key, Record]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for start in range(0, len(rows), BATCH):
        for key, record in rows[start : start + BATCH]:
            writer.writerow(
                (
                    *key,
                    record[VALUE] or "",
                    record[STORED_BY],
                    record[LAST_UPDATED],
                    record[COMMENT] or "",
                    "true" if record[FOLLOWUP] else "false",
                    "true" if record[DELETED] else "false",
                )
            )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
