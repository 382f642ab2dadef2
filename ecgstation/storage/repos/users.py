"""User accounts: create, authenticate, change password, deactivate."""

from __future__ import annotations

from sqlalchemy import func, select

from ecgstation.storage.access import Actor, Permission, Role, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.errors import ConflictError, NotFoundError, PermissionDeniedError
from ecgstation.storage.orm import UserRow
from ecgstation.storage.passwords import hash_password, verify_password
from ecgstation.storage.repos.audit import AuditLog
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import UserView

__all__ = ["UserRepository"]


def _view(row: UserRow) -> UserView:
    return UserView(row.id, row.username, row.display_name, row.role, row.active)


class UserRepository(Repository):
    """Users; only admins manage them, except the very first account of an empty database."""

    def count(self) -> int:
        """How many accounts exist (0 on a fresh database)."""
        return int(self.session.scalar(select(func.count(UserRow.id))) or 0)

    def create(
        self, username: str, role: Role, password: str | None = None, display_name: str | None = None
    ) -> UserView:
        """A new account. On an empty database the first account may be created by anyone and must be admin."""
        username = username.strip()
        if not username:
            raise ValueError("a user needs a username")
        first = self.count() == 0
        if first:
            if role is not Role.ADMIN:
                raise PermissionDeniedError("The first account of a new database must be an administrator.")
        else:
            require(self.actor, Permission.MANAGE_USERS)
        if self.session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
            raise ConflictError(f"A user named {username} already exists.")
        row = UserRow(
            username=username,
            role=role.value,
            display_name=display_name,
            password_hash=None if password is None else hash_password(password),
            active=True,
        )
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "user", row.id, username=username, role=role.value, first_account=first)
        return _view(row)

    def get_by_name(self, username: str) -> UserView | None:
        """The account with this username, or None."""
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        return None if row is None else _view(row)

    def list(self) -> list[UserView]:
        """All accounts (admins only)."""
        require(self.actor, Permission.MANAGE_USERS)
        return [_view(r) for r in self.session.scalars(select(UserRow).order_by(UserRow.username))]

    def authenticate(self, username: str, password: str | None) -> Actor:
        """The actor for ``username`` if the password matches and the account is active.

        An account without a password (the bootstrap account of a workstation) accepts None.
        """
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        refused = PermissionDeniedError(f"Sign-in refused for {username}: unknown user or wrong password.")
        if row is None:
            raise refused
        if row.password_hash is None:
            ok = password is None or password == ""
        else:
            ok = password is not None and verify_password(password, row.password_hash)
        if not ok:
            raise refused
        if not row.active:
            raise PermissionDeniedError(f"The account {username} is deactivated; ask an administrator.")
        row.last_login_at = utcnow()
        actor = Actor(row.id, row.username, Role(row.role))
        # The login line names the user who signed in (this store's own actor is unchanged).
        AuditLog(self.session, actor).record("login", "user", row.id)
        return actor

    def set_password(self, username: str, password: str) -> None:
        """Set a password: admins for anyone, every user for themself."""
        if username != self.actor.username:
            require(self.actor, Permission.MANAGE_USERS)
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise NotFoundError(f"There is no user named {username}.")
        row.password_hash = hash_password(password)
        self.audit.record("update", "user", row.id, field="password")

    def set_active(self, username: str, active: bool) -> None:
        """Activate or deactivate an account (admins only; accounts are never deleted: the audit log names them)."""
        require(self.actor, Permission.MANAGE_USERS)
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise NotFoundError(f"There is no user named {username}.")
        row.active = active
        self.audit.record("update", "user", row.id, active=active)
