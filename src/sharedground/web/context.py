"""What every view shares: the store, templates, CSRF, rate limit and instrument cache."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from sharedground.instrument import Instrument, loads
from sharedground.store import InstrumentRecord, Store
from sharedground.web.clock import as_stored
from sharedground.web.fragments import FieldDrawer
from sharedground.web.security import CSRF_COOKIE, CSRF_FIELD, Csrf, RateLimiter

SERVICE_NAME = "Doctor–manager relationships survey"
STATIC_PATH = "/static"
# A page of 20 free-text answers at their longest, with room to spare.
MAX_FORM_BYTES = 512 * 1024

P = ParamSpec("P")
T = TypeVar("T")


class CsrfRejected(Exception):
    """A form came back without a matching CSRF token (or from another site)."""


class TooLarge(Exception):
    """A form far larger than any questionnaire page can produce."""


class TooManyAttempts(Exception):
    """The client has failed to name a valid link too often; `retry_after` in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many attempts")
        self.retry_after = retry_after


def _link_binding(request: Request) -> str | None:
    """What a page's CSRF token is bound to when the page belongs to a personal link.

    A random cookie value never contains ':' (URL-safe base64), so a link binding can never
    be mistaken for one.
    """
    token = request.path_params.get("token")
    return f"link:{token}" if isinstance(token, str) and token else None


def templates() -> jinja2.Environment:
    folder = resources.files("sharedground.web") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    env.globals.update(service_name=SERVICE_NAME, static=STATIC_PATH)
    return env


