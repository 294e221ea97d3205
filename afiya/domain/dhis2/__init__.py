"""DHIS2 exchange core: periods, data value payloads, import summaries and the gateway port.

Pure Python: the HTTP client lives in ``afiya.adapters.dhis2``.
"""

from afiya.domain.dhis2.conflicts import (
    CONFLICT_RULES,
    ConflictKind,
    ConflictRule,
    RetryCondition,
    describe,
    rule_for,
    suggested_retry_date,
)
from afiya.domain.dhis2.errors import (
    Dhis2AuthError,
    Dhis2Error,
    Dhis2ProtocolError,
    Dhis2RequestRejected,
    Dhis2TaskTimeout,
    Dhis2Unavailable,
    InvalidPeriod,
)
from afiya.domain.dhis2.import_summary import (
    AsyncJob,
    ImportConflict,
    ImportCount,
    ImportStatus,
    ImportSummary,
    SummaryFormatError,
    TaskNotification,
    parse_async_job,
    parse_import_summary,
    parse_task_notifications,
)
from afiya.domain.dhis2.model import DEFAULT_FIELDS, Dhis2User, MetadataResource, SystemInfo
from afiya.domain.dhis2.payloads import (
    DEFAULT_CHUNK_SIZE,
    DataValue,
    ImportStrategy,
    changed_values,
    chunked,
    content_hash,
)
from afiya.domain.dhis2.periods import Period, PeriodType, periods_between
from afiya.domain.dhis2.ports import Dhis2Gateway

__all__ = [
    "CONFLICT_RULES",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_FIELDS",
    "AsyncJob",
    "ConflictKind",
    "ConflictRule",
    "DataValue",
    "Dhis2AuthError",
    "Dhis2Error",
    "Dhis2Gateway",
    "Dhis2ProtocolError",
    "Dhis2RequestRejected",
    "Dhis2TaskTimeout",
    "Dhis2Unavailable",
    "Dhis2User",
    "ImportConflict",
    "ImportCount",
    "ImportStatus",
    "ImportStrategy",
    "ImportSummary",
    "InvalidPeriod",
    "MetadataResource",
    "Period",
    "PeriodType",
    "RetryCondition",
    "SummaryFormatError",
    "SystemInfo",
    "TaskNotification",
    "changed_values",
    "chunked",
    "content_hash",
    "describe",
    "parse_async_job",
    "parse_import_summary",
    "parse_task_notifications",
    "periods_between",
    "rule_for",
    "suggested_retry_date",
]
