"""Checks of what people set: connections, push requests, figure mappings (every problem
is listed, not only the first)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from afiya.domain.dhis2.pbf_figures import PBF_SOURCE, check_pbf_figure
from afiya.domain.dhis2.sync_model import (
    ID_SCHEMES,
    AuthKind,
    ConnectionSettings,
    MappingSettings,
    MetadataObject,
    PushOptions,
    PushSelection,
)
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

MAX_CHUNK_SIZE = 10_000
MAX_CONCURRENCY = 8
MAX_ATTEMPTS = 8


def _error(name: str, msgid: str, code: str, **params: object) -> FieldError:
    return FieldError(name, Message(msgid, params), code)


def _loopback_or_private(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def validate_connection(
    settings: ConnectionSettings, secret: str | None, *, creating: bool
) -> list[FieldError]:
    """Every problem with a connection's settings.

    Rules: the address is http(s) with a host; plain http only to a loopback or private
    address (credentials would cross the internet in clear); basic auth needs a user
    name; a token must look like a DHIS2 personal access token; sizes are bounded.
    """
    errors: list[FieldError] = []
    if not settings.name.strip():
        errors.append(_error("name", N_("The name is required."), "required"))
    parts = urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(
            _error("base_url", N_("The address must be an http(s) URL with a host."), "format")
        )
    elif parts.scheme == "http" and not _loopback_or_private(parts.hostname):
        errors.append(
            _error(
                "base_url",
                N_("Use https: plain http is allowed only on a local or private network."),
                "insecure",
            )
        )
    if settings.auth_kind is AuthKind.BASIC and not (settings.username or "").strip():
        errors.append(_error("username", N_("Basic authentication needs a user name."), "required"))
    if creating and not secret:
        errors.append(_error("secret", N_("The password or access token is required."), "required"))
    if (
        secret is not None
        and settings.auth_kind is AuthKind.TOKEN
        and (not secret.startswith("d2pat_") or any(ch.isspace() for ch in secret))
    ):
        errors.append(
            _error(
                "secret",
                N_("A DHIS2 personal access token starts with d2pat_ and has no spaces."),
                "format",
            )
        )
    for name, value, low, high in (
        ("timeout_seconds", settings.timeout_seconds, 5, 3600),
        ("page_size", settings.page_size, 1, 10_000),
        ("chunk_size", settings.chunk_size, 1, MAX_CHUNK_SIZE),
        ("concurrency", settings.concurrency, 1, MAX_CONCURRENCY),
        ("retry_delay_seconds", settings.retry_delay_seconds, 0, 86_400),
    ):
        if not low <= value <= high:
            errors.append(
                _error(
                    name,
                    N_("The value must be between {low} and {high}."),
                    "range",
                    low=low,
                    high=high,
                )
            )
    return errors


def validate_push(options: PushOptions, selection: PushSelection) -> list[FieldError]:
    """Every problem with a push request."""
    errors: list[FieldError] = []
    if options.id_scheme.upper() not in ID_SCHEMES:
        errors.append(_error("id_scheme", N_("The id scheme must be UID or CODE."), "format"))
    if not 1 <= options.chunk_size <= MAX_CHUNK_SIZE:
        errors.append(
            _error(
                "chunk_size",
                N_("The value must be between {low} and {high}."),
                "range",
                low=1,
                high=MAX_CHUNK_SIZE,
            )
        )
    if not 1 <= options.concurrency <= MAX_CONCURRENCY:
        errors.append(
            _error(
                "concurrency",
                N_("The value must be between {low} and {high}."),
                "range",
                low=1,
                high=MAX_CONCURRENCY,
            )
        )
    if not selection.retry_only:
        if selection.start is None:
            errors.append(_error("start", N_("The first day is required."), "required"))
        if selection.end is None:
            errors.append(_error("end", N_("The last day is required."), "required"))
        if selection.start and selection.end and selection.start > selection.end:
            errors.append(_error("end", N_("The last day comes before the first."), "range"))
    return errors


def _combo_of(obj: MetadataObject | None) -> str | None:
    combo = (obj.data.get("categoryCombo") if obj else None) or {}
    return str(combo.get("id")) if isinstance(combo, Mapping) and combo.get("id") else None


def _members(data_set: MetadataObject) -> set[str]:
    found = {
        str((e.get("dataElement") or {}).get("id"))
        for e in data_set.data.get("dataSetElements") or ()
        if isinstance(e, Mapping)
    }
    found |= {str(e.get("id")) for e in data_set.data.get("dataElements") or () if e}
    return found


def validate_mapping(
    mapping: MappingSettings,
    *,
    data_element: MetadataObject | None,
    category_option_combo: MetadataObject | None,
    attribute_option_combo: MetadataObject | None,
    data_set: MetadataObject | None,
    duplicate: bool,
) -> list[FieldError]:
    """Check a mapping against the metadata pulled from DHIS2; list every problem.

    Rules: the data element exists; the category option combo belongs to its category
    combo; the data set exists, holds the data element and has the mapping's period type;
    the attribute option combo belongs to the data set's category combo; no other mapping
    of the connection sends to the same element, combos and period type; a figure of the
    PBF results names a programme, a package or payment rule, a formula and maybe an
    activity.
    """
    errors: list[FieldError] = []
    if not mapping.figure.strip():
        errors.append(_error("figure", N_("The figure is required."), "required"))
    elif mapping.source == PBF_SOURCE:
        errors.extend(check_pbf_figure(mapping.figure))
    if data_element is None:
        errors.append(
            _error(
                "data_element",
                N_("No data element {uid} in the metadata pulled from DHIS2."),
                "unknown",
                uid=mapping.data_element,
            )
        )
    if mapping.category_option_combo is not None:
        if category_option_combo is None:
            errors.append(
                _error(
                    "category_option_combo",
                    N_("No category option combo {uid} in the pulled metadata."),
                    "unknown",
                    uid=mapping.category_option_combo,
                )
            )
        elif data_element is not None and _combo_of(category_option_combo) != _combo_of(
            data_element
        ):
            errors.append(
                _error(
                    "category_option_combo",
                    N_("This category option combo is not in the data element's category combo."),
                    "mismatch",
                )
            )
    if mapping.data_set is not None:
        if data_set is None:
            errors.append(
                _error(
                    "data_set",
                    N_("No data set {uid} in the pulled metadata."),
                    "unknown",
                    uid=mapping.data_set,
                )
            )
        else:
            if data_set.data.get("periodType") != mapping.period_type.value:
                errors.append(
                    _error(
                        "period_type",
                        N_("The data set collects {expected} data, not {given}."),
                        "mismatch",
                        expected=str(data_set.data.get("periodType")),
                        given=mapping.period_type.value,
                    )
                )
            if data_element is not None and data_element.uid not in _members(data_set):
                errors.append(
                    _error(
                        "data_element",
                        N_("The data element is not part of the data set."),
                        "mismatch",
                    )
                )
    if mapping.attribute_option_combo is not None:
        if attribute_option_combo is None:
            errors.append(
                _error(
                    "attribute_option_combo",
                    N_("No attribute option combo {uid} in the pulled metadata."),
                    "unknown",
                    uid=mapping.attribute_option_combo,
                )
            )
        elif data_set is not None and _combo_of(attribute_option_combo) != _combo_of(data_set):
            errors.append(
                _error(
                    "attribute_option_combo",
                    N_("This attribute option combo is not in the data set's category combo."),
                    "mismatch",
                )
            )
    if duplicate:
        errors.append(
            _error(
                "data_element",
                N_("Another mapping already sends to this data element, combos and period type."),
                "unique",
            )
        )
    return errors