@dataclass
class WebContext:
    """The app's shared state, one per app (kept on `app.state.web`)."""

    store: Store
    csrf: Csrf
    limiter: RateLimiter
    #: The study's time zone: its dates are the survey's, admin pages show times in it.
    zone: ZoneInfo
    #: The current instant, time-zone aware (tests move it).
    now: Callable[[], dt.datetime]
    #: The study's date today (StudyCalendar(zone, now).today unless a test fixes it).
    today: Callable[[], dt.date]
    #: Failed admin sign-ins per client address, across usernames (create_app shares it
    #: through the database; this default counts in memory).
    signin: RateLimiter = field(default_factory=lambda: RateLimiter(10, 900))
    env: jinja2.Environment = field(default_factory=templates)
    _fields: FieldDrawer | None = None
    _instruments: dict[int, Instrument] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _write_lock: threading.Lock = field(default_factory=threading.Lock)

    def stamp(self) -> dt.datetime:
        """The current instant as the database keeps instants (UTC, to the second)."""
        return as_stored(self.now())

    @property
    def fields(self) -> FieldDrawer:
        """Draws section pages' questions (made on first use, with this context's templates)."""
        if self._fields is None:
            self._fields = FieldDrawer(self.env)
        return self._fields

    # -- database -----------------------------------------------------------------------------

    async def run(
        self, work: Callable[..., T], *args: Any, write: bool = False, plain: bool = False
    ) -> T:
        """Run `work(db, *args)` in one transaction, off the event loop.

        Args:
            write: the work writes. On SQLite, writers then queue on a lock in this process
                instead of inside SQLite, whose busy handler sleeps in steps of up to 100 ms
                and would turn a burst of submits into long waits (and hold pooled
                connections that page views need meanwhile).
            plain: `db` is a plain connection instead of an ORM session: for the
                respondent's pages, whose work is a few prebuilt statements, where a
                session's set-up and commit cost about as much as the statements.
        """
        job = self._plain if plain else self._in_transaction
        if self.store.backend == "sqlite":
            if write:
                return await run_in_threadpool(self._serialised, job, work, *args)
            # An SQLite read in WAL mode never waits for a lock and takes a fraction of a
            # millisecond: cheaper on the event loop than the hop to a worker thread.
            return job(work, *args)
        return await run_in_threadpool(job, work, *args)

    def _serialised(self, job: Callable[..., T], work: Callable[..., T], *args: Any) -> T:
        with self._write_lock:
            return job(work, *args)

    def _plain(self, work: Callable[..., T], *args: Any) -> T:
        # Committed on success, rolled back on error, and run again after a lost race, as
        # `_in_transaction` does with a session.
        try:
            with self.store.engine.begin() as connection:
                return work(connection, *args)
        except IntegrityError:
            with self.store.engine.begin() as connection:
                return work(connection, *args)

    def _in_transaction(self, work: Callable[..., T], *args: Any) -> T:
        try:
            with self.store.session() as session:
                return work(session, *args)
        except IntegrityError:
            # Two requests of one respondent raced (a double click on a first save): the
            # loser's transaction is rolled back; run it again on what the winner wrote.
            with self.store.session() as session:
                return work(session, *args)

    def instrument(self, db: Session | Connection, instrument_id: int) -> Instrument:
        """A wave's questionnaire, parsed once per process (stored definitions never change)."""
        cached = self._instruments.get(instrument_id)
        if cached is not None:
            return cached
        # Parsing takes tens of milliseconds: when a wave opens and many respondents arrive
        # at once, one thread parses while the others wait for its result.
        with self._lock:
            cached = self._instruments.get(instrument_id)
            if cached is None:
                definition, key, version = db.execute(
                    select(
                        InstrumentRecord.definition, InstrumentRecord.key, InstrumentRecord.version
                    ).where(InstrumentRecord.id == instrument_id)
                ).one()
                cached = loads(definition, source=f"<stored {key}@{version}>")
                self._instruments[instrument_id] = cached
        return cached

    # -- requests -----------------------------------------------------------------------------

    def client(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def check_rate(self, request: Request) -> None:
        """Refuse a client that has failed to name a link too often (TooManyAttempts).

        Nearly always answered from the limiter's memory; when it must read the shared
        count (once a minute per client, or on every request of one that has failed) the
        read runs in a worker thread, so a slow database never holds up the event loop.
        """
        client = self.client(request)
        wait = self.limiter.remembered(client)
        if wait is None:
            wait = await run_in_threadpool(self.limiter.blocked, client)
        if wait > 0:
            raise TooManyAttempts(wait)

    async def signin_wait(self, request: Request) -> float:
        """Seconds the client must wait before trying to sign in again (0: it may now)."""
        return await run_in_threadpool(self.signin.blocked, self.client(request))

    async def record_signin_failure(self, request: Request) -> None:
        """Count a failed sign-in against the client, whatever the username."""
        client = self.client(request)
        if self.store.backend == "sqlite":
            await run_in_threadpool(self._locked, self.signin.failed, client)
        else:
            await run_in_threadpool(self.signin.failed, client)

    async def record_failure(self, request: Request) -> None:
        """Count a failed link look-up against the client (a database write: off the loop)."""
        client = self.client(request)
        if self.store.backend == "sqlite":
            # Queue behind this process's other writers, as `run` does, not in SQLite.
            await run_in_threadpool(self._locked, self.limiter.failed, client)
        else:
            await run_in_threadpool(self.limiter.failed, client)

    def _locked(self, work: Callable[..., T], *args: Any) -> T:
        with self._write_lock:
            return work(*args)

    async def check_csrf(self, request: Request) -> dict[str, list[str]]:
        """The posted form as lists of values, once its CSRF token has been checked."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise CsrfRejected()
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise TooLarge()
        async with request.form(max_files=0, max_fields=500) as form:
            raw: dict[str, list[str]] = {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    raw.setdefault(key, []).append(value)
        token = raw.pop(CSRF_FIELD, [None])[-1]
        link = _link_binding(request)
        bound_to = link if link is not None else request.cookies.get(CSRF_COOKIE)
        if not self.csrf.valid(bound_to, token):
            raise CsrfRejected()
        return raw

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """A page, with a CSRF token for its forms (and the cookie it is bound to, if new).

        A page reached through a personal link binds its forms to the link instead of a
        cookie: only someone holding the link can read the page or post to its address, so
        the link does what the cookie would, and a browser that refuses cookies can still
        answer the survey.
        """
        bound_to = _link_binding(request)
        new_cookie = False
        if bound_to is None:
            bound_to = request.cookies.get(CSRF_COOKIE)
            new_cookie = bound_to is None or len(bound_to) > 64
            if new_cookie:
                bound_to = Csrf.new_cookie()
        assert bound_to is not None
        context.setdefault("problems", [])
        context.setdefault("back_url", None)
        html = self.env.get_template(template).render(
            csrf_token=self.csrf.token_for(bound_to), **context
        )
        response = HTMLResponse(html, status_code=status_code)
        if new_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                bound_to,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path="/",
            )
        return response
