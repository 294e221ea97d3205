"""``Dhis2Client``: the DHIS2 Web API over ``httpx.AsyncClient``.

It implements :class:`afiya.domain.dhis2.ports.Dhis2Gateway`. It never retries on its own
(a pushed iterator cannot be replayed, and the sync ledger decides what to resend): every
failure is raised as a :class:`~afiya.domain.dhis2.errors.Dhis2Error` whose ``retriable``
flag tells the caller whether to try again later. Conflicts are not failures: DHIS2 answers
HTTP 409 with an import summary, which is returned like a 200 one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal

import httpx

from afiya.adapters.dhis2.http import (
    DEFAULT_TIMEOUT,
    Credentials,
    error_for,
    json_body,
    transport_error,
)
from afiya.adapters.dhis2.streaming import (
    StreamFormatError,
    encode_data_value_set,
    parse_csv_stream,
    parse_json_stream,
)
from afiya.domain.dhis2.errors import Dhis2ProtocolError, Dhis2TaskTimeout
from afiya.domain.dhis2.import_summary import (
    ImportCount,
    ImportStatus,
    ImportSummary,
    SummaryFormatError,
    is_async_job,
    parse_async_job,
    parse_import_summary,
    parse_task_notifications,
    task_completed,
)
from afiya.domain.dhis2.model import DEFAULT_FIELDS, Dhis2User, MetadataResource, SystemInfo
from afiya.domain.dhis2.payloads import DataValue, ImportStrategy
from afiya.domain.dhis2.periods import Period

_JSON = "application/json"


def dhis2_timestamp(moment: datetime) -> str:
    """DHIS2's timestamp format; aware times are converted to UTC first."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class Dhis2Client:
    """One DHIS2 server and one set of credentials.

    Args:
        base_url: the server root, with its context path if any
            (``https://dhis2.sante.gov.mr`` or ``https://host/dhis``).
        credentials: basic user/password or a personal access token.
        timeout: httpx timeouts; reads are long because DHIS2 answers an import only
            once it is done.
        page_size: metadata objects asked per page.
        poll_interval: seconds between two looks at an asynchronous import.
        poll_timeout: seconds after which :class:`Dhis2TaskTimeout` is raised.
        transport: an httpx transport (tests, proxies).
        sleep: the coroutine used to wait between polls.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        page_size: int = 200,
        poll_interval: float = 2.0,
        poll_timeout: float = 1800.0,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "Afiya-DHIS2/1",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        root = base_url.rstrip("/")
        if root.endswith("/api"):
            root = root[: -len("/api")]
        self.base_url = root
        self._page_size = page_size
        self._poll_interval = poll_interval
        self._poll_timeout = poll_timeout
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=root,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={
                "Authorization": credentials.header(),
                "Accept": _JSON,
                "User-Agent": user_agent,
            },
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Dhis2Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- transport ------------------------------------------------------------------
    @asynccontextmanager
    async def _stream(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        content: AsyncIterator[bytes] | None = None,
        accept_conflict_summary: bool = False,
    ) -> AsyncIterator[httpx.Response]:
        headers = {"Content-Type": _JSON} if content is not None else None
        try:
            async with self._http.stream(
                method, path, params=list(params), content=content, headers=headers
            ) as response:
                if response.is_success or (accept_conflict_summary and response.status_code == 409):
                    yield response
                    return
                await response.aread()
                raise error_for(response)
        except httpx.HTTPError as exc:
            raise transport_error(exc, f"{self.base_url}{path}") from exc

    async def _get_json(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        async with self._stream("GET", path, params=params) as response:
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise transport_error(exc, f"{self.base_url}{path}") from exc
            return json_body(response)

    # -- server and user ------------------------------------------------------------
    async def system_info(self) -> SystemInfo:
        """``/api/system/info``."""
        return SystemInfo.from_dhis2(await self._get_json("/api/system/info"))

    async def me(self) -> Dhis2User:
        """``/api/me``: checks the credentials and tells where the user may write."""
        fields = (
            "id,username,name,displayName,userCredentials[username],organisationUnits[id],"
            "authorities"
        )
        return Dhis2User.from_dhis2(await self._get_json("/api/me", [("fields", fields)]))

    # -- metadata -------------------------------------------------------------------
    async def metadata(
        self,
        resource: MetadataResource | str,
        *,
        fields: str | None = None,
        filters: Sequence[str] = (),
        updated_after: datetime | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of a metadata collection, fetched page by page.

        Args:
            resource: the collection (``organisationUnits``...).
            fields: DHIS2 ``fields`` expression; defaults to what Afiya maps.
            filters: DHIS2 filters (``level:eq:4``), combined with AND.
            updated_after: only objects changed since then (``lastUpdated:gt:``), for
                incremental syncs. DHIS2 compares in the server's time zone.
        """
        name = resource.value if isinstance(resource, MetadataResource) else resource
        default = DEFAULT_FIELDS.get(resource) if isinstance(resource, MetadataResource) else None
        params = [
            ("fields", fields or default or ":owner"),
            ("paging", "true"),
            ("pageSize", str(self._page_size)),
            # A stable order keeps pages from shifting when objects are added meanwhile.
            ("order", "id:asc"),
            *(("filter", f) for f in filters),
        ]
        if updated_after is not None:
            params.append(("filter", f"lastUpdated:gt:{dhis2_timestamp(updated_after)}"))
        page = 1
        while True:
            document = await self._get_json(f"/api/{name}", [*params, ("page", str(page))])
            items = document.get(name) if isinstance(document, dict) else None
            if not isinstance(items, list):
                raise Dhis2ProtocolError(details={"resource": name, "page": page})
            for item in items:
                yield item
            pager = document.get("pager")
            if not items or not isinstance(pager, dict):
                return
            page_count = pager.get("pageCount")
            more = page < int(page_count) if page_count is not None else "nextPage" in pager
            if not more:
                return
            page += 1

    def organisation_units(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.ORGANISATION_UNITS, **options)

    def organisation_unit_levels(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.ORGANISATION_UNIT_LEVELS, **options)

    def organisation_unit_groups(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.ORGANISATION_UNIT_GROUPS, **options)

    def organisation_unit_group_sets(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.ORGANISATION_UNIT_GROUP_SETS, **options)

    def data_sets(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.DATA_SETS, **options)

    def data_elements(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.DATA_ELEMENTS, **options)

    def category_combos(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.CATEGORY_COMBOS, **options)

    def category_option_combos(self, **options: Any) -> AsyncIterator[dict[str, Any]]:
        return self.metadata(MetadataResource.CATEGORY_OPTION_COMBOS, **options)

    # -- data values: push ----------------------------------------------------------
    async def push_data_values(
        self,
        values: Iterable[DataValue],
        *,
        dry_run: bool = False,
        import_strategy: ImportStrategy = ImportStrategy.CREATE_AND_UPDATE,
        id_scheme: str | None = None,
        data_element_id_scheme: str | None = None,
        org_unit_id_scheme: str | None = None,
        category_option_combo_id_scheme: str | None = None,
        data_set: str | None = None,
        async_: bool = False,
        preheat_cache: bool = False,
        skip_audit: bool = False,
    ) -> ImportSummary:
        """``POST /api/dataValueSets``; the body is streamed as ``values`` is read.

        Returns the import summary, also when DHIS2 answers 409 (conflicts) or reports
        status ERROR (the whole payload refused). With ``async_`` DHIS2 queues a job;
        the client polls it and returns its summary.

        Raises:
            Dhis2Unavailable: network failure, timeout or 5xx; whether DHIS2 stored part
                of the payload is unknown, so resend it (imports are idempotent).
            Dhis2AuthError: 401 or 403.
            Dhis2RequestRejected: another 4xx (malformed payload, unknown id scheme).
            Dhis2TaskTimeout: the asynchronous job did not finish within ``poll_timeout``.
        """
        params = [("importStrategy", import_strategy.value), ("dryRun", _flag(dry_run))]
        for name, scheme in (
            ("idScheme", id_scheme),
            ("dataElementIdScheme", data_element_id_scheme),
            ("orgUnitIdScheme", org_unit_id_scheme),
            ("categoryOptionComboIdScheme", category_option_combo_id_scheme),
        ):
            if scheme is not None:
                params.append((name, scheme))
        if preheat_cache:
            params.append(("preheatCache", "true"))
        if skip_audit:
            params.append(("skipAudit", "true"))
        if async_:
            params.append(("async", "true"))

        async def body() -> AsyncIterator[bytes]:
            for piece in encode_data_value_set(values, data_set=data_set):
                yield piece

        async with self._stream(
            "POST",
            "/api/dataValueSets",
            params=params,
            content=body(),
            accept_conflict_summary=True,
        ) as response:
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise transport_error(exc, f"{self.base_url}/api/dataValueSets") from exc
            document = json_body(response)
        if async_ and isinstance(document, dict) and is_async_job(document):
            job = parse_async_job(document)
            return await self.wait_for_import(job.id, job.job_type)
        return _summary(document)

    async def wait_for_import(
        self, job_id: str, job_type: str = "DATAVALUE_IMPORT"
    ) -> ImportSummary:
        """Poll an asynchronous import until it completes; return its summary.

        Usable on its own to resume waiting for a job started before a restart.
        """
        deadline = time.monotonic() + self._poll_timeout
        while True:
            tasks = await self._get_json(f"/api/system/tasks/{job_type}/{job_id}")
            notifications = parse_task_notifications(tasks)
            if task_completed(notifications):
                break
            if time.monotonic() >= deadline:
                raise Dhis2TaskTimeout(job_id, job_type)
            await self._sleep(self._poll_interval)
        document = await self._get_json(f"/api/system/taskSummaries/{job_type}/{job_id}")
        try:
            return parse_import_summary(document)
        except SummaryFormatError:
            failed = [n for n in notifications if n.level == "ERROR"]
            if not failed:
                raise Dhis2ProtocolError(details={"job_id": job_id}) from None
            return ImportSummary(
                status=ImportStatus.ERROR, import_count=ImportCount(), description=failed[0].message
            )

    # -- data values: pull ----------------------------------------------------------
    async def pull_data_values(
        self,
        *,
        data_sets: Sequence[str],
        org_units: Sequence[str],
        periods: Sequence[Period | str] = (),
        start_date: date | None = None,
        end_date: date | None = None,
        children: bool = True,
        include_deleted: bool = False,
        updated_after: datetime | None = None,
        format: Literal["json", "csv"] = "json",
    ) -> AsyncIterator[DataValue]:
        """Stream ``GET /api/dataValueSets`` value by value, never holding the answer.

        DHIS2 needs data sets, org units and a time selection: periods, or both dates,
        or ``updated_after``.

        Raises:
            ValueError: when the query lacks what DHIS2 requires.
            Dhis2Unavailable: the connection failed or was cut mid-answer.
            Dhis2ProtocolError: the answer is not a data value set.
        """
        if not data_sets or not org_units:
            raise ValueError("pull_data_values needs at least one data set and one org unit")
        if not periods and (start_date is None or end_date is None) and updated_after is None:
            raise ValueError(
                "pull_data_values needs periods, start and end dates, or updated_after"
            )
        params = [("dataSet", ds) for ds in data_sets] + [("orgUnit", ou) for ou in org_units]
        params += [("period", str(p)) for p in periods]
        if not periods and start_date is not None and end_date is not None:
            params += [("startDate", start_date.isoformat()), ("endDate", end_date.isoformat())]
        if updated_after is not None:
            params.append(("lastUpdated", dhis2_timestamp(updated_after)))
        params += [("children", _flag(children)), ("includeDeleted", _flag(include_deleted))]
        path = "/api/dataValueSets.csv" if format == "csv" else "/api/dataValueSets.json"
        parse = parse_csv_stream if format == "csv" else parse_json_stream
        async with self._stream("GET", path, params=params) as response:
            try:
                async for value in parse(response.aiter_text()):
                    yield value
            except StreamFormatError as exc:
                raise Dhis2ProtocolError(details={"url": path, "error": str(exc)}) from exc
            except httpx.HTTPError as exc:
                raise transport_error(exc, f"{self.base_url}{path}") from exc


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _summary(document: Any) -> ImportSummary:
    if not isinstance(document, dict):
        raise Dhis2ProtocolError(details={"error": "import answer is not a JSON object"})
    try:
        return parse_import_summary(document)
    except SummaryFormatError as exc:
        raise Dhis2ProtocolError(details={"error": str(exc)}) from exc
