"""DHIS2 import summaries, read from every shape DHIS2 answers with.

* the WebMessage wrapper of DHIS2 2.38 and later (``{"httpStatus", "httpStatusCode",
  "status", "message", "response": {"responseType": "ImportSummary", ...}}``), sent with
  HTTP 409 when there are conflicts;
* the bare ``ImportSummary`` of older versions and of ``/api/system/taskSummaries``;
* the asynchronous job WebMessage (``response.jobType`` / ``relativeNotifierEndpoint``)
  and the task notifications of ``/api/system/tasks/{type}/{id}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from afiya.domain.dhis2.conflicts import ConflictKind, ConflictRule, rule_for


class SummaryFormatError(ValueError):
    """The document is not an import summary in any shape DHIS2 uses."""


class ImportStatus(Enum):
    """``ImportSummary.status``: WARNING means some values were taken, not all."""

    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class ImportCount:
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.ignored + self.deleted

    @property
    def accepted(self) -> int:
        """Values DHIS2 now holds as sent (created, changed or deleted)."""
        return self.imported + self.updated + self.deleted


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """One conflict; ``indexes`` are 0-based positions in the posted ``dataValues``."""

    object: str | None
    value: str
    error_code: str | None = None
    property_name: str | None = None  # DHIS2's "property": the offending field
    indexes: tuple[int, ...] = ()
    objects: Mapping[str, str] = field(default_factory=dict)

    @property
    def rule(self) -> ConflictRule:
        return rule_for(self.error_code, self.value)

    @property
    def kind(self) -> ConflictKind:
        return self.rule.kind

    @property
    def retriable(self) -> bool:
        return self.rule.retriable


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What DHIS2 did with a posted data value set."""

    status: ImportStatus
    import_count: ImportCount
    conflicts: tuple[ImportConflict, ...] = ()
    rejected_indexes: tuple[int, ...] = ()
    description: str | None = None
    data_set_complete: str | None = None
    dry_run: bool | None = None
    http_status_code: int | None = None
    message: str | None = None

    @property
    def succeeded(self) -> bool:
        """Every value was taken: success and no conflict."""
        return self.status is ImportStatus.SUCCESS and not self.conflicts

    @property
    def aborted(self) -> bool:
        """DHIS2 refused the whole payload (status ERROR: bad data set, org unit...)."""
        return self.status is ImportStatus.ERROR

    @property
    def blocking_conflicts(self) -> tuple[ImportConflict, ...]:
        return tuple(c for c in self.conflicts if not c.retriable)

    @property
    def retriable_conflicts(self) -> tuple[ImportConflict, ...]:
        return tuple(c for c in self.conflicts if c.retriable)

    def conflicts_at(self, index: int) -> tuple[ImportConflict, ...]:
        """The conflicts naming the value posted at ``index``."""
        return tuple(c for c in self.conflicts if index in c.indexes)

    def rejected(self, index: int) -> bool:
        """Whether the value posted at ``index`` was ignored.

        DHIS2 2.36+ lists ``rejectedIndexes``; older versions only name objects, in which
        case a conflict's indexes are the only evidence.
        """
        return index in self.rejected_indexes or bool(self.conflicts_at(index))


@dataclass(frozen=True, slots=True)
class AsyncJob:
    """An import DHIS2 runs in the background (``async=true``)."""

    id: str
    job_type: str
    name: str | None = None
    created: str | None = None
    notifier_endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class TaskNotification:
    """One line of ``/api/system/tasks/{type}/{id}``; the list is newest first."""

    message: str
    completed: bool
    level: str = "INFO"
    time: str | None = None
    uid: str | None = None


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def _parse_count(raw: Any) -> ImportCount:
    if not isinstance(raw, Mapping):
        return ImportCount()
    return ImportCount(
        imported=_int(raw.get("imported")),
        updated=_int(raw.get("updated")),
        ignored=_int(raw.get("ignored")),
        deleted=_int(raw.get("deleted")),
    )


