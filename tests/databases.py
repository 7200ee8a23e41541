"""Test databases: build a template once per session, clone it per test.

SQLite: copy the template file.  PostgreSQL (SURVEY_TEST_DATABASE_URL set):
CREATE DATABASE ... TEMPLATE ..., which is a fast file-level copy.  Either way
every test starts from an identical, isolated database and nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

PG_ENV = "SURVEY_TEST_DATABASE_URL"


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_conninfo(url: str, dbname: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if dbname:
        u = u.set(database=dbname)
    return u.render_as_string(hide_password=False)


class Templates:
    """Named template databases, each built once by a builder(url) callable."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.admin = pg_admin_url()
        self.built: dict[str, str] = {}
        self.clones: list[str] = []
        self.prefix = f"svt_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin else "sqlite"

    def _pg_exec(self, sql: str) -> None:
        with psycopg.connect(_pg_conninfo(self.admin), autocommit=True) as conn:
            conn.execute(sql)

    def template(self, name: str, builder: Callable[[str], None]) -> str:
        if name in self.built:
            return self.built[name]
        if self.admin:
            dbname = f"{self.prefix}_tpl_{name}"
            self._pg_exec(f'CREATE DATABASE "{dbname}"')
            url = _pg_conninfo(self.admin, dbname)
        else:
            url = f"sqlite:///{self.workdir / f'tpl_{name}.sqlite3'}"
        builder(url)
        self.built[name] = url
        return url

    def clone(self, name: str) -> str:
        source = self.built[name]
        if self.admin:
            dbname = f"{self.prefix}_{len(self.clones)}"
            src = make_url(source).database
            self._pg_exec(f'CREATE DATABASE "{dbname}" TEMPLATE "{src}"')
            self.clones.append(dbname)
            return _pg_conninfo(self.admin, dbname)
        target = self.workdir / f"db_{len(self.clones)}_{uuid.uuid4().hex[:6]}.sqlite3"
        # The template's engine is disposed, so its WAL is checkpointed into the file.
        shutil.copyfile(make_url(source).database, target)
        self.clones.append(str(target))
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        if self.admin:
            name = make_url(url).database
            self._pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        if self.admin:
            for name in list(self.built.values()):
                self.drop(name)
