"""Who may do what: roles, permissions and the signed-in actor every repository call carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ecgstation.storage.errors import PermissionDeniedError

__all__ = ["Actor", "Permission", "Role", "allowed", "require"]


class Role(str, Enum):
    """The four roles of the workstation."""

    ADMIN = "admin"
    CARDIOLOGIST = "cardiologist"
    NURSE = "nurse"
    STUDENT = "student"


class Permission(str, Enum):
    """One thing a role may or may not do."""

    READ_IDENTIFYING = "read identifying patient data"
    READ_CLINICAL = "read de-identified ECGs and findings"
    EDIT_PATIENTS = "create and edit patients"
    IMPORT_RECORDINGS = "import recordings"
    EDIT_BEATS = "edit beat annotations"
    PROPOSE_FINDINGS = "record findings"
    CONFIRM_FINDINGS = "confirm or reject a diagnosis"
    MONITOR = "run monitoring sessions"
    ACKNOWLEDGE_ALARMS = "acknowledge alarms"
    SET_ALARM_LIMITS = "set a patient's alarm thresholds"
    MANAGE_DEVICES = "register devices"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit log"
    EXPORT = "export patient data"
    BACKUP = "back up and restore the database"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.READ_IDENTIFYING,
            Permission.READ_CLINICAL,
            Permission.EDIT_PATIENTS,
            Permission.IMPORT_RECORDINGS,
            Permission.MANAGE_DEVICES,
            Permission.MONITOR,
            Permission.MANAGE_USERS,
            Permission.READ_AUDIT,
            Permission.EXPORT,
            Permission.BACKUP,
        }
    ),
    Role.CARDIOLOGIST: frozenset(
        {
            Permission.READ_IDENTIFYING,
            Permission.READ_CLINICAL,
            Permission.EDIT_PATIENTS,
            Permission.IMPORT_RECORDINGS,
            Permission.EDIT_BEATS,
            Permission.PROPOSE_FINDINGS,
            Permission.CONFIRM_FINDINGS,
            Permission.MONITOR,
            Permission.ACKNOWLEDGE_ALARMS,
            Permission.SET_ALARM_LIMITS,
            Permission.EXPORT,
        }
    ),
    Role.NURSE: frozenset(
        {
            Permission.READ_IDENTIFYING,
            Permission.READ_CLINICAL,
            Permission.EDIT_PATIENTS,
            Permission.IMPORT_RECORDINGS,
            Permission.PROPOSE_FINDINGS,
            Permission.MONITOR,
            Permission.ACKNOWLEDGE_ALARMS,
            Permission.SET_ALARM_LIMITS,
            Permission.MANAGE_DEVICES,
            Permission.EXPORT,
        }
    ),
    Role.STUDENT: frozenset({Permission.READ_CLINICAL}),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user on whose behalf storage is called (id, username, role)."""

    user_id: int | None
    username: str
    role: Role

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants ``permission``."""
        return allowed(self.role, permission)


def allowed(role: Role, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission``."""
    return permission in _GRANTS[role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`PermissionDeniedError` unless ``actor`` may do ``permission``."""
    if not actor.can(permission):
        raise PermissionDeniedError(
            f"{actor.username} ({actor.role.value}) is not allowed to {permission.value}."
        )
