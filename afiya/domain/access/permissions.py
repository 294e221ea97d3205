"""Permissions and the roles that carry them.

Every route declares one :class:`Permission`; a role is a named set of permissions. The
table in ``docs/security.md`` is generated from :data:`ROLE_PERMISSIONS` by
``afiya docs security`` and checked by a test, so code and docs cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # platform
    SELF = "self:read"  # one's own profile and session: every role has it
    ORGUNITS_READ = "orgunits:read"
    ORGUNITS_WRITE = "orgunits:write"
    ORGUNITS_IMPORT = "orgunits:import"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    JOBS_ADMIN = "jobs:admin"
    # patients and clinical record
    PATIENTS_READ = "patients:read"
    PATIENTS_WRITE = "patients:write"
    PATIENTS_MERGE = "patients:merge"
    CLINICAL_READ = "clinical:read"
    CLINICAL_WRITE = "clinical:write"
    PRESCRIPTIONS_WRITE = "prescriptions:write"
    DISPENSING_WRITE = "dispensing:write"
    DISPENSING_OVERRIDE = "dispensing:override"  # dispense despite a contraindication
    FORMULARY_WRITE = "formulary:write"  # formulary products and local safety rules
    LAB_RESULTS_WRITE = "lab_results:write"
    IMAGING_RESULTS_WRITE = "imaging_results:write"
    BILLING_READ = "billing:read"
    BILLING_WRITE = "billing:write"
    APPOINTMENTS_READ = "appointments:read"
    APPOINTMENTS_WRITE = "appointments:write"
    BREAK_THE_GLASS = "access:break_the_glass"
    # performance-based financing
    PBF_READ = "pbf:read"
    PBF_DECLARE = "pbf:declare"
    PBF_VERIFY = "pbf:verify"
    PBF_VALIDATE = "pbf:validate"
    PBF_MANAGE = "pbf:manage"
    DHIS2_MANAGE = "dhis2:manage"
    # other modules
    SURVEYS_COLLECT = "surveys:collect"
    HR_MANAGE = "hr:manage"
    ASSETS_MANAGE = "assets:manage"
    STATISTICS_READ = "statistics:read"


class Role(StrEnum):
    DOCTOR = "doctor"
    NURSE = "nurse"
    MIDWIFE = "midwife"
    PHARMACIST = "pharmacist"
    LAB_TECHNICIAN = "lab_technician"
    IMAGING_TECHNICIAN = "imaging_technician"
    RECEPTIONIST = "receptionist"
    CASHIER = "cashier"
    FACILITY_ADMIN = "facility_admin"
    AUDITOR = "auditor"
    PBF_VERIFIER = "pbf_verifier"
    PBF_MANAGER = "pbf_manager"
    SURVEYOR = "surveyor"
    HR_MANAGER = "hr_manager"
    ASSET_MANAGER = "asset_manager"
    DATA_MANAGER = "data_manager"
    SYSTEM_ADMIN = "system_admin"


P = Permission
_CLINICIAN = {
    P.ORGUNITS_READ,
    P.PATIENTS_READ,
    P.PATIENTS_WRITE,
    P.CLINICAL_READ,
    P.CLINICAL_WRITE,
    P.APPOINTMENTS_READ,
    P.APPOINTMENTS_WRITE,
    P.BREAK_THE_GLASS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DOCTOR: frozenset(_CLINICIAN | {P.PRESCRIPTIONS_WRITE, P.DISPENSING_OVERRIDE}),
    Role.NURSE: frozenset(_CLINICIAN),
    Role.MIDWIFE: frozenset(_CLINICIAN | {P.PRESCRIPTIONS_WRITE}),
    Role.PHARMACIST: frozenset(
        {
            P.ORGUNITS_READ,
            P.PATIENTS_READ,
            P.CLINICAL_READ,
            P.DISPENSING_WRITE,
            P.DISPENSING_OVERRIDE,
            P.FORMULARY_WRITE,
        }
    ),
    Role.LAB_TECHNICIAN: frozenset(
        {P.ORGUNITS_READ, P.PATIENTS_READ, P.CLINICAL_READ, P.LAB_RESULTS_WRITE}
    ),
    Role.IMAGING_TECHNICIAN: frozenset(
        {P.ORGUNITS_READ, P.PATIENTS_READ, P.CLINICAL_READ, P.IMAGING_RESULTS_WRITE}
    ),
    Role.RECEPTIONIST: frozenset(
        {
            P.ORGUNITS_READ,
            P.PATIENTS_READ,
            P.PATIENTS_WRITE,
            P.APPOINTMENTS_READ,
            P.APPOINTMENTS_WRITE,
        }
    ),
    Role.CASHIER: frozenset({P.ORGUNITS_READ, P.PATIENTS_READ, P.BILLING_READ, P.BILLING_WRITE}),
    Role.FACILITY_ADMIN: frozenset(
        {
            P.ORGUNITS_READ,
            P.ORGUNITS_WRITE,
            P.USERS_READ,
            P.USERS_WRITE,
            P.STATISTICS_READ,
            P.JOBS_ADMIN,
        }
    ),
    Role.AUDITOR: frozenset({P.ORGUNITS_READ, P.USERS_READ, P.AUDIT_READ, P.STATISTICS_READ}),
    Role.PBF_VERIFIER: frozenset({P.ORGUNITS_READ, P.PBF_READ, P.PBF_VERIFY}),
    Role.PBF_MANAGER: frozenset(
        {
            P.ORGUNITS_READ,
            P.PBF_READ,
            P.PBF_DECLARE,
            P.PBF_VALIDATE,
            P.PBF_MANAGE,
            P.DHIS2_MANAGE,
            P.STATISTICS_READ,
        }
    ),
    Role.SURVEYOR: frozenset({P.ORGUNITS_READ, P.SURVEYS_COLLECT}),
    Role.HR_MANAGER: frozenset({P.ORGUNITS_READ, P.USERS_READ, P.HR_MANAGE}),
    Role.ASSET_MANAGER: frozenset({P.ORGUNITS_READ, P.ASSETS_MANAGE}),
    Role.DATA_MANAGER: frozenset(
        {
            P.ORGUNITS_READ,
            P.ORGUNITS_WRITE,
            P.ORGUNITS_IMPORT,
            P.PATIENTS_READ,
            P.PATIENTS_MERGE,
            P.STATISTICS_READ,
            P.DHIS2_MANAGE,
            P.PBF_READ,
        }
    ),
    Role.SYSTEM_ADMIN: frozenset(
        {
            P.ORGUNITS_READ,
            P.ORGUNITS_WRITE,
            P.ORGUNITS_IMPORT,
            P.USERS_READ,
            P.USERS_WRITE,
            P.AUDIT_READ,
            P.JOBS_ADMIN,
            P.DHIS2_MANAGE,
        }
    ),
}

ROLE_PERMISSIONS = {role: perms | {P.SELF} for role, perms in ROLE_PERMISSIONS.items()}

_FACILITY_STAFF = frozenset(
    {
        Role.DOCTOR,
        Role.NURSE,
        Role.MIDWIFE,
        Role.PHARMACIST,
        Role.LAB_TECHNICIAN,
        Role.IMAGING_TECHNICIAN,
        Role.RECEPTIONIST,
        Role.CASHIER,
        Role.SURVEYOR,
        Role.HR_MANAGER,
        Role.ASSET_MANAGER,
        Role.FACILITY_ADMIN,
    }
)
ASSIGNABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.SYSTEM_ADMIN: frozenset(Role),
    Role.FACILITY_ADMIN: _FACILITY_STAFF,
}
"""Which roles a role may give to others: a facility administrator staffs the hospital but
cannot make anyone a system administrator, auditor or PBF manager."""


def assignable_by(roles: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """Role names that holders of ``roles`` may assign."""
    granted: set[str] = set()
    for name in roles:
        try:
            granted |= {r.value for r in ASSIGNABLE_ROLES.get(Role(name), frozenset())}
        except ValueError:
            continue
    return frozenset(granted)


PATIENT_DATA_PERMISSIONS = frozenset(
    {
        P.PATIENTS_READ,
        P.PATIENTS_WRITE,
        P.PATIENTS_MERGE,
        P.CLINICAL_READ,
        P.CLINICAL_WRITE,
        P.PRESCRIPTIONS_WRITE,
        P.DISPENSING_WRITE,
        P.DISPENSING_OVERRIDE,
        P.LAB_RESULTS_WRITE,
        P.IMAGING_RESULTS_WRITE,
        P.BILLING_READ,
        P.BILLING_WRITE,
        P.APPOINTMENTS_READ,
        P.APPOINTMENTS_WRITE,
    }
)
"""Permissions that touch patient data: their routes are always audited."""


def permissions_of(roles: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[Permission]:
    """Union of the permissions of ``roles``; unknown role names grant nothing."""
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(granted)
