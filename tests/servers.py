"""A real `oaas serve` in a subprocess, for tests that need worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import database_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(
    database_url: str, workdir: Path, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Starts the gateway on a free port, waits until it is ready, yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {
        **os.environ,
        **{f"OAAS_{name.upper()}": url for name, url in database_settings(database_url).items()},
        "OAAS_ISSUER": base,
        "OAAS_SIGNING_KEY_FILE": str(workdir / "keys.json"),
        "OAAS_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "oaas", "serve", "--port", str(port), "--workers", str(workers)],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        try:
            # Generous: two workers importing everything on a busy two-core machine.
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "not ready: " + log_path.read_text()
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)
