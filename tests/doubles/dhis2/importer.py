"""``POST /api/dataValueSets`` as dhis2-core 2.40 does it (``DefaultDataValueSetService``).

Per value, in DHIS2's order: the first failing validation adds a conflict (grouped by
error code and objects, with the value's index) and the value is ignored. Then:

* existing value + CREATE_AND_UPDATE/UPDATE: ``deleted: true``, no value and no comment,
  or an insignificant zero deletes it; the same value, comment and follow-up is ignored;
  anything else updates it. DELETE deletes it; CREATE ignores it (rejected index);
* no value (or a soft-deleted one) + CREATE_AND_UPDATE/CREATE: imported (an empty one is
  ignored); UPDATE/DELETE ignore it (rejected index);
* ``dryRun`` counts the same and stores nothing.
"""

import sys
from datetime import date
from typing import Any

from tests.doubles.dhis2.locks import PeriodChecks
from tests.doubles.dhis2.rules import (
    MAX_TEXT,
    NUMERIC,
    VALUE_ERRORS,
    Conflicts,
    ImportOptions,
    normalise,
    number,
    value_error,
)
from tests.doubles.dhis2.store import (
    COMMENT,
    CREATED,
    DEFAULT_COC,
    DELETED,
    FOLLOWUP,
    VALUE,
    Key,
    Record,
    Store,
    User,
    parse_period,
    timestamp,
)

__all__ = ["ImportOptions", "Importer"]


