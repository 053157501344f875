"""Benchmark: the web survey under 200 concurrent respondents, beside the app's bare ceiling.

The server is what `sharedground serve` runs in production (uvicorn with uvloop and
httptools, access log off, no reload) started as a subprocess on a fresh SQLite (WAL)
database; the load generator (aiohttp, one cookie jar per respondent, as many browsers) runs
in this process on loopback. Everything is bounded in count and time and stops by itself.

1. Ceiling: the same app's `/healthz` (no template, no database), hit by the same number of
   concurrent clients for a fixed time. This is the issue's ceiling and its ratio is printed
   as the issue defines it; on this machine it is bounded by the load generator (one Python
   process, a few thousand requests a second) more than by the server.
   Static page: a second, separately labelled peer. The same app, through the same
   middleware, serving a ready-made page of the same size as a survey section page (the
   mean of one respondent's section pages, fetched first), so that the generator does per
   request what it does for the survey. Its route exists only in the bench's own app
   factory (`bench_app`: the production factory plus that route); production never has it.
2. Survey: every respondent opens their link, and for each section loads the page and posts
   answers (a page submit, answered by a redirect), then checks and submits, and loads the
   confirmation: 24 requests each, as a browser sends them.
   This is done twice with fresh links: without pauses (the server saturated: throughput,
   and the ratio to the ceiling), and with exponential pauses before each submit (people
   read and answer; still far faster than people): the latency a respondent feels.
3. Afterwards the database must hold every completed survey exactly once.

Server CPU time per request (the uvicorn processes', from /proc) is printed for the survey,
the static page and /healthz: unlike the rates, it does not depend on what else the shared
machine is doing.

With 200 clients and no pauses, latency is queueing (Little's law: 200 / throughput), so
the p99 target is checked on the paced run and both are printed.

    .venv/bin/python bench/bench_web.py                       # 200 respondents, 2 workers
    .venv/bin/python bench/bench_web.py --respondents 50 --workers 1 --think 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
DEADLINE_S = 240.0
# As `sharedground serve`: people pause between pages longer than uvicorn's default 5 s.
KEEP_ALIVE_S = 30  # the whole survey phase; a stuck run stops here and counts as errors
# The bench-only static page (see `bench_app`); its size is in the path.
STATIC_PATH = "/_bench/page/{size:int}"
STATIC_MAX_BYTES = 1 << 20


def _static_page(size: int) -> bytes:
    """An HTML page of exactly `size` bytes (at least the skeleton's)."""
    head, tail = b"<!DOCTYPE html><html lang=en><title>bench</title><p>", b"</p></html>\n"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def bench_app() -> Starlette:
    """The production app (`sharedground.web.server:app`) plus the bench's static page.

    Only this factory, which uvicorn imports from the bench folder, adds the route; the
    app `serve` runs has no such route and no setting that adds one. The page is made once
    per size and sent as it is: no template, no database, no rate limit; the security
    headers middleware and the exception handlers are the app's own. The route sits right
    after /healthz, so it costs the router what /healthz does.
    """
    from starlette.routing import Route

    from sharedground.web import server

    app = server.app()
    pages: dict[int, bytes] = {}

    async def static(request: Request) -> Response:
        size = min(int(request.path_params["size"]), STATIC_MAX_BYTES)
        body = pages.get(size)
        if body is None:
            body = pages.setdefault(size, _static_page(size))
        return Response(body, media_type="text/html")

    routes = app.router.routes
    after = next(i for i, r in enumerate(routes) if getattr(r, "path", None) == "/healthz")
    routes.insert(after + 1, Route(STATIC_PATH, static, methods=["GET"]))
    return app


@dataclass
class Tally:
    """Latencies (seconds) by kind of request, and errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, list[int]] = field(default_factory=dict)  # response body bytes
    errors: list[str] = field(default_factory=list)
    completed: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def count(self, *kinds: str) -> int:
        return sum(len(self.latencies.get(k, [])) for k in kinds)

    def quantile(self, q: float, *kinds: str) -> float:
        values = sorted(v for k in kinds for v in self.latencies.get(k, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its children so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        if pid == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _prepare(url: str, respondents: int) -> list[str]:
    from sharedground.fieldwork.links import create_links
    from sharedground.instrument import builtin
    from sharedground.store import Store

    store = Store(url)
    store.init()
    try:
        with store.session() as session:
            wave = store.create_wave(session, "bench", builtin("dmr-2015"), anonymous=True)
            return create_links(session, wave, respondents, trust="RBENCH")
    finally:
        store.dispose()


def _start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    here = str(Path(__file__).resolve().parent)
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "SHAREDGROUND_DATABASE_URL": url,
        "SHAREDGROUND_SECRET_KEY": "bench-secret",
        # Each worker imports `bench_web` (this file) for its app factory.
        "PYTHONPATH": here + (os.pathsep + path if path else ""),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench_web:bench_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--timeout-keep-alive",
        str(KEEP_ALIVE_S),
        # As `serve`: a worker still importing on a busy machine is not killed and restarted.
        "--timeout-worker-healthcheck",
        "30",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env)


async def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz within 30 s")


async def _ceiling(
    url: str, kind: str, clients: int, seconds: float, size: int | None = None
) -> tuple[float, Tally]:
    """`clients` clients GET `url` back to back for `seconds`: (requests/s, tally)."""
    tally = Tally()
    stop = time.perf_counter() + seconds

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        body = await response.read()
                        if response.status != 200:
                            tally.errors.append(f"{kind} {response.status}")
                        elif size is not None and len(body) != size:
                            tally.errors.append(f"{kind}: {len(body)} bytes, not {size}")
                except aiohttp.ClientError as exc:
                    tally.errors.append(f"{kind} {type(exc).__name__}")
                tally.add(kind, time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return tally.count(kind) / (time.perf_counter() - began), tally


_PARSED: list[Any] = []


def _instrument(builtin: Any) -> Any:
    # Parsed once: parsing per respondent would stall the generator's event loop and be
    # counted as server latency.
    if not _PARSED:
        _PARSED.append(builtin("dmr-2015"))
    return _PARSED[0]


def _answers(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Random valid answers per section, as form fields (what a respondent would tick)."""
    from sharedground.instrument import (
        GRID_VALUES,
        GridItem,
        Likert,
        LikertItem,
        MultiItem,
        RatingItem,
        SingleItem,
        TextItem,
        builtin,
    )

    pages: dict[str, list[tuple[str, str]]] = {}
    for section in _instrument(builtin).sections:
        fields: list[tuple[str, str]] = []
        for item in section.items:
            if rng.random() < 0.1 and item.id != "role":
                continue  # some questions left blank, as people do
            if isinstance(item, LikertItem):
                fields.append((item.id, rng.choice(list(Likert)).value))
            elif isinstance(item, RatingItem):
                fields.append((item.id, str(rng.randint(item.min, item.max))))
            elif isinstance(item, SingleItem):
                fields.append((item.id, rng.choice(item.options).id))
            elif isinstance(item, MultiItem):
                if item.none_label and rng.random() < 0.1:
                    fields.append((item.id, "none"))
                else:
                    chosen = rng.sample(item.options, rng.randint(1, item.max_choices or 3))
                    fields.extend((item.id, o.id) for o in chosen)
            elif isinstance(item, GridItem):
                fields.extend(
                    (f"{item.id}:{o.id}", rng.choice(list(GRID_VALUES))) for o in item.options
                )
            elif isinstance(item, TextItem) and rng.random() < 0.3:
                fields.append((item.id, "A comment typed by the respondent. " * 4))
        pages[section.id] = fields
    return pages


async def _respondent(base: str, token: str, seed: int, think: float, tally: Tally) -> None:
    rng = random.Random(seed)
    pages = _answers(rng)
    survey = f"{base}/s/{token}"

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(rng.expovariate(1 / think))

    if think > 0:
        # People do not all open their link in the same second: arrivals spread over the
        # first few pauses (all of them are still answering at once for most of the run).
        await asyncio.sleep(rng.uniform(0, 2 * think))
    # unsafe=True: aiohttp keeps no cookies for IP-address hosts otherwise (the CSRF cookie).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:

        async def get(url: str, kind: str) -> str:
            started = time.perf_counter()
            async with session.get(url, allow_redirects=False) as response:
                body = await response.read()
                tally.add(kind, time.perf_counter() - started)
                tally.sizes.setdefault(kind, []).append(len(body))
                if response.status != 200:
                    raise RuntimeError(f"{kind} {response.status}")
                return body.decode()

        async def post(url: str, kind: str, form: list[tuple[str, str]], html: str) -> str:
            found = CSRF.search(html)
            if not found:
                raise RuntimeError(f"{kind}: no CSRF token on the page")
            started = time.perf_counter()
            async with session.post(
                url, data=[("csrf_token", found.group(1)), *form], allow_redirects=False
            ) as response:
                await response.read()
                tally.add(kind, time.perf_counter() - started)
                if response.status != 303:
                    raise RuntimeError(f"{kind} {response.status}")
                return response.headers["location"]

        try:
            html = await get(survey, "start")
            location = f"/s/{token}/page/{next(iter(pages))}"
            for section, form in pages.items():
                if not location.endswith(f"/page/{section}"):
                    raise RuntimeError(f"expected {section}, sent to {location}")
                html = await get(f"{base}{location}", "page")
                await pause()
                location = await post(f"{base}{location}", "submit", form, html)
            html = await get(f"{base}{location}", "check")
            await pause()
            location = await post(f"{survey}/check", "send", [], html)
            await get(f"{base}{location}", "done")
            tally.completed += 1
        except (TimeoutError, RuntimeError, aiohttp.ClientError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")


async def _survey(base: str, tokens: list[str], think: float) -> tuple[float, Tally]:
    tally = Tally()
    began = time.perf_counter()
    jobs = [_respondent(base, t, i, think, tally) for i, t in enumerate(tokens)]
    try:
        await asyncio.wait_for(asyncio.gather(*jobs), timeout=DEADLINE_S)
    except TimeoutError:
        tally.errors.append(f"the survey phase did not finish within {DEADLINE_S:.0f} s")
    return time.perf_counter() - began, tally


def _stored(url: str) -> tuple[int, int, int]:
    """(responses, distinct respondent keys, completed links) in the bench wave."""
    from sqlalchemy import func, select

    from sharedground.fieldwork import anonymity
    from sharedground.store import Response, Store
    from sharedground.store.schema import Link

    store = Store(url)
    try:
        with store.session() as session:
            # The bench wave is anonymous: the last few questionnaires wait in the hold for
            # a batch (fieldwork/anonymity.py); fieldwork's end releases them, as here.
            anonymity.release(session, store.get_wave(session, "bench"), force=True)
        with store.session() as session:
            responses = session.scalar(select(func.count()).select_from(Response)) or 0
            keys = session.scalar(select(func.count(func.distinct(Response.respondent_key)))) or 0
            done = (
                session.scalar(
                    select(func.count()).select_from(Link).where(Link.completed_on.is_not(None))
                )
                or 0
            )
        return responses, keys, done
    finally:
        store.dispose()


def _phase(tally: Tally, elapsed: float) -> dict[str, Any]:
    kinds = ["start", "page", "submit", "check", "send", "done"]
    return {
        "elapsed_s": elapsed,
        "completed": tally.completed,
        "surveys_per_s": tally.completed / elapsed,
        "submits_per_s": tally.count("submit", "send") / elapsed,
        "requests": tally.count(*kinds),
        "requests_per_s": tally.count(*kinds) / elapsed,
        "submit_p50_ms": 1000 * tally.quantile(0.50, "submit", "send"),
        "submit_p99_ms": 1000 * tally.quantile(0.99, "submit", "send"),
        "view_p50_ms": 1000 * tally.quantile(0.50, "start", "page", "check", "done"),
        "view_p99_ms": 1000 * tally.quantile(0.99, "start", "page", "check", "done"),
        "errors": list(tally.errors),
    }


def _merge(into: Tally, other: Tally) -> None:
    for kind, values in other.latencies.items():
        into.latencies.setdefault(kind, []).extend(values)
    into.errors.extend(other.errors)


def measure(
    respondents: int = 200, workers: int = 2, think: float = 3.0, ceiling_seconds: float = 6.0
) -> dict[str, Any]:
    """One respondent alone (the pages' size), the peers, a saturation run (no pauses), the
    peers again, then a paced run (people's pauses)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        tokens = _prepare(url, 2 * respondents + 1)
        probe_token, tokens = tokens[0], tokens[1:]
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start_server(url, port, workers)
        try:
            asyncio.run(_wait_ready(base, server))
            # One respondent completes the survey alone first: the mean size of its section
            # pages is the static page's size.
            _elapsed, probe = asyncio.run(_survey(base, [probe_token], 0.0))
            page_sizes = probe.sizes.get("page") or [0]
            page_bytes = round(sum(page_sizes) / len(page_sizes))
            peers = {
                "healthz": (f"{base}/healthz", None),
                "static": (base + STATIC_PATH.replace("{size:int}", str(page_bytes)), page_bytes),
            }
            # The peers are measured before and after the saturated run and averaged: on a
            # shared machine the load of other processes drifts within a minute.
            # Server CPU per request does not depend on what else the machine is doing, so
            # it is printed beside the rates, which do.
            rates: dict[str, list[float]] = {kind: [] for kind in peers}
            tallies = {kind: Tally() for kind in peers}
            cpu_peer = dict.fromkeys(peers, 0.0)

            def hit_peers() -> None:
                for kind, (peer_url, size) in peers.items():
                    cpu = _cpu_seconds(server.pid)
                    rate, tally = asyncio.run(
                        _ceiling(peer_url, kind, respondents, ceiling_seconds / 2, size)
                    )
                    cpu_peer[kind] += _cpu_seconds(server.pid) - cpu
                    rates[kind].append(rate)
                    _merge(tallies[kind], tally)

            hit_peers()
            cpu = _cpu_seconds(server.pid)
            saturated = _phase(*reversed(asyncio.run(_survey(base, tokens[:respondents], 0.0))))
            cpu_survey = _cpu_seconds(server.pid) - cpu
            hit_peers()
            ceiling, static = tallies["healthz"], tallies["static"]
            before, after = rates["healthz"]
            ceiling_rate = (before + after) / 2
            static_rate = sum(rates["static"]) / 2
            paced = _phase(*reversed(asyncio.run(_survey(base, tokens[respondents:], think))))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        responses, keys, links_done = _stored(url)
    return {
        "respondents": respondents,
        "workers": workers,
        "think_s": think,
        "ceiling_per_s": ceiling_rate,
        "ceiling_before_after": (before, after),
        "static_bytes": page_bytes,
        "static_per_s": static_rate,
        "static_before_after": tuple(rates["static"]),
        "cpu_ms_per_healthz": 1000 * cpu_peer["healthz"] / max(1, ceiling.count("healthz")),
        "cpu_ms_per_static": 1000 * cpu_peer["static"] / max(1, static.count("static")),
        "cpu_ms_per_survey_request": 1000 * cpu_survey / max(1, saturated["requests"]),
        "ceiling_p50_ms": 1000 * ceiling.quantile(0.5, "healthz"),
        "ceiling_p99_ms": 1000 * ceiling.quantile(0.99, "healthz"),
        "static_p50_ms": 1000 * static.quantile(0.5, "static"),
        "static_p99_ms": 1000 * static.quantile(0.99, "static"),
        "ceiling_errors": list(ceiling.errors) + list(static.errors),
        "probe_completed": probe.completed,
        "probe_errors": list(probe.errors),
        "saturated": saturated,
        "paced": paced,
        "stored_responses": responses,
        "stored_distinct": keys,
        "links_completed": links_done,
    }


def rows(m: dict[str, Any]) -> list[dict[str, Any]]:
    sat, paced = m["saturated"], m["paced"]
    ratio = sat["requests_per_s"] / m["ceiling_per_s"] if m["ceiling_per_s"] else 0.0
    static_ratio = sat["requests_per_s"] / m["static_per_s"] if m["static_per_s"] else 0.0
    completed = sat["completed"] + paced["completed"] + m["probe_completed"]
    errors = m["ceiling_errors"] + m["probe_errors"] + sat["errors"] + paced["errors"]
    once = m["stored_responses"] == m["stored_distinct"] == m["links_completed"] == completed
    n, w = m["respondents"], m["workers"]

    def ms(p50: float, p99: float) -> str:
        return f"{p50:.1f} / {p99:.1f}"

    return [
        {
            "name": f"completed surveys/s, {n} respondents without pauses ({w} workers)",
            "value": sat["surveys_per_s"],
            "unit": "surveys/s",
        },
        {
            "name": "page submits/s, without pauses",
            "value": sat["submits_per_s"],
            "unit": "submits/s",
        },
        {
            "name": "survey requests/s vs the bare /healthz",
            "value": sat["requests_per_s"],
            "unit": "req/s",
            "peer": "/healthz (mean of before and after)",
            "peer_value": m["ceiling_per_s"],
            "ratio": ratio,
            "target": ">= 0.5",
            "met": ratio >= 0.5,
        },
        {
            "name": f"survey requests/s vs a static {m['static_bytes']:,}-byte page (bench only)",
            "value": sat["requests_per_s"],
            "unit": "req/s",
            "peer": "same app and middleware, ready-made page of a survey page's size",
            "peer_value": m["static_per_s"],
            "ratio": static_ratio,
        },
        {
            "name": "page submit p50 / p99 without pauses (queueing)",
            "value": ms(sat["submit_p50_ms"], sat["submit_p99_ms"]),
            "unit": "ms",
        },
        {
            "name": "page view p50 / p99 without pauses",
            "value": ms(sat["view_p50_ms"], sat["view_p99_ms"]),
            "unit": "ms",
        },
        {
            "name": f"page submit p50, {n} respondents pausing {m['think_s']} s on average",
            "value": paced["submit_p50_ms"],
            "unit": "ms",
        },
        {
            "name": "page submit p99, pausing",
            "value": paced["submit_p99_ms"],
            "unit": "ms",
            "target": "< 100",
            "met": paced["submit_p99_ms"] < 100,
        },
        {
            "name": "page view p50 / p99, pausing",
            "value": ms(paced["view_p50_ms"], paced["view_p99_ms"]),
            "unit": "ms",
        },
        {
            "name": "server CPU per request: survey / static page / bare /healthz",
            "value": "{:.3f} / {:.3f} / {:.3f}".format(
                m["cpu_ms_per_survey_request"], m["cpu_ms_per_static"], m["cpu_ms_per_healthz"]
            ),
            "unit": "ms",
        },
        {
            "name": "/healthz req/s before / after the saturated run",
            "value": "{:,.0f} / {:,.0f}".format(*m["ceiling_before_after"]),
            "unit": "req/s",
        },
        {
            "name": "/healthz p50 / p99",
            "value": ms(m["ceiling_p50_ms"], m["ceiling_p99_ms"]),
            "unit": "ms",
        },
        {
            "name": "static page req/s before / after the saturated run",
            "value": "{:,.0f} / {:,.0f}".format(*m["static_before_after"]),
            "unit": "req/s",
        },
        {
            "name": "static page p50 / p99",
            "value": ms(m["static_p50_ms"], m["static_p99_ms"]),
            "unit": "ms",
        },
        {
            "name": "errors (both runs, the first respondent and the peers)",
            "value": len(errors),
            "unit": "",
            "target": "0",
            "met": not errors,
            "examples": "; ".join(errors[:3]),
        },
        {
            "name": "every completed survey stored exactly once",
            "value": f"{m['stored_responses']} stored, {completed} completed",
            "unit": "",
            "target": f"{2 * n + 1} once each",
            "met": once and completed == 2 * n + 1,
        },
    ]


def run() -> list[dict[str, Any]]:
    return rows(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="mean pause (s) before each submit in the paced run",
    )
    parser.add_argument(
        "--ceiling-seconds",
        type=float,
        default=6.0,
        help="time on each peer (/healthz, static page), half before and half after the "
        "saturated run",
    )
    args = parser.parse_args()
    measured = measure(args.respondents, args.workers, args.think, args.ceiling_seconds)
    for row in rows(measured):
        value = row["value"]
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        extra = ""
        if "peer_value" in row:
            extra = f"  (peer {row['peer']}: {row['peer_value']:,.0f}, ratio {row['ratio']:.2f})"
        if "met" in row:
            extra += f"  target {row['target']}: {'met' if row['met'] else 'NOT MET'}"
        if row.get("examples"):
            extra += f"  e.g. {row['examples']}"
        print(f"{row['name']:<66} {shown:>16} {row['unit']}{extra}")


if __name__ == "__main__":
    main()
