"""Benchmark: fieldwork at national scale: 10,000 invitations and 1,000 printed packs.

1. A real SMTP server (aiosmtpd, in its own process on loopback) counts every message it
   accepts. `send_due` sends the invitations of a wave of 10,000 contacts (each message
   recorded before and after its SMTP transaction, as in production), then the server's
   counts must show every contact exactly once. Peer: bare `smtplib` sending one prebuilt
   message over one connection to the same server, no database and no templates: the
   ceiling of this server and client.
2. 1,000 postal packs (letter and questionnaire, serial and QR code on every page) printed
   into one PDF each plus the merged mailing-house file. Peer: the direct way, laying out
   each person's whole pack with WeasyPrint, timed on a few packs and scaled to 1,000.

Targets (issue 5): at least 200 messages per second; 1,000 questionnaires in under 2
minutes. Everything is bounded in count and time and stops by itself.

    .venv/bin/python bench/bench_fieldwork.py
    .venv/bin/python bench/bench_fieldwork.py --contacts 2000 --packs 200
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROLES = ("chief_executive", "medical_director", "clinical_director", "directorate_manager")
SERVER = r"""
import json, signal, sys, threading, collections
from aiosmtpd.controller import Controller
counts = collections.Counter()
lock = threading.Lock()
class Handler:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            for r in envelope.rcpt_tos:
                counts[r] += 1
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
print("ready", flush=True)
done.wait(900)
controller.stop()
with open(sys.argv[2], "w") as f:
    json.dump(counts, f)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """The counting SMTP server in a subprocess."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.counts_file = folder / f"counts-{self.port}.json"
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port), str(self.counts_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return dict(json.loads(self.counts_file.read_text()))


def _write_contacts(path: Path, n: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "postal_address", "role", "trust", "directorate"])
        for i in range(n):
            writer.writerow(
                [
                    f"Person {i}",
                    f"person{i}@example.org",
                    f"{i} High Street\nTown\nAB{i % 10} 1CD",
                    ROLES[i % 4],
                    f"T{i % 150:03d}",
                    "",
                ]
            )


def _bare_smtplib(port: int, n: int) -> float:
    """Messages per second of plain smtplib on one connection: the server's ceiling."""
    from sharedground.fieldwork.mail import Letter, Sender, Templates, build_message

    message = build_message(
        Templates(),
        Letter("invitation", "peer@example.org", "Peer", "X" * 32),
        sender=Sender("survey@example.org"),
        base_url="https://survey.example.org",
        title="Survey",
        wave="bench",
        closes=None,
        anonymous=False,
        message_id="<peer@example.org>",
    )
    data = message.data
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        started = time.perf_counter()
        for _ in range(n):
            smtp.sendmail("survey@example.org", ["peer@example.org"], data)
        return n / (time.perf_counter() - started)


def _naive_pack_seconds(store: Any, wave: str, sample: int = 3) -> float:
    """Seconds per pack when each person's whole pack is laid out by WeasyPrint."""
    from weasyprint import HTML

    from sharedground.fieldwork.printing import _environment, blocks
    from sharedground.instrument import loads
    from sharedground.store import Wave

    with store.session() as session:
        wave_row = session.query(Wave).filter(Wave.name == wave).one()
        instrument = loads(wave_row.instrument.definition)
    env = _environment(None)
    context = {
        "title": instrument.title,
        "today": "1 March 2027",
        "letter_intro": "x",
        "sender_name": "The survey team",
        "anonymous": False,
    }
    html = env.get_template("questionnaire.html").render(sections=blocks(instrument), **context)
    started = time.perf_counter()
    for _ in range(sample):
        HTML(string=html).write_pdf()
    return (time.perf_counter() - started) / sample


