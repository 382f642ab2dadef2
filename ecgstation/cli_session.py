"""The database and the signed-in user of a command-line run (``ecgstation backup``, ``restore``, ``import``)."""

from __future__ import annotations

import getpass
import os
import sys

from ecgstation.storage import Actor, Database, PermissionDeniedError, Role
from ecgstation.storage.settings import load_database_settings

__all__ = ["PASSWORD_ENV", "cli_actor", "open_cli_database"]

#: Environment variable holding the password of the ``--user`` account (for scripts and cron jobs).
PASSWORD_ENV = "ECGSTATION_PASSWORD"


def open_cli_database(url: str | None) -> Database:
    """Open (and migrate) the database ``url`` names: a SQLAlchemy URL or a SQLite file path.

    None: ``$ECGSTATION_DATABASE_URL``, else the settings file's [database] url, else the embedded
    SQLite file (see load_database_settings).
    Raises DatabaseUnavailableError or MigrationError with a message for the user.
    """
    return Database.open(load_database_settings(url=url))


def cli_actor(db: Database, username: str, password_env: str = PASSWORD_ENV) -> Actor:
    """Sign ``username`` in for a command-line run.

    On a database without any account, ``username`` becomes its first administrator (without a
    password, like the bootstrap account of a new workstation). Otherwise the password comes from
    ``$ECGSTATION_PASSWORD`` (``password_env``) or, on a terminal, is asked for; an account without
    a password signs in without one. Raises PermissionDeniedError when sign-in is refused.
    """
    username = username.strip()
    bootstrap = Actor(None, username, Role.ADMIN)
    with db.session(bootstrap) as store:
        if store.users.count() == 0:
            view = store.users.create(username, Role.ADMIN, None)
            return Actor(view.id, view.username, Role(view.role))
    password = os.environ.get(password_env)
    asked = False
    if password is None and sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass(f"Password for {username}: ")
        asked = True
    try:
        with db.session(Actor(None, username, Role.STUDENT)) as store:
            return store.users.authenticate(username, password)
    except PermissionDeniedError as error:
        if password is None and not asked:
            raise PermissionDeniedError(
                f"{error} Give the password in ${password_env}, or run the command on a terminal to be asked for it."
            ) from error
        raise
