"""FHIR search parameters: parse a query string into typed, checked criteria.

Pure functions, so the parser is tested without HTTP or a database (property tests in
``tests/unit/fhir``). What is understood (FHIR R4 §3.1.1 "Search"):

- repeated parameters are ANDed, comma-separated values ORed;
- ``date`` values with the prefixes ``eq ne gt lt ge le sa eb`` (``ap`` is refused) and
  any precision from a year to seconds; a value without a zone is read as UTC;
- ``token`` values ``system|code``, ``|code`` and ``code``; ``string`` values with the
  ``:exact`` and ``:contains`` modifiers; ``reference`` values ``Type/id`` or ``id``;
- the result parameters ``_count`` (1..MAX_COUNT), ``_offset``, ``_sort``,
  ``_summary=count``, ``_include``, ``_revinclude``, ``_lastUpdated``, ``_id``.

``_include`` and ``_revinclude`` take ``Type:param`` or ``Type:param:Target``, one pair
per occurrence (repeat the parameter for more), no modifier (``:iterate`` is refused);
the pairs a type accepts are its spec's ``includes`` / ``revincludes`` (both spellings
listed), and the request keeps the ``Type:param`` form.

Unknown parameters are refused (400) unless the client sends ``Prefer: handling=lenient``,
so a client never mistakes an ignored filter for an applied one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl

from afiya.domain.shared.errors import DomainError
from afiya.domain.shared.i18n import N_, Message

DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_OFFSET = 10_000


class ParamType(StrEnum):
    STRING = "string"
    TOKEN = "token"  # noqa: S105 - a FHIR parameter type, not a secret
    DATE = "date"
    REFERENCE = "reference"


class SearchError(DomainError):
    """A search the server cannot run as asked (HTTP 400, OperationOutcome ``invalid``)."""

    code = "fhir_invalid_search"
    default_message = N_("The search parameters are not valid.")


class Prefix(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    LT = "lt"
    GE = "ge"
    LE = "le"
    SA = "sa"
    EB = "eb"


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date search value: a prefix and the half-open UTC interval its precision covers.

    ``precision`` is ``year``, ``month``, ``day`` or ``time``; ``1981`` covers the whole
    year 1981, ``1981-03-02`` that day.
    """

    prefix: Prefix
    start: datetime
    end: datetime
    precision: str

    def matches(self, moment: datetime) -> bool:
        """Whether an instant satisfies this value (FHIR rules for a point in time)."""
        match self.prefix:
            case Prefix.EQ:
                return self.start <= moment < self.end
            case Prefix.NE:
                return not self.start <= moment < self.end
            case Prefix.GT | Prefix.SA:
                return moment >= self.end
            case Prefix.LT | Prefix.EB:
                return moment < self.start
            case Prefix.GE:
                return moment >= self.start
            case Prefix.LE:
                return moment < self.end
        return False  # pragma: no cover - every prefix is handled above


@dataclass(frozen=True, slots=True)
class TokenValue:
    system: str | None  # None: any system; "": no system
    code: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """One parameter occurrence: its values are ORed; criteria of a search are ANDed."""

    name: str
    modifier: str | None
    values: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class SearchRequest:
    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: tuple[SortKey, ...] = ()
    summary_count: bool = False
    includes: tuple[str, ...] = ()  # "Type:param", the searched type being Type
    revincludes: tuple[str, ...] = ()  # "Type:param", param pointing at the searched type
    ignored: tuple[str, ...] = ()  # unknown parameters dropped under handling=lenient

    def values(self, name: str) -> list[Criterion]:
        return [c for c in self.criteria if c.name == name]


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """What one resource type accepts: its parameters, sort keys and includes."""

    params: Mapping[str, ParamType]
    sorts: frozenset[str] = frozenset()
    includes: frozenset[str] = frozenset()
    revincludes: frozenset[str] = frozenset()
    modifiers: Mapping[str, frozenset[str]] = field(default_factory=dict)


