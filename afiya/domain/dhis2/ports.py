"""The port the DHIS2 sync use cases call; ``afiya.adapters.dhis2.Dhis2Client`` implements it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal, Protocol

from afiya.domain.dhis2.import_summary import ImportSummary
from afiya.domain.dhis2.model import Dhis2User, MetadataResource, SystemInfo
from afiya.domain.dhis2.payloads import DataValue, ImportStrategy
from afiya.domain.dhis2.periods import Period


class Dhis2Gateway(Protocol):
    """A DHIS2 server seen from Afiya.

    Every method raises a :class:`~afiya.domain.dhis2.errors.Dhis2Error`; its
    ``retriable`` flag tells the job whether to try again later.
    """

    async def system_info(self) -> SystemInfo:
        """Version and identity of the server."""
        ...

    async def me(self) -> Dhis2User:
        """The user whose credentials are configured."""
        ...

    def metadata(
        self,
        resource: MetadataResource,
        *,
        fields: str | None = None,
        filters: Sequence[str] = (),
        updated_after: datetime | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of ``resource`` (page by page), changed after ``updated_after``."""
        ...

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
    ) -> ImportSummary:
        """Post ``values`` as one data value set; return what DHIS2 did with each.

        Conflicts come back in the summary (not as exceptions); their ``indexes`` are
        positions in ``values``.
        """
        ...

    def pull_data_values(
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
        """Stream the stored values matching the query, one at a time."""
        ...
