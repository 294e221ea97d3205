"""Import summaries and async job answers, read from every DHIS2 reference payload."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from afiya.domain.dhis2.conflicts import ConflictKind
from afiya.domain.dhis2.import_summary import (
    ImportCount,
    ImportStatus,
    SummaryFormatError,
    is_async_job,
    parse_async_job,
    parse_conflict,
    parse_import_summary,
    parse_task_notifications,
    task_completed,
)
from afiya.domain.dhis2.payloads import DataValue


def _root() -> Path:
    override = os.environ.get("AFIYA_SHARED_DIR")
    base = Path(override) if override else Path(__file__).resolve().parents[3] / ".." / "shared"
    return (base / "fixtures" / "dhis2").resolve()


# What each reference payload is. A new fixture fails test_every_fixture_is_classified
# until it is listed here.
KINDS = {
    "dhis2-android-sdk/data_value.json": "data_value",
    "dhis2-android-sdk/data_value_import_summary_web_response.json": "summary",
    "dhis2-android-sdk/data_value_set_success.json": "summary",
    "dhis2-android-sdk/data_value_set_warning.json": "summary",
    "dhis2-android-sdk/data_values_single_period.json": "data_value_set",
    "dhis2-android-sdk/import_conflict.json": "conflict",
    "dhis2-android-sdk/import_count.json": "count",
    "dhis2-android-sdk/organisation_unit.json": "metadata",
    "dhis2-android-sdk/organisation_unit_levels.json": "metadata",
    "dhis2-android-sdk/organisation_units.json": "metadata",
    "dhis2-core/dataValueSetCreateDate.json": "data_value_set",
    "dhis2-core/dataValueSetCreateDateUpdated.json": "data_value_set",
    "dhis2-core/dataValueSetJ.json": "data_value_set",
    "dhis2-core/dataValueSetJDeleteNewValue.json": "data_value_set",
    "dhis2-core/dataValueSetJDeleteNoValue.json": "data_value_set",
    "dhis2-core/dataValueSetJDeleteZeroValue.json": "data_value_set",
    "dhis2-docs/docs_async_import_webmessage.json": "async_job",
    "dhis2-docs/docs_dataValueSet_bulk_multi_orgunit_period.json": "data_value_set",
    "dhis2-docs/docs_dataValueSet_format_template.json": "data_value_set",
    "dhis2-docs/docs_dataValueSet_mortality_under5_ngelehun_201401.json": "data_value_set",
    "dhis2-docs/docs_dataValueSets_GET_response.json": "data_value_set",
    "dhis2-docs/docs_task_summary_DATAVALUE_IMPORT_importSummary.json": "summary",
}
ALL_FIXTURES = sorted(str(p.relative_to(_root())) for p in _root().rglob("*.json"))


def test_every_fixture_is_classified() -> None:
    assert ALL_FIXTURES, f"no DHIS2 fixtures under {_root()}"
    assert set(ALL_FIXTURES) == set(KINDS)


@pytest.mark.parametrize("relative", ALL_FIXTURES)
def test_every_fixture_is_read_as_what_it_is(relative: str) -> None:
    document = json.loads((_root() / relative).read_text(encoding="utf-8"))
    kind = KINDS[relative]
    if kind == "summary":
        summary = parse_import_summary(document)
        assert summary.import_count.total > 0
        return
    with pytest.raises(SummaryFormatError):
        parse_import_summary(document)
    if kind == "async_job":
        assert is_async_job(document)
    elif kind == "data_value_set":
        header = {k: v for k, v in document.items() if k != "dataValues"}
        values = [DataValue.from_dhis2(raw, header) for raw in document["dataValues"]]
        assert values
        assert all(v.data_element and v.period and v.org_unit for v in values)
    elif kind == "data_value":
        assert DataValue.from_dhis2(document).value == "12"
    elif kind == "conflict":
        assert parse_conflict(document).error_code == "E7619"
    else:
        assert not is_async_job(document)


class TestSummaries:
    def test_wrapped_success_reports_counts_and_http_status(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        summary = parse_import_summary(
            dhis2_fixture("dhis2-android-sdk/data_value_set_success.json")
        )
        assert summary.status is ImportStatus.SUCCESS
        assert summary.import_count == ImportCount(imported=0, updated=3, ignored=0, deleted=0)
        assert summary.http_status_code == 200
        assert summary.succeeded
        assert not summary.aborted
        assert summary.dry_run is False
        assert summary.data_set_complete == "false"

    def test_wrapped_warning_keeps_the_legacy_conflict_and_infers_its_code(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        summary = parse_import_summary(
            dhis2_fixture("dhis2-android-sdk/data_value_set_warning.json")
        )
        assert summary.status is ImportStatus.WARNING
        assert summary.http_status_code == 409
        assert summary.import_count.ignored == 1
        (conflict,) = summary.conflicts
        assert conflict.object == "40L"
        assert conflict.error_code is None
        assert conflict.rule.code == "E7619"  # "must match data element type"
        assert conflict.kind is ConflictKind.BLOCKING
        assert summary.blocking_conflicts == (conflict,)
        assert not summary.succeeded

    def test_bare_task_summary_is_read(self, dhis2_fixture: Callable[[str], Any]) -> None:
        summary = parse_import_summary(
            dhis2_fixture("dhis2-docs/docs_task_summary_DATAVALUE_IMPORT_importSummary.json")
        )
        assert summary.import_count.updated == 431
        assert summary.import_count.accepted == 431
        assert summary.http_status_code is None
        assert summary.conflicts == ()

    def test_new_conflict_shape_gives_code_property_and_indexes(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        conflict = parse_conflict(dhis2_fixture("dhis2-android-sdk/import_conflict.json"))
        assert conflict.error_code == "E7619"
        assert conflict.property_name == "value"
        assert conflict.indexes == (2, 7)
        assert conflict.objects == {"dataElement": "UOlfIjgN8X6", "value": "value_not_numeric"}

    def test_rejected_values_are_found_by_index(self) -> None:
        summary = parse_import_summary(
            {
                "responseType": "ImportSummary",
                "status": "WARNING",
                "importCount": {"imported": 1, "ignored": 2},
                "conflicts": [
                    {
                        "object": "202701",
                        "value": "after latest open future period",
                        "errorCode": "E7641",
                        "indexes": [2],
                    },
                    {"object": "XXX", "value": "not found", "errorCode": "E7612", "indexes": [0]},
                ],
                "rejectedIndexes": [0, 2],
            }
        )
        assert summary.rejected(0)
        assert summary.rejected(2)
        assert not summary.rejected(1)
        assert [c.error_code for c in summary.retriable_conflicts] == ["E7641"]
        assert [c.error_code for c in summary.blocking_conflicts] == ["E7612"]
        assert summary.conflicts_at(2)[0].retriable

    def test_error_status_means_the_payload_was_aborted(self) -> None:
        summary = parse_import_summary(
            {
                "httpStatusCode": 409,
                "response": {
                    "responseType": "ImportSummary",
                    "status": "ERROR",
                    "importCount": {},
                    "conflicts": [
                        {
                            "object": "nope",
                            "value": "Data set not found or not accessible",
                            "errorCode": "E7600",
                        }
                    ],
                },
            }
        )
        assert summary.aborted
        assert summary.import_count == ImportCount()

    @pytest.mark.parametrize(
        "document",
        [
            {},
            {"status": "OK"},
            {"response": {"jobType": "X"}},
            {"responseType": "ImportSummary", "status": "MAYBE", "importCount": {}},
        ],
    )
    def test_documents_without_a_summary_are_refused(self, document: dict[str, Any]) -> None:
        with pytest.raises(SummaryFormatError):
            parse_import_summary(document)


class TestAsyncJobs:
    def test_job_webmessage_gives_id_type_and_endpoint(
        self, dhis2_fixture: Callable[[str], Any]
    ) -> None:
        job = parse_async_job(dhis2_fixture("dhis2-docs/docs_async_import_webmessage.json"))
        assert (job.id, job.job_type) == ("YR1UxOUXmzT", "DATAVALUE_IMPORT")
        assert job.notifier_endpoint == "/api/system/tasks/DATAVALUE_IMPORT/YR1UxOUXmzT"

    def test_summary_is_not_a_job(self, dhis2_fixture: Callable[[str], Any]) -> None:
        with pytest.raises(SummaryFormatError):
            parse_async_job(dhis2_fixture("dhis2-android-sdk/data_value_set_success.json"))

    def test_task_completion_is_read_from_notifications(self) -> None:
        running = parse_task_notifications(
            [{"uid": "a", "level": "INFO", "message": "Importing data values", "completed": False}]
        )
        done = parse_task_notifications(
            [
                {"uid": "b", "level": "INFO", "message": "Import done", "completed": True},
                {"uid": "a", "level": "INFO", "message": "Importing", "completed": False},
            ]
        )
        assert not task_completed(running)
        assert task_completed(done)
        assert done[0].message == "Import done"
        assert parse_task_notifications({}) == ()
