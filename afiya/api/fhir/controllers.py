"""``/fhir/R4``: routes built from the resource registry, OperationOutcome errors.

For every registered type the routes of its interactions are made here (read, vread,
history, search, create, update, delete, operations), each declaring the type's
permission like every ``/api/v1`` route; the CapabilityStatement reads the same registry.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, Router, delete, get, post, put, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from afiya.adapters.fhir.engine import bundle as bundles
from afiya.adapters.fhir.engine import documents
from afiya.adapters.fhir.engine import interactions as act
from afiya.adapters.fhir.engine.capability import capability_statement
from afiya.adapters.fhir.engine.catalog import REGISTRY
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import ResourceType
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.fhir.outcome import EXCEPTION_HANDLERS, fhir_response
from afiya.api.i18n import request_translator
from afiya.api.prescribing import services as prescribing_services
from afiya.api.security import PERMISSION, PUBLIC
from afiya.domain.access.permissions import Permission
from afiya.domain.shared.i18n import N_, Message

BASE_PATH = "/fhir/R4"


def base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + BASE_PATH


def context(request: Request[Any, Any, Any], principal: Any, uow: Any) -> FhirContext:
    container = request.app.state.container
    return FhirContext(
        principal=principal,
        uow=uow,
        base=base_url(request),
        clock=container.clock,
        headers={k.lower(): v for k, v in request.headers.items()},
        translate=request_translator(request),
        allow_http=bool(getattr(container.settings, "fhir_subscriptions_allow_http", False)),
        blobs=container.blobs,
        document_max_bytes=int(container.settings.document_max_bytes),
        knowledge=prescribing_services.knowledge(request),
    )


async def json_body(request: Request[Any, Any, Any]) -> Any:
    kind = request.headers.get("content-type", "")
    if "xml" in kind:
        raise FhirError(415, "not-supported", Message(N_("Afiya speaks FHIR JSON only.")))
    raw = await request.body()
    try:
        return msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        raise FhirError(400, "structure", Message(N_("The body is not valid JSON."))) from None


RAW_BODY_TYPES = frozenset({"Binary"})
"""Types whose create takes the raw file (any Content-Type but FHIR JSON) and whose read
answers the raw bytes unless the client asks for FHIR JSON (FHIR's Binary rules)."""
DOCUMENT_BODY_LIMIT = 100 * 1024 * 1024
"""Body limit of Binary and DocumentReference creates (base64 inflates a file by 4/3);
the document size limit itself is a setting, checked by the use case (413)."""


def _wants_fhir(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "fhir+json" in accept or "application/json" in accept or "fhir+xml" in accept


async def _binary_body(request: Request[Any, Any, Any]) -> Any:
    """A raw upload as the FHIR Binary it stands for; FHIR JSON as is."""
    kind = request.headers.get("content-type", "")
    if "fhir+json" in kind or kind.split(";")[0].strip() == "application/json":
        return await json_body(request)
    raw = await request.body()
    return {
        "resourceType": "Binary",
        "contentType": kind or "application/octet-stream",
        "data": base64.b64encode(raw).decode("ascii"),
    }


def respond(answer: act.Answer) -> Response[bytes]:
    if answer.body is None:
        return Response(b"", status_code=answer.status, headers=answer.headers)
    return fhir_response(answer.body, answer.status, answer.headers)


def _lenient(request: Request[Any, Any, Any]) -> bool:
    return "handling=lenient" in request.headers.get("prefer", "").replace(" ", "")


def _query_condition(request: Request[Any, Any, Any]) -> str | None:
    """A conditional create's search sent as the POST's query string (fhirpy's
    ``get_or_create``, Aidbox) instead of FHIR's ``If-None-Exist`` header: the same
    condition, never silently ignored (that would register the patient twice)."""
    items = [(k, v) for k, v in request.query_params.items() if k not in ("_format", "_pretty")]
    return urlencode(items) if items else None


def _routes_for(kind: ResourceType) -> list[HTTPRouteHandler]:
    name = kind.name
    low = name.lower()
    read_opt = {PERMISSION: kind.read_permission, "resource": low}
    write_opt = {PERMISSION: kind.write_permission, "resource": low}

    async def read_handler(
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        uow: Uow,
        rid: FromPath[str],
    ) -> Response[bytes]:
        ctx = context(request, principal, uow)
        if name in RAW_BODY_TYPES and not _wants_fhir(request):
            content_type, data, _ = await documents.binary_content(ctx, rid)
            return Response(data, status_code=200, media_type=content_type)
        return respond(await act.read(ctx, name, rid))

    async def search_handler(
        request: Request[Any, Any, Any], principal: CurrentPrincipal, uow: Uow
    ) -> Response[bytes]:
        items = list(request.query_params.items())
        ctx = context(request, principal, uow)
        return respond(await act.search(ctx, name, items, lenient=_lenient(request)))

    routes: list[HTTPRouteHandler] = [
        get(
            f"/{name}",
            operation_id=f"fhir_{low}_search",
            summary=f"Search {name} resources",
            description=kind.documentation,
            opt=read_opt,
        )(search_handler),
    ]
    if kind.read is not None:
        routes.append(
            get(
                f"/{name}/{{rid:str}}",
                operation_id=f"fhir_{low}_read",
                summary=f"Read a {name}",
                description=kind.documentation,
                opt=read_opt,
            )(read_handler)
        )
    if kind.vread is not None:

        async def vread_handler(
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            uow: Uow,
            rid: FromPath[str],
            vid: FromPath[int],
        ) -> Response[bytes]:
            return respond(await act.vread(context(request, principal, uow), name, rid, vid))

        routes.append(
            get(
                f"/{name}/{{rid:str}}/_history/{{vid:int}}",
                operation_id=f"fhir_{low}_vread",
                summary=f"Read a version of a {name}",
                opt=read_opt,
            )(vread_handler)
        )
    if kind.history is not None:

        async def history_handler(
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            uow: Uow,
            rid: FromPath[str],
        ) -> Response[bytes]:
            return respond(await act.history(context(request, principal, uow), name, rid))

        routes.append(
            get(
                f"/{name}/{{rid:str}}/_history",
                operation_id=f"fhir_{low}_history",
                summary=f"History of a {name}",
                opt=read_opt,
            )(history_handler)
        )
    if kind.create is not None:
        limit: dict[str, Any] = {}
        if name in ("Binary", "DocumentReference"):
            limit["request_max_body_size"] = DOCUMENT_BODY_LIMIT

        async def create_handler(
            request: Request[Any, Any, Any], principal: CurrentPrincipal, uow: Uow
        ) -> Response[bytes]:
            ctx = context(request, principal, uow)
            body = await (_binary_body if name in RAW_BODY_TYPES else json_body)(request)
            answer = await act.create(
                ctx,
                name,
                body,
                if_none_exist=request.headers.get("if-none-exist") or _query_condition(request),
                prefer=request.headers.get("prefer"),
            )
            return respond(answer)

        routes.append(
            post(
                f"/{name}",
                operation_id=f"fhir_{low}_create",
                summary=f"Create a {name}",
                description=kind.documentation,
                opt=write_opt,
                **limit,
            )(create_handler)
        )
    if kind.update is not None:

        async def update_handler(
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            uow: Uow,
            rid: FromPath[str],
        ) -> Response[bytes]:
            ctx = context(request, principal, uow)
            body = await json_body(request)
            answer = await act.update(
                ctx,
                name,
                rid,
                body,
                if_match=request.headers.get("if-match"),
                prefer=request.headers.get("prefer"),
            )
            return respond(answer)

        routes.append(
            put(
                f"/{name}/{{rid:str}}",
                operation_id=f"fhir_{low}_update",
                summary=f"Update a {name}",
                description='Send If-Match: W/"<version>" to refuse a lost update (412).',
                opt=write_opt,
            )(update_handler)
        )
    if kind.delete is not None:

        async def delete_handler(
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            uow: Uow,
            rid: FromPath[str],
        ) -> None:
            await act.delete(context(request, principal, uow), name, rid)

        routes.append(
            delete(
                f"/{name}/{{rid:str}}",
                operation_id=f"fhir_{low}_delete",
                summary=f"Delete a {name}",
                opt=write_opt,
                status_code=204,
            )(delete_handler)
        )
    for op in kind.operations:

        def make(op_name: str) -> HTTPRouteHandler:
            async def operation_handler(
                request: Request[Any, Any, Any],
                principal: CurrentPrincipal,
                uow: Uow,
                rid: FromPath[str],
            ) -> Response[bytes]:
                ctx = context(request, principal, uow)
                return respond(await act.operation(ctx, name, rid, op_name))

            return get(
                f"/{name}/{{rid:str}}/${op_name}",
                operation_id=f"fhir_{low}_{op_name}",
                summary=f"{name} ${op_name}",
                opt=read_opt,
            )(operation_handler)

        routes.append(make(op))
    return routes


@get(
    "/metadata",
    operation_id="fhir_metadata",
    summary="FHIR CapabilityStatement",
    opt={PUBLIC: True},
)
async def metadata(request: Request[Any, Any, Any]) -> Response[bytes]:
    """What this server supports, generated from the registry the routes are built from.
    Public, as FHIR clients (and SMART discovery) expect: it names capabilities, never
    data."""
    return fhir_response(capability_statement(base_url(request)))


@post(
    "/",
    operation_id="fhir_bundle",
    summary="Process a transaction or batch Bundle",
    opt={PERMISSION: Permission.SELF},
)
async def process_bundle(
    request: Request[Any, Any, Any], principal: CurrentPrincipal, uow: Uow
) -> Response[bytes]:
    """A transaction is all or nothing; a batch runs each entry on its own. Each entry
    is checked against its own resource type's permission."""
    ctx = context(request, principal, uow)
    return respond(await bundles.process(ctx, await json_body(request)))


_METHODS: tuple[HttpMethod, ...] = (
    HttpMethod.GET,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.DELETE,
    HttpMethod.PATCH,
)


def _refusals(handlers: list[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """OperationOutcome 405 for the methods a FHIR path does not take (Litestar's own 405
    would be problem+json), and 404 ``not-supported`` for any other path under the base."""
    taken: dict[str, set[str]] = {}
    for handler in handlers:
        for path in handler.paths:
            taken.setdefault(path, set()).update(handler.http_methods)
    refusals: list[HTTPRouteHandler] = []
    for index, (path, methods) in enumerate(sorted(taken.items())):
        missing = [m for m in _METHODS if m not in methods]
        if not missing:
            continue

        async def not_allowed(request: Request[Any, Any, Any]) -> None:
            raise FhirError(
                405,
                "not-supported",
                Message(
                    N_("{interaction} is not supported on {type}."),
                    {"interaction": request.method, "type": request.url.path},
                ),
            )

        refusals.append(
            route(
                path,
                http_method=missing,
                operation_id=f"fhir_not_allowed_{index}",
                summary="Methods this FHIR path does not take (405)",
                opt={PERMISSION: Permission.SELF},
                include_in_schema=False,
                status_code=405,
            )(not_allowed)
        )

    async def unknown(request: Request[Any, Any, Any], rest: FromPath[str]) -> None:
        name = rest.strip("/").split("/")[0]
        if name in REGISTRY:  # a served type, an interaction it does not offer
            raise FhirError(
                405,
                "not-supported",
                Message(
                    N_("{interaction} is not supported on {type}."),
                    {"interaction": f"{request.method} {request.url.path}", "type": name},
                ),
            )
        raise FhirError(
            404,
            "not-supported",
            Message(N_("Afiya does not serve the resource type {type}."), {"type": name}),
        )

    refusals.append(
        route(
            "/{rest:path}",
            http_method=list(_METHODS),
            operation_id="fhir_unknown_path",
            summary="Anything else under the FHIR base (404/405 OperationOutcome)",
            opt={PERMISSION: Permission.SELF},
            include_in_schema=False,
            status_code=404,
        )(unknown)
    )
    return refusals


def router() -> Router:
    handlers: list[Any] = [metadata, process_bundle]
    for name in sorted(REGISTRY):
        handlers.extend(_routes_for(REGISTRY[name]))
    handlers.extend(_refusals(handlers))
    return Router(
        path=BASE_PATH,
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,
        tags=["fhir"],
        include_in_schema=True,
    )


CONTROLLERS = [router()]