class Importer(PeriodChecks):
    """One import run against the store."""

    def __init__(self, store: Store, user: User, options: ImportOptions) -> None:
        self.store = store
        self.user = user
        self.options = options
        self.today: date = store.current_date()
        self.now = sys.intern(timestamp())
        self.conflicts = Conflicts(store.legacy)
        self.counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
        self.rejected: list[int] = []

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Import ``payload``; return the bare ImportSummary."""
        with self.store.lock:
            data_set = self._data_set(payload)
            if self.conflicts.items:
                return self._summary("ERROR", "Import process was aborted", payload)
            outer = {k: payload.get(k) for k in ("period", "orgUnit", "attributeOptionCombo")}
            for index, raw in enumerate(payload.get("dataValues") or ()):
                self._one(index, {**raw, **{k: v for k, v in outer.items() if v}}, data_set)
            status = "WARNING" if self.conflicts.items else "SUCCESS"
            return self._summary(status, "Import process completed successfully", payload)

    def _summary(self, status: str, description: str, payload: dict[str, Any]) -> dict[str, Any]:
        complete = payload.get("completeDate") if payload.get("dataSet") else None
        summary: dict[str, Any] = {
            "responseType": "ImportSummary",
            "status": status,
            "importOptions": self.options.as_json(),
            "description": description,
            "importCount": dict(self.counts),
            "conflicts": self.conflicts.as_json(),
            "dataSetComplete": str(complete) if complete else "false",
        }
        if not self.store.legacy:
            summary["rejectedIndexes"] = self.rejected
        return summary

    def _scheme(self, specific: str | None) -> str:
        return specific or self.options.id_scheme

    def _data_set(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        raw = payload.get("dataSet")
        data_set = None
        if raw:
            uid = self.store.resolve("dataSets", raw, self._scheme(self.options.data_set_id_scheme))
            data_set = self.store.get("dataSets", uid) if uid else None
            if data_set is None:
                self.conflicts.add(
                    None,
                    "E7600",
                    "dataSet",
                    f"Data set not found or not accessible: `{raw}`",
                    dataSet=raw,
                )
        outer_ou = payload.get("orgUnit")
        if outer_ou and not self.store.resolve(
            "organisationUnits", outer_ou, self._scheme(self.options.org_unit_id_scheme)
        ):
            self.conflicts.add(
                None,
                "E7603",
                "orgUnit",
                f"Org unit not found or not accessible: `{outer_ou}`",
                organisationUnit=outer_ou,
                dataSet=raw or "",
            )
        return data_set

    def _one(self, index: int, raw: dict[str, Any], data_set: dict[str, Any] | None) -> None:
        checked = self._validate(index, raw, data_set)
        if checked is None:
            self.counts["ignored"] += 1
            self.rejected.append(index)
            return
        key, element, value, comment, followup, deleted_flag = checked
        self._save(index, key, element, value, comment, followup, deleted_flag)

    def _validate(
        self, index: int, raw: dict[str, Any], data_set: dict[str, Any] | None
    ) -> tuple[Key, dict[str, Any], str | None, str | None, bool, bool] | None:
        store, add = self.store, self.conflicts.add
        raw_de, raw_pe, raw_ou = (
            str(raw.get(k) or "") for k in ("dataElement", "period", "orgUnit")
        )
        de = store.resolve(
            "dataElements", raw_de, self._scheme(self.options.data_element_id_scheme)
        )
        if de is None:
            add(
                index,
                "E7610",
                "dataElement",
                f"Data element not found or not accessible: `{raw_de}`",
                dataElement=raw_de,
            )
            return None
        period = parse_period(raw_pe)
        if period is None:
            add(index, "E7611", "period", f"Period not valid: `{raw_pe}`", period=raw_pe)
            return None
        ou = store.resolve(
            "organisationUnits", raw_ou, self._scheme(self.options.org_unit_id_scheme)
        )
        if ou is None:
            add(
                index,
                "E7612",
                "orgUnit",
                f"Organisation unit not found or not accessible: `{raw_ou}`",
                organisationUnit=raw_ou,
            )
            return None
        combos = []
        for name, code in (("categoryOptionCombo", "E7613"), ("attributeOptionCombo", "E7615")):
            given = raw.get(name)
            if not given:
                combos.append(DEFAULT_COC)
                continue
            uid = store.resolve(
                "categoryOptionCombos",
                str(given),
                self._scheme(self.options.category_option_combo_id_scheme),
            )
            if uid is None:
                label = "Category" if code == "E7613" else "Attribute"
                add(
                    index,
                    code,
                    name,
                    f"{label} option combo not found or not accessible for writing data: `{given}`",
                    categoryOptionCombo=str(given),
                )
                return None
            combos.append(uid)
        path = store.ou_path(ou) or ""
        if not any(f"/{unit}" in path for unit in self.user.organisation_units):
            add(
                index,
                "E7617",
                "orgUnit",
                f"Organisation unit: `{ou}` not in hierarchy of current user: `{self.user.id}`",
                organisationUnit=ou,
                user=self.user.id,
            )
            return None
        element = store.get("dataElements", de) or {}
        value = _text(raw.get("value"))
        comment = _text(raw.get("comment"))
        deleted_flag = raw.get("deleted") is True or str(raw.get("deleted")).lower() == "true"
        if (
            value is None
            and comment is None
            and not deleted_flag
            and self.options.strategy != "DELETE"
        ):
            add(
                index,
                "E7618",
                "value",
                f"Data value or comment not specified for data element: `{de}`",
                dataElement=de,
            )
            return None
        value_type = str(element.get("valueType") or "TEXT")
        if value is not None and not deleted_flag:
            error = value_error(value_type, value)
            if error is not None:
                add(
                    index,
                    "E7619",
                    "value",
                    f"Value must match data element's `{de}` type constraints: "
                    f"{VALUE_ERRORS[error]}",
                    dataElement=de,
                    value=error,
                )
                return None
            value = normalise(value_type, value)
        if comment is not None and len(comment) > MAX_TEXT:
            add(
                index,
                "E7620",
                "comment",
                "Invalid comment: comment_length_greater_than_max_length",
                comment="comment_length_greater_than_max_length",
            )
            return None
        options = [o.get("code") for o in (element.get("optionSet") or {}).get("options") or ()]
        if options and value is not None and value not in options:
            add(
                index,
                "E7621",
                "value",
                f"Data value is not a valid option of the data element option set: `{de}`",
                dataElement=de,
            )
            return None
        if not self._period_open(index, de, period, ou, combos[1], data_set):
            return None
        key: Key = (sys.intern(de), sys.intern(period.id), sys.intern(ou), combos[0], combos[1])
        followup = str(raw.get("followup") or raw.get("followUp") or "").lower() == "true"
        return key, element, value, comment, followup, deleted_flag

    def _save(
        self,
        index: int,
        key: Key,
        element: dict[str, Any],
        value: str | None,
        comment: str | None,
        followup: bool,
        deleted_flag: bool,
    ) -> None:
        strategy, counts = self.options.strategy, self.counts
        existing = self.store.values.get(key)
        live = existing is not None and not existing[DELETED]
        zero = (
            value is not None
            and element.get("valueType") in NUMERIC
            and not element.get("zeroIsSignificant", False)
            and number(value) == 0
        )
        if zero and (not live or strategy == "CREATE"):
            return  # DHIS2 skips insignificant zeros without counting them
        if live:
            assert existing is not None
            if strategy in ("CREATE_AND_UPDATE", "UPDATE"):
                if deleted_flag or zero or (value is None and comment is None):
                    counts["deleted"] += 1
                    self._store(
                        key,
                        existing[VALUE],
                        existing[COMMENT],
                        existing[FOLLOWUP],
                        existing[CREATED],
                        True,
                    )
                elif (existing[VALUE], existing[COMMENT], existing[FOLLOWUP]) == (
                    value,
                    comment,
                    followup,
                ):
                    counts["ignored"] += 1
                else:
                    counts["updated"] += 1
                    self._store(key, value, comment, followup, existing[CREATED], False)
            elif strategy == "DELETE":
                counts["deleted"] += 1
                self._store(
                    key,
                    existing[VALUE],
                    existing[COMMENT],
                    existing[FOLLOWUP],
                    existing[CREATED],
                    True,
                )
            else:
                counts["ignored"] += 1
                self.rejected.append(index)
            return
        if strategy in ("CREATE_AND_UPDATE", "CREATE"):
            if deleted_flag or (value is None and comment is None):
                counts["ignored"] += 1
                return
            counts["imported"] += 1
            self._store(key, value, comment, followup, self.now, False)
        else:
            counts["ignored"] += 1
            self.rejected.append(index)

    def _store(
        self,
        key: Key,
        value: str | None,
        comment: str | None,
        followup: bool,
        created: str,
        deleted: bool,
    ) -> None:
        if self.options.dry_run:
            return
        record: Record = (value, comment, followup, self.user.username, created, self.now, deleted)
        self.store.values[key] = record


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None