def measure(contacts: int = 10_000, packs: int = 1_000) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    from sharedground.fieldwork.contacts import import_contacts
    from sharedground.fieldwork.mail import Sender, Templates
    from sharedground.fieldwork.personal import Sealer
    from sharedground.fieldwork.postal import draw_sample
    from sharedground.fieldwork.printing import print_packs
    from sharedground.fieldwork.sending import Mailer, send_due
    from sharedground.fieldwork.smtp import SmtpSettings, SmtpTransport
    from sharedground.instrument import builtin
    from sharedground.store import Store

    results: dict[str, Any] = {"contacts": contacts, "packs": packs}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'bench.db'}")
        store.init()
        with store.session() as session:
            store.create_wave(session, "bench", builtin("dmr-2015"), opens=dt.date.today())
        _write_contacts(folder / "contacts.csv", contacts)
        started = time.perf_counter()
        import_contacts(store, folder / "contacts.csv", "bench")
        results["import_s"] = time.perf_counter() - started

        server = _Server(folder)
        try:
            results["peer_msgs_per_s"] = _bare_smtplib(server.port, min(2_000, contacts))
            transport = SmtpTransport(SmtpSettings("127.0.0.1", server.port, starttls=False))
            mailer = Mailer(
                transport,
                Sender("Survey team <survey@example.org>"),
                "https://survey.example.org",
                Templates(),
                Sealer(Fernet.generate_key()),
            )
            started = time.perf_counter()
            report = send_due(store, "bench", mailer)
            elapsed = time.perf_counter() - started
            transport.close()
        finally:
            counts = server.stop()
        counts.pop("peer@example.org", None)
        results["sent"] = report.sent
        results["msgs_per_s"] = report.sent / elapsed
        expected = {f"person{i}@example.org" for i in range(contacts)}
        results["exactly_once"] = set(counts) == expected and set(counts.values()) == {1}

        fraction = min(1.0, packs / contacts)
        draw_sample(store, "bench", dict.fromkeys(ROLES, fraction), seed=2015)
        started = time.perf_counter()
        summary = print_packs(
            store, "bench", folder / "packs", base_url="https://survey.example.org"
        )
        results["print_s"] = time.perf_counter() - started
        results["printed"] = summary.people
        results["merged_mb"] = summary.merged.stat().st_size / 1e6
        results["naive_pack_s"] = _naive_pack_seconds(store, "bench")
        store.dispose()
    return results


def rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    per_1000 = r["print_s"] * 1000 / max(r["printed"], 1)
    naive_1000 = r["naive_pack_s"] * 1000
    return [
        {
            "name": f"invitations sent to {r['contacts']:,} contacts (recorded before and after)",
            "value": round(r["msgs_per_s"], 1),
            "unit": "messages/s",
            "peer": "bare smtplib, one prebuilt message, no database",
            "peer_value": round(r["peer_msgs_per_s"], 1),
            "ratio": round(r["msgs_per_s"] / r["peer_msgs_per_s"], 2),
            "target": ">= 200",
            "met": r["msgs_per_s"] >= 200,
        },
        {
            "name": "every contact received exactly one invitation",
            "value": r["exactly_once"],
            "unit": "",
            "target": "yes",
            "met": bool(r["exactly_once"]),
        },
        {
            "name": f"{r['printed']:,} postal packs printed (one PDF each + merged)",
            "value": round(per_1000, 1),
            "unit": "s per 1,000",
            "peer": "each pack laid out whole by WeasyPrint",
            "peer_value": round(naive_1000, 0),
            "ratio": round(per_1000 / naive_1000, 3),
            "target": "< 120",
            "met": per_1000 < 120,
        },
        {
            "name": "merged mailing-house PDF",
            "value": round(r["merged_mb"], 1),
            "unit": "MB",
        },
        {
            "name": f"contacts import ({r['contacts']:,} rows, checked whole)",
            "value": round(r["import_s"], 2),
            "unit": "s",
        },
    ]


def run() -> list[dict[str, Any]]:
    return rows(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--packs", type=int, default=1_000)
    args = parser.parse_args()
    for row in rows(measure(args.contacts, args.packs)):
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
