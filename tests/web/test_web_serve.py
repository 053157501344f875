"""`sharedground serve` as a respondent's server: a real process, its log, its shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
from webhelpers import Survey, csrf_of, free_port, parse


def test_serve_answers_and_logs_no_tokens(survey: Survey, tmp_path: Path) -> None:
    token = survey.link()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "SHAREDGROUND_SECRET_KEY": "serve-test"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sharedground",
                "serve",
                "--port",
                str(port),
                "--database",
                survey.store.url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            with httpx2.Client(base_url=base) as http:
                while True:
                    try:
                        if http.get("/healthz").status_code == 200:
                            break
                    except httpx2.TransportError:
                        pass
                    assert time.monotonic() < deadline, log.read_text()
                    assert process.poll() is None, log.read_text()
                    time.sleep(0.1)
                page = http.get(f"/s/{token}/page/overall")
                assert page.status_code == 200
                assert "server" not in page.headers
                saved = http.post(
                    f"/s/{token}/page/overall",
                    data={"csrf_token": csrf_of(parse(page.text)), "comments_overall": "quietly"},
                )
                assert saved.status_code == 303
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
    text = log.read_text()
    assert "GET /s/<token>/page/overall" in text
    assert "POST /s/<token>/page/overall" in text
    assert token not in text
    assert "quietly" not in text