COMMON_PARAMS: Mapping[str, ParamType] = {"_id": ParamType.TOKEN, "_lastUpdated": ParamType.DATE}
RESULT_PARAMS = frozenset(
    {"_count", "_offset", "_sort", "_summary", "_include", "_revinclude", "_format"}
)
STRING_MODIFIERS = frozenset({"exact", "contains"})

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"(?P<z>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _fail(msgid: str, **params: object) -> SearchError:
    return SearchError(Message(msgid, params), details={"parameter": str(params.get("name", ""))})


def parse_date(text: str, *, name: str = "date") -> DateValue:
    """``[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.f]][zone]]]]`` into a prefix and a UTC interval."""
    raw = text.strip()
    prefix = Prefix.EQ
    if len(raw) > 2 and raw[:2].isalpha():
        try:
            prefix = Prefix(raw[:2])
        except ValueError:
            raise _fail(
                N_("Unsupported date prefix in {name}: {value}."), name=name, value=raw[:2]
            ) from None
        raw = raw[2:]
    match = _DATE.match(raw)
    if not match:
        raise _fail(N_("Not a FHIR date in {name}: {value}."), name=name, value=text)
    g = match.groupdict()
    try:
        year = int(g["y"])
        if g["m"] is None:
            start = datetime(year, 1, 1, tzinfo=UTC)
            return DateValue(prefix, start, datetime(year + 1, 1, 1, tzinfo=UTC), "year")
        month = int(g["m"])
        if g["d"] is None:
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            return DateValue(prefix, start, end, "month")
        day = date(year, month, int(g["d"]))
        if g["H"] is None:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return DateValue(prefix, start, start + timedelta(days=1), "day")
        zone = g["z"] or "Z"
        stamp = f"{g['y']}-{g['m']}-{g['d']}T{g['H']}:{g['M']}:{g['S'] or '00'}"
        if g["f"]:
            stamp += "." + g["f"].ljust(6, "0")
        moment = datetime.fromisoformat(stamp + ("+00:00" if zone == "Z" else zone))
        step = timedelta(microseconds=1) if g["f"] else timedelta(seconds=1 if g["S"] else 60)
        moment = moment.astimezone(UTC)
        return DateValue(prefix, moment, moment + step, "time")
    except ValueError:
        raise _fail(N_("Not a FHIR date in {name}: {value}."), name=name, value=text) from None


def parse_token(text: str) -> TokenValue:
    if "|" in text:
        system, _, code = text.partition("|")
        return TokenValue(system, code)
    return TokenValue(None, text)


def parse_reference(text: str, *, name: str) -> str:
    """``Type/id``, an absolute URL ending in ``Type/id``, or a bare id: the id."""
    value = text.strip().rstrip("/")
    ident = value.rsplit("/", 1)[-1]
    if not ident:
        raise _fail(N_("Not a reference in {name}: {value}."), name=name, value=text)
    return ident


def _split(value: str) -> list[str]:
    """Comma-separated alternatives; ``\\,`` is a literal comma."""
    parts = re.split(r"(?<!\\),", value)
    return [p.replace("\\,", ",") for p in parts]


