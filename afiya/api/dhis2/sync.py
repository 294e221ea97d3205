"""DHIS2 sync routes: push runs, the ledger, pulls and alerts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.dhis2.sync_schemas import (
    AlertRead,
    LedgerItem,
    PullCreate,
    PulledValueItem,
    PullRunRead,
    PushCreate,
    PushRunRead,
)
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.dhis2 import pull, push, push_chunks, queries
from afiya.domain.dhis2.connections import load_connection
from afiya.domain.dhis2.sync_model import LedgerState, PullRequest, PushOptions, PushSelection
from afiya.domain.dhis2.sync_ports import LedgerQuery, PulledValueQuery
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

MANAGE = {PERMISSION: Permission.DHIS2_MANAGE}
PBF_READ = {PERMISSION: Permission.PBF_READ}


def _clock(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container.clock


class ConnectionSyncController(Controller):
    path = "/api/v1/dhis2/connections/{connection_id:uuid}"
    tags = ["dhis2"]

    @post(
        "/push-runs",
        operation_id="dhis2_push_create",
        summary="Push figures to DHIS2",
        opt=MANAGE,
        status_code=202,
    )
    async def create_push(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        data: JSONBody[PushCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PushRunRead:
        """Plans, then sends in chunks (the connection's size and concurrency unless
        given); ``dry_run`` asks DHIS2 to check without storing. Values DHIS2 already
        holds are not sent again."""
        connection = await load_connection(connection_id, uow.dhis2.connections)
        options = PushOptions(
            dry_run=data.dry_run,
            import_strategy=data.import_strategy,
            id_scheme=data.id_scheme.upper(),
            chunk_size=(
                connection.settings.chunk_size if data.chunk_size is None else data.chunk_size
            ),
            concurrency=(
                connection.settings.concurrency if data.concurrency is None else data.concurrency
            ),
            async_import=data.async_import,
        )
        selection = PushSelection(
            start=data.start,
            end=data.end,
            mapping_ids=tuple(data.mapping_ids),
            retry_only=data.retry_only,
        )
        run = await push.request_push(
            connection_id,
            options,
            selection,
            principal=principal,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=_clock(request),
        )
        return PushRunRead.of(run)

    @get("/push-runs", operation_id="dhis2_push_list", summary="List push runs", opt=MANAGE)
    async def list_pushes(
        self, connection_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> list[PushRunRead]:
        """The latest fifty runs, newest first, with their progress."""
        runs = await queries.list_runs(
            connection_id,
            principal=principal,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
        )
        return [PushRunRead.of(r) for r in runs]

    @get("/ledger", operation_id="dhis2_ledger_list", summary="Read the sync ledger", opt=MANAGE)
    async def ledger(
        self,
        connection_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        value_state: Annotated[LedgerState | None, QueryParameter(name="state")] = None,
        data_element: FromQuery[str | None] = None,
        period: FromQuery[str | None] = None,
        org_unit: FromQuery[str | None] = None,
        run_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[LedgerItem]:
        """One entry per value version sent: state, DHIS2's answer, attempts, times."""
        limit = check_limit(limit)
        after = decode_cursor(cursor)
        entries = await queries.browse_ledger(
            connection_id,
            LedgerQuery(
                state=value_state,
                data_element=data_element,
                period=period,
                org_unit=org_unit,
                run_id=run_id,
                after_id=UUID(after) if after else None,
                limit=limit,
            ),
            principal=principal,
            connections=uow.dhis2.connections,
            ledger=uow.dhis2.ledger,
        )
        return Page(
            items=[LedgerItem.of(e) for e in entries],
            next_cursor=next_cursor(entries, limit, lambda e: str(e.id)),
            limit=limit,
        )

    @post(
        "/pull-runs",
        operation_id="dhis2_pull_create",
        summary="Pull data values from DHIS2",
        opt=MANAGE,
        status_code=202,
    )
    async def create_pull(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        data: JSONBody[PullCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PullRunRead:
        """A data set, an org-unit sub-tree and periods (or dates), streamed into the
        pulled-value table; paid values changed in DHIS2 raise alerts."""
        run = await pull.request_pull(
            connection_id,
            PullRequest(
                data_set=data.data_set,
                org_unit=data.org_unit,
                children=data.children,
                periods=tuple(data.periods),
                start=data.start,
                end=data.end,
                include_deleted=data.include_deleted,
            ),
            principal=principal,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=_clock(request),
        )
        return PullRunRead.of(run)

    @get(
        "/pulled-values",
        operation_id="dhis2_pulled_values_list",
        summary="Read the values pulled from DHIS2",
        opt=PBF_READ,
    )
    async def pulled_values(
        self,
        connection_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data_element: FromQuery[str | None] = None,
        org_unit: FromQuery[str | None] = None,
        start: FromQuery[date | None] = None,
        end: FromQuery[date | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[PulledValueItem]:
        """The last pulled value of each key, for cross-checks with PBF declarations:
        filtered by data element, DHIS2 org-unit sub-tree (``org_unit`` uid) and periods
        lying within ``start``..``end``; only units matched to Afiya units inside the
        caller's sub-trees."""
        limit = check_limit(limit)
        after = decode_cursor(cursor)
        if after is not None and (not isinstance(after, int) or isinstance(after, bool)):
            raise ValidationFailed(
                [
                    FieldError(
                        "cursor",
                        Message(N_("This cursor is not valid; start again from the first page.")),
                        "format",
                    )
                ]
            )
        values = await queries.browse_pulled_values(
            connection_id,
            PulledValueQuery(
                data_element=data_element, start=start, end=end, after_id=after, limit=limit
            ),
            org_unit=org_unit,
            principal=principal,
            connections=uow.dhis2.connections,
            metadata=uow.dhis2.metadata,
            pulled=uow.dhis2.pulled,
        )
        return Page(
            items=[PulledValueItem.of(v) for v in values],
            next_cursor=next_cursor(values, limit, lambda v: v.id),
            limit=limit,
        )

    @get("/alerts", operation_id="dhis2_alerts_list", summary="List DHIS2 alerts", opt=MANAGE)
    async def alerts(
        self,
        connection_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        include_acknowledged: FromQuery[bool] = False,
    ) -> list[AlertRead]:
        """Paid values that DHIS2 now holds differently, oldest first."""
        found = await queries.list_alerts(
            connection_id,
            open_only=not include_acknowledged,
            principal=principal,
            connections=uow.dhis2.connections,
            alerts=uow.dhis2.alerts,
        )
        return [AlertRead.of(a) for a in found]


class PushRunController(Controller):
    path = "/api/v1/dhis2/push-runs"
    tags = ["dhis2"]

    @get("/{run_id:uuid}", operation_id="dhis2_push_get", summary="Read a push run", opt=MANAGE)
    async def get_run(
        self, run_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PushRunRead:
        """Plan, progress, totals and every chunk with its attempts and conflicts."""
        run, chunks = await queries.get_run(run_id, principal=principal, runs=uow.dhis2.runs)
        return PushRunRead.of(run, chunks)

    @post(
        "/{run_id:uuid}/resume",
        operation_id="dhis2_push_resume",
        summary="Resume a failed push run",
        opt=MANAGE,
        status_code=202,
    )
    async def resume(
        self, run_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PushRunRead:
        """Starts again at the first chunk not done; done chunks are not resent."""
        run = await push_chunks.resume_run(
            run_id, principal=principal, runs=uow.dhis2.runs, jobs=uow.jobs, audit=uow.audit
        )
        return PushRunRead.of(run)


class PullRunController(Controller):
    path = "/api/v1/dhis2/pull-runs"
    tags = ["dhis2"]

    @get("/{pull_id:uuid}", operation_id="dhis2_pull_get", summary="Read a pull run", opt=MANAGE)
    async def get_pull(
        self, pull_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PullRunRead:
        """Status, values received and alerts raised."""
        return PullRunRead.of(
            await queries.get_pull(pull_id, principal=principal, runs=uow.dhis2.runs)
        )


class AlertController(Controller):
    path = "/api/v1/dhis2/alerts"
    tags = ["dhis2"]

    @post(
        "/{alert_id:uuid}/acknowledge",
        operation_id="dhis2_alerts_acknowledge",
        summary="Acknowledge an alert",
        opt=MANAGE,
        status_code=200,
    )
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        alert_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> AlertRead:
        """Records who saw it and when; it leaves the open list."""
        alert = await pull.acknowledge_alert(
            alert_id,
            principal=principal,
            alerts=uow.dhis2.alerts,
            audit=uow.audit,
            clock=_clock(request),
        )
        return AlertRead.of(alert)


SYNC_CONTROLLERS = [ConnectionSyncController, PushRunController, PullRunController, AlertController]