def parse_conflict(raw: Mapping[str, Any]) -> ImportConflict:
    """Read one conflict, old (``{object, value}``) or new (with code and indexes)."""
    objects = raw.get("objects")
    indexes = raw.get("indexes")
    obj = raw.get("object")
    return ImportConflict(
        object=None if obj is None else str(obj),
        value=str(raw.get("value") or ""),
        error_code=raw.get("errorCode") or None,
        property_name=raw.get("property") or None,
        indexes=tuple(int(i) for i in indexes) if isinstance(indexes, Sequence) else (),
        objects=(
            {str(k): str(v) for k, v in objects.items()} if isinstance(objects, Mapping) else {}
        ),
    )


def _unwrap(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], int | None, str | None]:
    """The ImportSummary inside a WebMessage (or the document itself), status and message."""
    response = document.get("response")
    if isinstance(response, Mapping) and (
        response.get("responseType") == "ImportSummary" or "importCount" in response
    ):
        code = document.get("httpStatusCode")
        message = document.get("message")
        return response, (int(code) if code is not None else None), message
    return document, None, None


def parse_import_summary(document: Mapping[str, Any]) -> ImportSummary:
    """Read an import summary from a WebMessage, a bare summary or a task summary.

    Raises:
        SummaryFormatError: when the document holds no import summary (an async job
            WebMessage, an error page turned JSON...).
    """
    summary, http_status_code, message = _unwrap(document)
    status_raw = summary.get("status")
    if "importCount" not in summary and summary.get("responseType") != "ImportSummary":
        raise SummaryFormatError("no ImportSummary in the document")
    try:
        status = ImportStatus(str(status_raw).upper())
    except ValueError:
        raise SummaryFormatError(f"unknown import status {status_raw!r}") from None
    conflicts_raw = summary.get("conflicts") or ()
    options = summary.get("importOptions")
    dry_run = options.get("dryRun") if isinstance(options, Mapping) else None
    return ImportSummary(
        status=status,
        import_count=_parse_count(summary.get("importCount")),
        conflicts=tuple(parse_conflict(c) for c in conflicts_raw if isinstance(c, Mapping)),
        rejected_indexes=tuple(int(i) for i in summary.get("rejectedIndexes") or ()),
        description=summary.get("description"),
        data_set_complete=(
            None if summary.get("dataSetComplete") is None else str(summary["dataSetComplete"])
        ),
        dry_run=None if dry_run is None else bool(dry_run),
        http_status_code=http_status_code,
        message=message,
    )


def is_async_job(document: Mapping[str, Any]) -> bool:
    """Whether a POST answer announces a background job rather than a summary."""
    response = document.get("response")
    return isinstance(response, Mapping) and "jobType" in response and "id" in response


def parse_async_job(document: Mapping[str, Any]) -> AsyncJob:
    """Read the job a ``POST ...?async=true`` started.

    Raises:
        SummaryFormatError: when the document announces no job.
    """
    if not is_async_job(document):
        raise SummaryFormatError("no asynchronous job in the document")
    response = document["response"]
    return AsyncJob(
        id=str(response["id"]),
        job_type=str(response["jobType"]),
        name=response.get("name"),
        created=response.get("created"),
        notifier_endpoint=response.get("relativeNotifierEndpoint"),
    )


def parse_task_notifications(document: Any) -> tuple[TaskNotification, ...]:
    """Read ``/api/system/tasks/{type}/{id}``: a list, newest first (or ``{}`` if unknown)."""
    items = document if isinstance(document, Sequence) and not isinstance(document, str) else ()
    return tuple(
        TaskNotification(
            message=str(item.get("message") or ""),
            completed=bool(item.get("completed", False)),
            level=str(item.get("level") or "INFO"),
            time=item.get("time"),
            uid=item.get("uid") or item.get("id"),
        )
        for item in items
        if isinstance(item, Mapping)
    )


def task_completed(notifications: Sequence[TaskNotification]) -> bool:
    """Whether a job is finished: any notification says so (DHIS2 sets it on the last)."""
    return any(n.completed for n in notifications)