def _positive(name: str, text: str, *, low: int, high: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise _fail(N_("{name} must be a whole number."), name=name) from None
    if not low <= number <= high:
        raise _fail(N_("{name} must be between {low} and {high}."), name=name, low=low, high=high)
    return number


def parse_search(
    resource_type: str,
    items: Iterable[tuple[str, str]],
    spec: SearchSpec,
    *,
    lenient: bool = False,
) -> SearchRequest:
    """Check and type every parameter of a search against the resource type's ``spec``.

    Raises :class:`SearchError` on an unknown parameter (unless ``lenient``), a modifier
    the parameter does not take, or a malformed value.
    """
    params = {**COMMON_PARAMS, **spec.params}
    criteria: list[Criterion] = []
    ignored: list[str] = []
    count, offset, summary_count = DEFAULT_COUNT, 0, False
    sort: list[SortKey] = []
    includes: list[str] = []
    revincludes: list[str] = []
    for key, value in items:
        name, _, modifier = key.partition(":")
        if name in RESULT_PARAMS:
            if modifier and name in ("_include", "_revinclude"):
                raise _fail(
                    N_("The modifier :{modifier} is not supported on {name}."),
                    name=name,
                    modifier=modifier,
                )
            if name == "_count":
                count = _positive("_count", value, low=0, high=MAX_COUNT)
            elif name == "_offset":
                offset = _positive("_offset", value, low=0, high=MAX_OFFSET)
            elif name == "_summary":
                if value != "count":
                    if lenient:
                        ignored.append(key)
                        continue
                    raise _fail(N_("Only _summary=count is supported."), name="_summary")
                summary_count = True
            elif name == "_sort":
                for part in value.split(","):
                    field_name = part.lstrip("-")
                    if field_name not in spec.sorts:
                        raise _fail(
                            N_("Cannot sort on {value}; supported: {supported}."),
                            name="_sort",
                            value=field_name,
                            supported=", ".join(sorted(spec.sorts)) or "-",
                        )
                    sort.append(SortKey(field_name, part.startswith("-")))
            elif name == "_include":
                if value not in spec.includes:
                    raise _fail(N_("Unsupported _include: {value}."), name="_include", value=value)
                _add_pair(includes, value)
            elif name == "_revinclude":
                if value not in spec.revincludes:
                    raise _fail(
                        N_("Unsupported _revinclude: {value}."), name="_revinclude", value=value
                    )
                _add_pair(revincludes, value)
            continue  # _format: the answer is JSON whatever is asked
        kind = params.get(name)
        if kind is None:
            if lenient:
                ignored.append(key)
                continue
            raise _fail(
                N_("Unknown search parameter {name} for {type}."), name=name, type=resource_type
            )
        allowed = spec.modifiers.get(name, STRING_MODIFIERS if kind is ParamType.STRING else ())
        if modifier and modifier not in allowed:
            raise _fail(
                N_("The modifier :{modifier} is not supported on {name}."),
                name=name,
                modifier=modifier,
            )
        values: list[object] = []
        for part in _split(value):
            if part == "":
                raise _fail(N_("Empty value for {name}."), name=name)
            if kind is ParamType.DATE:
                values.append(parse_date(part, name=name))
            elif kind is ParamType.TOKEN:
                values.append(parse_token(part))
            elif kind is ParamType.REFERENCE:
                values.append(parse_reference(part, name=name))
            else:
                values.append(part)
        criteria.append(Criterion(name, modifier or None, tuple(values)))
    return SearchRequest(
        resource_type,
        tuple(criteria),
        count=count,
        offset=offset,
        sort=tuple(sort),
        summary_count=summary_count,
        includes=tuple(includes),
        revincludes=tuple(revincludes),
        ignored=tuple(ignored),
    )


def _add_pair(found: list[str], value: str) -> None:
    """``Type:param[:Target]`` kept once, as ``Type:param``."""
    pair = ":".join(value.split(":")[:2])
    if pair not in found:
        found.append(pair)


def string_matches(candidates: Sequence[str | None], wanted: str, modifier: str | None) -> bool:
    """FHIR string matching: case- and accent-insensitive prefix of any word (default),
    whole value (``:exact``, case-sensitive) or substring (``:contains``)."""
    if modifier == "exact":
        return any(c == wanted for c in candidates if c)
    needle = fold(wanted)
    for candidate in candidates:
        if not candidate:
            continue
        text = fold(candidate)
        if modifier == "contains":
            if needle in text:
                return True
        elif text.startswith(needle) or any(w.startswith(needle) for w in text.split()):
            return True
    return False


def fold(text: str) -> str:
    """Lower case without accents (FHIR string search is accent-insensitive)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_of(text: str) -> list[tuple[str, str]]:
    """A query string (``gender=female&name=ahmed``) as (key, value) pairs."""
    return parse_qsl(text, keep_blank_values=True)
