"""Unit of work: one session, its repositories, and what happens at commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from afiya.adapters.db.repositories.agenda import SqlAgendaRepository
from afiya.adapters.db.repositories.audit import SqlAuditLog, SqlAuditStore, append_events
from afiya.adapters.db.repositories.clinical import SqlClinicalRepository
from afiya.adapters.db.repositories.clinical_documents import SqlExternalDocumentRepository
from afiya.adapters.db.repositories.dhis2 import Dhis2Repositories
from afiya.adapters.db.repositories.fhir import SqlFhirRepository
from afiya.adapters.db.repositories.identity import SqlRefreshTokenStore, SqlUserRepository
from afiya.adapters.db.repositories.jobs import SqlJobScheduler
from afiya.adapters.db.repositories.messaging import SqlMessagingRepository
from afiya.adapters.db.repositories.orgunits import SqlOrgUnitRepository
from afiya.adapters.db.repositories.patients import SqlPatientRepository
from afiya.adapters.db.repositories.pbf import SqlPbfRepository
from afiya.adapters.db.repositories.pbf_intelligence import SqlPbfIntelligenceRepository
from afiya.adapters.db.repositories.prescribing import SqlPrescribingRepository
from afiya.domain.audit.model import AuditContext, AuditRecord
from afiya.domain.platform.crypto import BlindIndex, FieldCipher
from afiya.domain.shared.clock import Clock, HybridLogicalClock

Dispatch = Callable[[list[tuple[UUID, datetime | None]]], Awaitable[None]]


@dataclass
class UnitOfWorkFactory:
    """Opens units of work; shared by the API, jobs, channels and the CLI."""

    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    blind_index: BlindIndex
    clock: Clock
    hlc: HybridLogicalClock
    node: str
    dispatch: Dispatch | None = None

    def __call__(self, context: AuditContext, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work; ``read_only`` ones (GET requests) read without the write lock
        and write their audit events in a short transaction of their own at commit."""
        session = (self.read_sessions if read_only else self.sessions)()
        session.info.update(
            node=self.node, hlc=self.hlc, clock=self.clock, actor_id=context.user_id
        )
        return UnitOfWork(session, self, context, read_only=read_only)

    async def record_standalone(self, context: AuditContext, *records: AuditRecord) -> None:
        """Audit in a transaction of its own: for denials, whose request is rolled back,
        and for the reads of read-only units of work."""
        async with self.sessions() as session:
            session.info.update(clock=self.clock)
            await append_events(session, context, list(records))
            await session.commit()


class UnitOfWork:
    """Repositories over one session. Nothing commits except :meth:`commit`."""

    def __init__(
        self,
        session: AsyncSession,
        factory: UnitOfWorkFactory,
        context: AuditContext,
        *,
        read_only: bool = False,
    ) -> None:
        self.session = session
        self.read_only = read_only
        self._factory = factory
        self.context = context
        self.audit = SqlAuditLog(session, context)
        self.jobs = SqlJobScheduler(session)
        self.orgunits = SqlOrgUnitRepository(session)
        self.agenda = SqlAgendaRepository(session)
        self.dhis2 = Dhis2Repositories(session, factory.cipher)
        self.patients = SqlPatientRepository(session, factory.cipher, factory.blind_index)
        self.pbf = SqlPbfRepository(session)
        self.users = SqlUserRepository(session, factory.cipher, factory.blind_index)
        self.refresh_tokens = SqlRefreshTokenStore(session)
        self.audit_store = SqlAuditStore(session)

    @property
    def clock(self) -> Clock:
        return self._factory.clock

    @property
    def messaging(self) -> SqlMessagingRepository:
        """USSD PINs and lockouts, replay keys, callbacks, staff feed (built on first use)."""
        if "_messaging" not in self.__dict__:
            self._messaging = SqlMessagingRepository(
                self.session, self._factory.cipher, self._factory.blind_index
            )
        return self._messaging

    @property
    def pbf_intelligence(self) -> SqlPbfIntelligenceRepository:
        """Model registry, runs, flags and plans of PBF intelligence (built on first use)."""
        if "_pbf_intelligence" not in self.__dict__:
            self._pbf_intelligence = SqlPbfIntelligenceRepository(self.session)
        return self._pbf_intelligence

    @property
    def clinical(self) -> SqlClinicalRepository:
        """The clinical record: encounters, observations, notes, results, timeline,
        staff notifications (built on first use)."""
        if "_clinical" not in self.__dict__:
            self._clinical = SqlClinicalRepository(self.session, self._factory.cipher)
        return self._clinical

    @property
    def clinical_documents(self) -> SqlExternalDocumentRepository:
        """Documents received from other systems and their files (built on first use)."""
        if "_clinical_documents" not in self.__dict__:
            self._clinical_documents = SqlExternalDocumentRepository(self.session)
        return self._clinical_documents

    @property
    def fhir(self) -> SqlFhirRepository:
        """FHIR searches, versions from the change log, subscriptions (built on first use)."""
        if "_fhir" not in self.__dict__:
            self._fhir = SqlFhirRepository(self.session, self._factory.cipher)
        return self._fhir

    @property
    def prescribing(self) -> SqlPrescribingRepository:
        """Formulary, local rules, prescriptions and dispensings (built on first use)."""
        if "_prescribing" not in self.__dict__:
            self._prescribing = SqlPrescribingRepository(self.session)
        return self._prescribing

    async def commit(self) -> None:
        """Flush the audit buffer, commit, then hand the new jobs to the queue."""
        if self.read_only:
            if (
                self.session.new
                or self.session.dirty
                or self.session.deleted
                or self.jobs.scheduled
            ):
                raise RuntimeError("a read-only unit of work tried to write")
            await self.session.rollback()
            records = self.audit.discard()
            if records:
                await self._factory.record_standalone(self.context, *records)
            return
        await self.audit.flush()
        await self.session.commit()
        scheduled, self.jobs.scheduled = self.jobs.scheduled, []
        if scheduled and self._factory.dispatch is not None:
            await self._factory.dispatch(scheduled)

    async def rollback(self) -> list[AuditRecord]:
        """Roll back; return the audit records that were not written, for the caller."""
        await self.session.rollback()
        self.jobs.scheduled = []
        return self.audit.discard()

    async def close(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            await self.rollback()
        await self.close()
