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
  in a window; after that every survey page answers 429 until the window has passed.
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

from sqlalchemy.exc import IntegrityError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharedground.store import Store
from sharedground.store.schema import Setting

SECRET_ENV = "SHAREDGROUND_SECRET_KEY"
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


class RateLimiter:
    """Counts failed link look-ups per client in a sliding window.

    Kept in memory: a guesser needs about 2**191 tries, so the limit only has to make
    guessing noisy and slow, not be exact across workers or restarts.
    """

    def __init__(self, limit: int = 20, window: float = 600.0, max_clients: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str, now: float | None = None) -> float:
        """Seconds until `client` may try again (0 when it may try now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.get(client)
            if not failures:
                return 0.0
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.limit:
                return 0.0
            return failures[0] + self.window - now

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_clients and client not in self._failures:
                self._prune(now)
            self._failures.setdefault(client, deque()).append(now)

    def _prune(self, now: float) -> None:
        cutoff = now - self.window
        for client in [c for c, d in self._failures.items() if not d or d[-1] <= cutoff]:
            del self._failures[client]
        if len(self._failures) >= self.max_clients:
            # Still full of recent guessers: forget the oldest half rather than grow forever.
            for client in list(self._failures)[: self.max_clients // 2]:
                del self._failures[client]


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
