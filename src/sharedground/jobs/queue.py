"""The task queue: huey, storing its queue in the store's own database.

Why huey with its SQL storage (`huey.contrib.sql_huey`, through peewee): it is a small,
maintained task queue whose SQL storage works on both databases sharedground supports
(SQLite and PostgreSQL, the latter with `FOR UPDATE SKIP LOCKED`), so a set-up needs no
broker (Redis, RabbitMQ) beside the database it already has, and queued jobs live in the
same database as the store: they survive a restart of the server or the worker and are
backed up with everything else. Its tables are created by migration 0009, under names of
our own (`huey_task`, ...), not by huey at run time.

Huey only carries "run job N" to a worker. What a person sees (state, progress, errors,
files) is the `job` table; a worker killed mid-job is found there and the job queued
again (`records.recover`), since huey removes a task from its queue when a worker takes it.
"""

from __future__ import annotations

from typing import Any

from huey import Huey
from huey.contrib.sql_huey import SqlStorage
from peewee import Database, PostgresqlDatabase, SqliteDatabase
from sqlalchemy.engine import make_url

QUEUE_NAME = "sharedground"
TABLE_PREFIX = "huey_"


class PrefixedSqlStorage(SqlStorage):  # type: ignore[misc]
    """huey's SQL storage with its tables named `huey_kv`, `huey_task`, ... .

    huey names them `kv`, `schedule`, `task` and `counter`: too plain for a database that
    holds a whole study.
    """

    def create_models(self) -> tuple[Any, ...]:
        models = super().create_models()
        for model in models:
            model._meta.set_table_name(TABLE_PREFIX + model._meta.table_name)
        return tuple(models)


def peewee_database(url: str) -> Database:
    """A peewee connection to the database a SQLAlchemy URL names (SQLite or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqliteDatabase(
            parsed.database or ":memory:",
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "synchronous": "normal"},
        )
    options: dict[str, Any] = {}
    for name, value in parsed.query.items():
        options[name] = value if isinstance(value, str) else value[-1]
    return PostgresqlDatabase(
        parsed.database,
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        prefer_psycopg3=True,
        **options,
    )


def make_huey(url: str) -> Huey:
    """The huey instance for a store's URL, with the one task `run_job` registered."""
    from sharedground.jobs import tasks

    huey = Huey(
        QUEUE_NAME,
        results=False,
        utc=True,
        storage_class=PrefixedSqlStorage,
        database=peewee_database(url),
        create_tables=False,
    )
    tasks.register(huey, url)
    return huey
