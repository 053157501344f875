"""What keeps respondents safe: secret key, CSRF tokens, headers, rate limit, quiet logs.

* The secret key signs CSRF tokens. It comes from $SHAREDGROUND_SECRET_KEY, or is made
  once and kept in the database's `setting` table, so that a restart (or a second worker
  on the same database) accepts the forms the first one served.
* CSRF: a double-submit token. A random value lives in an HttpOnly, SameSite=Lax cookie;
  every form carries HMAC(secret, cookie value). A POST is accepted only when the two
  agree, and never when the browser says it came from another site (`Sec-Fetch-Site`).
* Headers: a Content-Security-Policy that allows nothing but this site's own files (no
  inline script or style), `nosniff`, `Referrer-Policy: no-referrer` so the token in the
  address never leaks to another site, no framing, no caching of survey pages.
* Token guessing: each client (IP address) may fail to name a valid link only so often
  in a window ($SHAREDGROUND_RATE_LIMIT, default 20 in 600 seconds); after that every
  survey page answers 429 until the window has passed. The failures are counted in the
  database, so all workers share one count; the client's address is stored only as a
  keyed hash, and only for the length of the window.
* Sign-in guessing: each client may fail to sign in to the admin area only so often in a
  window, whatever usernames it tries ($SHAREDGROUND_SIGNIN_LIMIT, default 10 in 900
  seconds; SIGNIN_LIMIT); then the sign-in form answers 429, checking no password, until
  the window has passed. Counted like token guessing, in the same table under keys of
  their own, so every worker shares one count. An account's own lockout (5 wrong
  passwords in a row) stays, and both answer like a wrong password would: which
  usernames exist is not revealed.
* Logs: the access log shows `/s/<token>` with the token replaced; answers are never logged,
  and a logged exception keeps its traceback but not its message (which may quote SQL
  parameters).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharedground.store import Store
from sharedground.store.schema import Guess, Setting

SECRET_ENV = "SHAREDGROUND_SECRET_KEY"
RATE_LIMIT_ENV = "SHAREDGROUND_RATE_LIMIT"
SIGNIN_LIMIT_ENV = "SHAREDGROUND_SIGNIN_LIMIT"
CSRF_COOKIE = "sg_csrf"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
_NO_STORE = (b"cache-control", b"no-store")


def secret_key(store: Store) -> bytes:
    """The key that signs CSRF tokens: $SHAREDGROUND_SECRET_KEY, else one kept in the database."""
    explicit = os.environ.get(SECRET_ENV)
    if explicit:
        return explicit.encode()
    for _attempt in range(2):
        try:
            with store.session() as session:
                row = session.get(Setting, "secret_key")
                if row is None:
                    row = Setting(name="secret_key", value=secrets.token_hex(32))
                    session.add(row)
                    session.flush()
                return row.value.encode()
        except IntegrityError:
            # Another worker made it between our read and our insert: read theirs.
            continue
    raise RuntimeError("could not read or create the secret key")  # pragma: no cover


class Csrf:
    """Double-submit CSRF tokens signed with the app's secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response.

    Written as plain ASGI (not BaseHTTPMiddleware) because it runs on every request and the
    survey must stay fast under load.
    """

    def __init__(self, app: ASGIApp, *, no_store: Callable[[str], bool]) -> None:
        self.app = app
        self.no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = self.no_store(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in _HEADERS if h[0] not in names)
                if no_store and b"cache-control" not in names:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def apply_headers(headers: MutableHeaders, *, no_store: bool = True) -> None:
    """Set the security headers on a response built outside the middleware (500 pages)."""
    for name, value in _HEADERS:
        headers.setdefault(name.decode(), value.decode())
    if no_store:
        headers.setdefault("cache-control", "no-store")


@dataclass(frozen=True)
class RateLimit:
    """How many failed link look-ups a client may make in a window of seconds."""

    failures: int = 20
    seconds: int = 600

    def __str__(self) -> str:
        return f"{self.failures}/{self.seconds}"

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """`20/600`: failures/seconds, both whole numbers above zero."""
        failures, slash, seconds = text.strip().partition("/")
        if slash and failures.strip().isdigit() and seconds.strip().isdigit():
            limit = cls(int(failures), int(seconds))
            if limit.failures > 0 and limit.seconds > 0:
                return limit
        raise ValueError(
            f"{text!r} is not a rate limit: give FAILURES/SECONDS, whole numbers above "
            "zero, like 20/600"
        )

    @classmethod
    def from_env(cls, name: str = RATE_LIMIT_ENV, default: RateLimit | None = None) -> RateLimit:
        """$SHAREDGROUND_RATE_LIMIT (or `name`), else `default` (20 failures in 600 seconds)."""
        text = os.environ.get(name)
        if not text:
            return default or cls()
        try:
            return cls.parse(text)
        except ValueError as exc:
            raise ValueError(f"${name}: {exc}") from None


#: Failed admin sign-ins allowed from one client address in the window, across usernames.
SIGNIN_LIMIT = RateLimit(10, 900)


class Ledger(Protocol):
    """Where a rate limiter keeps the instants at which each client failed."""

    def recent(self, client: str, since: float, count: int) -> list[float]:
        """The client's newest `count` failures after `since`, newest first."""
        ...

    def record(self, client: str, at: float, since: float, count: int) -> list[float]:
        """Record a failure at `at`, then return what `recent` would."""
        ...

    def prune(self, before: float) -> None:
        """Forget every failure at or before `before`."""
        ...


