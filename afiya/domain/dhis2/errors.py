"""Errors of the DHIS2 exchange.

Every transport error says whether trying again later can succeed (``retriable``): the
sync jobs built on top of the client retry those with back-off and park the others for a
human (a wrong password or an unknown org unit does not fix itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afiya.domain.shared.errors import DomainError, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class InvalidPeriod(ValidationFailed):
    """A text that is not a DHIS2 period id, or a period outside the supported range."""

    code = "dhis2_invalid_period"
    default_message = N_("The period is not valid.")

    def __init__(self, value: str, reason: Message) -> None:
        self.value = value
        self.reason = reason
        super().__init__([FieldError("period", reason, code=self.code)], reason)


class Dhis2Error(DomainError):
    """Base of the errors raised while talking to a DHIS2 server."""

    code = "dhis2_error"
    default_message = N_("The exchange with DHIS2 failed.")
    retriable: bool = False

    def __init__(
        self,
        message: Message | str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        super().__init__(message, code=code, details=details)


class Dhis2Unavailable(Dhis2Error):
    """Network failure, timeout, HTTP 5xx or 429: the same request may succeed later."""

    code = "dhis2_unavailable"
    default_message = N_("The DHIS2 server cannot be reached right now. Try again later.")
    retriable = True

    def __init__(
        self,
        message: Message | str | None = None,
        *,
        status: int | None = None,
        retry_after_seconds: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, status=status, details=details)


class Dhis2ProtocolError(Dhis2Error):
    """The answer is not what DHIS2 sends (HTML page, truncated JSON...).

    Retriable, because in the field the usual cause is an intermediary (a captive portal,
    a proxy error page, a connection cut mid-body) rather than DHIS2 itself.
    """

    code = "dhis2_protocol_error"
    default_message = N_("The DHIS2 server sent an answer that could not be read.")
    retriable = True


class Dhis2AuthError(Dhis2Error):
    """HTTP 401 (wrong credentials, expired token) or 403 (missing authority)."""

    code = "dhis2_unauthenticated"
    default_message = N_("DHIS2 refused the credentials. Check the user name, password or token.")


class Dhis2RequestRejected(Dhis2Error):
    """A 4xx answer other than auth: the request itself is wrong and must be changed."""

    code = "dhis2_request_rejected"
    default_message = N_("DHIS2 rejected the request.")


class Dhis2TaskTimeout(Dhis2Error):
    """An asynchronous import did not finish in time; its job id allows polling later."""

    code = "dhis2_task_timeout"
    default_message = N_("The DHIS2 import job {job_id} did not finish in time.")
    retriable = True

    def __init__(self, job_id: str, job_type: str = "DATAVALUE_IMPORT") -> None:
        self.job_id = job_id
        self.job_type = job_type
        super().__init__(
            Message(self.default_message, {"job_id": job_id}),
            details={"job_id": job_id, "job_type": job_type},
        )
