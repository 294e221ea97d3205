"""Identity-vigilance routes: duplicate review queue, registry scan, merge and unmerge."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.patients.schemas import (
    DismissPair,
    DuplicatePairRead,
    MergeCreate,
    MergeRead,
    ReasonIn,
    ScanStarted,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.patients import merge


class PatientMergeController(Controller):
    path = "/api/v1/patients"
    tags = ["patients"]
    opt = {"resource": "patient"}

    @get(
        "/duplicates",
        operation_id="patients_duplicates_list",
        summary="Probable duplicate pairs to review",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
    )
    async def list_pairs(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        uow: Uow,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[DuplicatePairRead]:
        """Open pairs found by the registry scan whose two records lie in the caller's
        facilities, with scores and reasons."""
        limit = check_limit(limit)
        after = decode_cursor(cursor)
        pairs = await merge.list_duplicate_pairs(
            principal=principal,
            pairs=uow.patients.pairs,
            after=UUID(after) if after else None,
            limit=limit,
        )
        translate = request_translator(request)
        return Page(
            items=[DuplicatePairRead.of(p, translate) for p in pairs],
            next_cursor=next_cursor(pairs, limit, lambda p: str(p.id)),
            limit=limit,
        )

    @post(
        "/duplicates/scan",
        operation_id="patients_duplicates_scan",
        summary="Scan the registry for duplicates",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
        status_code=202,
    )
    async def scan(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, uow: Uow
    ) -> ScanStarted:
        """Schedules the background scan; its pairs appear in ``GET /duplicates``."""
        job_id = await merge.request_duplicate_scan(
            principal=principal,
            jobs=uow.jobs,
            clock=request.app.state.container.clock,
            audit=uow.audit,
        )
        return ScanStarted(job_id)

    @post(
        "/duplicates/{pair_id:uuid}/dismiss",
        operation_id="patients_duplicates_dismiss",
        summary="Mark a pair as two different people",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
        status_code=204,
    )
    async def dismiss(
        self,
        pair_id: FromPath[UUID],
        data: JSONBody[DismissPair],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> None:
        """The pair leaves the queue and the scan does not list it again."""
        await merge.dismiss_pair(
            pair_id,
            data.note,
            principal=principal,
            pairs=uow.patients.pairs,
            patients=uow.patients,
            audit=uow.audit,
        )

    @post(
        "/{patient_id:uuid}/merge",
        operation_id="patients_merge",
        summary="Merge a duplicate into this patient",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
        status_code=201,
    )
    async def merge(
        self,
        request: Request[Any, Any, Any],
        patient_id: FromPath[UUID],
        data: JSONBody[MergeCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> MergeRead:
        """The record of the path survives. Everything pointing at the duplicate follows
        it; the merge is audited and can be undone with ``POST /merges/{id}/unmerge``."""
        record = await merge.merge_patients(
            patient_id,
            data.duplicate_id,
            data.choices,
            data.reason,
            principal=principal,
            patients=uow.patients,
            merges=uow.patients.merges,
            pairs=uow.patients.pairs,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return MergeRead.of(record)

    @get(
        "/merges/{merge_id:uuid}",
        operation_id="patients_merge_get",
        summary="Read a merge",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
    )
    async def read_merge(
        self, merge_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> MergeRead:
        """Choices, changed fields, moved rows per reference, and whether it was undone."""
        record = await merge.get_merge(
            merge_id, principal=principal, patients=uow.patients, merges=uow.patients.merges
        )
        return MergeRead.of(record)

    @post(
        "/merges/{merge_id:uuid}/unmerge",
        operation_id="patients_unmerge",
        summary="Undo a merge",
        opt={PERMISSION: Permission.PATIENTS_MERGE},
        status_code=200,
    )
    async def unmerge(
        self,
        request: Request[Any, Any, Any],
        merge_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> MergeRead:
        """Restores both records and their links from the merge snapshot; fields changed
        on the survivor since the merge are kept and listed in ``kept_on_unmerge``."""
        record = await merge.unmerge_patients(
            merge_id,
            data.reason,
            principal=principal,
            patients=uow.patients,
            merges=uow.patients.merges,
            pairs=uow.patients.pairs,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return MergeRead.of(record)