class MemoryLedger:
    """Failures kept in this process only (one worker, or tests)."""

    def __init__(self, max_clients: int = 100_000) -> None:
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def recent(self, client: str, since: float, count: int) -> list[float]:
        with self._lock:
            failures = self._failures.get(client, ())
            return [at for at in reversed(failures) if at > since][:count]

    def record(self, client: str, at: float, since: float, count: int) -> list[float]:
        with self._lock:
            if len(self._failures) >= self.max_clients and client not in self._failures:
                self._prune_locked(since)
            failures = self._failures.setdefault(client, deque())
            failures.append(at)
            while failures and failures[0] <= since:
                failures.popleft()
        return self.recent(client, since, count)

    def prune(self, before: float) -> None:
        with self._lock:
            self._prune_locked(before)

    def _prune_locked(self, before: float) -> None:
        for client in [c for c, d in self._failures.items() if not d or d[-1] <= before]:
            del self._failures[client]
        if len(self._failures) >= self.max_clients:
            # Still full of recent guessers: forget the oldest half rather than grow forever.
            for client in list(self._failures)[: self.max_clients // 2]:
                del self._failures[client]


class DatabaseLedger:
    """Failures kept in the database (table `guess`), shared by every worker and server.

    A client is stored as an HMAC of its address under a key derived from the app's secret,
    never as the address: an unkeyed hash of an IPv4 address is undone by hashing all 2**32
    of them. Rows are deleted once they are older than the limit's window.
    """

    def __init__(self, store: Store, key: bytes, scope: str = "") -> None:
        """`scope` keeps a second count in the same table (sign-in failures: "signin:"):
        its rows' keys begin with it, and its pruning touches only them. Hashes are hex, so
        the unscoped (token) rows are those without a ":".
        """
        if scope and (":" not in scope or len(scope) > 16):
            raise ValueError("a ledger scope ends with ':' and is at most 16 characters")
        self._engine = store.engine
        self._scope = scope
        label = b"rate-limit client key" + (b" " + scope.encode() if scope else b"")
        self._key = hmac.new(key, label, hashlib.sha256).digest()

    def client_key(self, client: str) -> str:
        digest = hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()
        return (self._scope + digest)[:32]

    def recent(self, client: str, since: float, count: int) -> list[float]:
        with self._engine.connect() as connection:
            return self._recent(connection, self.client_key(client), since, count)

    def record(self, client: str, at: float, since: float, count: int) -> list[float]:
        key = self.client_key(client)
        with self._engine.begin() as connection:
            connection.execute(insert(Guess).values(client_key=key, at=at))
            return self._recent(connection, key, since, count)

    def prune(self, before: float) -> None:
        # Each count forgets only its own rows: their windows may differ.
        mine = (
            Guess.client_key.startswith(self._scope, autoescape=True)
            if self._scope
            else Guess.client_key.not_like("%:%")
        )
        with self._engine.begin() as connection:
            connection.execute(delete(Guess).where(Guess.at <= before, mine))

    @staticmethod
    def _recent(connection: Connection, key: str, since: float, count: int) -> list[float]:
        newest = (
            select(Guess.at)
            .where(Guess.client_key == key, Guess.at > since)
            .order_by(Guess.at.desc())
            .limit(count)
        )
        return [float(at) for at in connection.scalars(newest)]


class RateLimiter:
    """Counts failed link look-ups per client in a sliding window.

    A guesser needs about 2**191 tries, so the limit is there to make guessing slow and
    noisy. With the default ledger the counts live in this process; the app gives it a
    DatabaseLedger so that `serve --workers N` (or several servers on one PostgreSQL
    database) allow a client `limit` failures in all, not `limit` per worker.

    Cost. `blocked` runs before every survey page, and nearly every client has never
    failed: what this process learnt about such a client is trusted for `recheck` seconds
    (a minute: about one page of the questionnaire), so a page view costs at most one
    indexed read per client a minute (about 0.4 ms on SQLite, 1 ms on PostgreSQL) and never
    a write. A client with failures in the window is read afresh on each request (those
    are few: guessers, and people who mistyped a link), and a blocked client stays blocked
    from memory until its wait is over. `failed` records the failure and re-reads the
    count in the same transaction. The price of the memory is a bounded overshoot, whatever
    `recheck` is: a worker that learnt "never failed" less than `recheck` seconds ago lets
    one more failure through before it learns otherwise, so a client fails at most
    limit + workers - 1 times in a window (never workers x limit); meanwhile it may still
    open a valid link on that worker, which is no guessing.

    Threads. `blocked` and `failed` may read or write the ledger (a database), so the app
    calls them in worker threads, never on the event loop; `remembered` answers the common
    case from memory on the loop. Everything they share is guarded by a lock.
    """

    def __init__(
        self,
        limit: int = 20,
        window: float = 600.0,
        *,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.time,
        recheck: float = 60.0,
        max_clients: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.recheck = recheck
        self.max_clients = max_clients
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger(max_clients)
        # Wall-clock seconds: a database ledger is shared by processes (and machines), whose
        # monotonic clocks do not agree.
        self._clock = clock
        # client -> (blocked until, learnt at, had no failures in the window)
        self._known: dict[str, tuple[float, float, bool]] = {}
        self._next_prune = 0.0
        self._lock = threading.Lock()

    def remembered(self, client: str, now: float | None = None) -> float | None:
        """What `blocked` would answer from this process's memory alone, or None when it
        would read the ledger.

        Never touches the ledger, so an event loop may call it; only a None needs the
        (blocking) `blocked`, which the app runs in a worker thread.
        """
        now = self._clock() if now is None else now
        with self._lock:
            known = self._known.get(client)
        if known is not None:
            until, learnt, clean = known
            if until > now:
                return until - now
            if clean and 0 <= now - learnt < self.recheck:
                return 0.0
        return None

    def blocked(self, client: str, now: float | None = None) -> float:
        """Seconds until `client` may try again (0 when it may try now)."""
        now = self._clock() if now is None else now
        wait = self.remembered(client, now)
        if wait is not None:
            return wait
        return self._learn(client, self.ledger.recent(client, now - self.window, self.limit), now)

    def failed(self, client: str, now: float | None = None) -> None:
        """Record that `client` named a link that does not exist."""
        now = self._clock() if now is None else now
        newest = self.ledger.record(client, now, now - self.window, self.limit)
        self._learn(client, newest, now)
        with self._lock:  # two threads recording failures at once: one of them prunes
            due = now >= self._next_prune
            if due:
                self._next_prune = now + min(self.window, 60.0)
        if due:
            # Only on failures, and at most once a minute per process: page views never write.
            self.ledger.prune(now - self.window)

    def prune(self, now: float | None = None) -> None:
        """Forget the failures that no longer count (the app does this when it starts)."""
        now = self._clock() if now is None else now
        self.ledger.prune(now - self.window)

    def _learn(self, client: str, newest: list[float], now: float) -> float:
        # Blocked while `limit` failures lie in the window: until the limit-th newest leaves.
        until = newest[self.limit - 1] + self.window if len(newest) >= self.limit else 0.0
        with self._lock:
            if len(self._known) >= self.max_clients and client not in self._known:
                self._forget(now)
            self._known.pop(client, None)  # re-inserted last: the dict stays oldest first
            self._known[client] = (until, now, not newest)
        return max(0.0, until - now)

    def _forget(self, now: float) -> None:
        stale = [
            c
            for c, (until, learnt, clean) in self._known.items()
            if until <= now and not (clean and 0 <= now - learnt < self.recheck)
        ]
        for client in stale:
            del self._known[client]
        if len(self._known) >= self.max_clients:
            for client in list(self._known)[: self.max_clients // 2]:
                del self._known[client]


_TOKEN_IN_PATH = re.compile(r"(/s/)[^/\s?\"]+")


def redact(text: str) -> str:
    """`text` with every survey token replaced by `<token>`."""
    return _TOKEN_IN_PATH.sub(r"\1<token>", text)


class RedactTokens(logging.Filter):
    """A logging filter that removes survey tokens from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # An exception's message can quote SQL parameters (answers, token hashes): keep
            # where it happened and what kind of error it was, never what it said.
            error = record.exc_info[1]
            frames = "".join(traceback.format_tb(error.__traceback__))
            record.exc_text = f"Traceback (most recent call last):\n{frames}{type(error).__name__}"
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Redact tokens from uvicorn's access and error logs (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
