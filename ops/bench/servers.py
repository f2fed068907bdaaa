"""Server processes: the gateway (`oaas serve`) and the baselines, one uvicorn each.

Every server runs in its own process with uvicorn's defaults (uvloop,
httptools), on a free port, with its output in a log file of the work folder
that is shown if it fails to start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ops.bench.database import BENCH_SECRET, BenchDatabase
from ops.bench.seed import Merchant

START_TIMEOUT_SECONDS = 90
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each process still alive (/proc/<pid>/stat)."""
    found = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces; fields follow it
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


def postgres_backends(database: str) -> list[int]:
    """The server processes serving one database, found by their titles ("postgres: user db ...").

    On a shared machine this counts only the benchmark's own connections,
    which the machine-wide load would not.
    """
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            pids.append(int(cmdline.parent.name))
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    otlp_sink: Server | None = None  # where a tracing-on gateway exports its spans

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's children with --workers N > 1, else itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            pids = []
        # multiprocessing's helper, if one was started, serves nothing.
        pids = [p for p in pids if b"resource_tracker" not in _cmdline(p)]
        return pids or [self.process.pid]

    def rss_kib(self) -> int:
        """Resident memory of the serving processes (VmRSS), summed."""
        total = 0
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running(
    name: str, argv: list[str], database: BenchDatabase, port: int, **env: str
) -> Iterator[Server]:
    log = database.workdir / f"{name.replace(' ', '-')}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            env=database.env(**env),
            cwd=database.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(name=name, process=process, port=port, log=log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def gateway_argv(port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "oaas", "serve", "--port", str(port), "--workers", str(workers)]


@contextmanager
def gateway(
    database: BenchDatabase,
    *,
    tracing: bool,
    workers: int = 1,
    argv: Callable[[int], list[str]] | None = None,
    export_ratio: float | None = None,
) -> Iterator[Server]:
    """`oaas serve`, as shipped (or `argv(port)`); tracing (OAAS_TRACING) on or off.

    With tracing on, the gateway exports spans to a local OTLP sink of its own, as
    a deployment exports to its collector: "tracing on" includes export, sampled
    as shipped unless `export_ratio` (OAAS_TRACE_EXPORT_RATIO) says otherwise.
    """
    with ExitStack() as stack:
        env = {"OAAS_TRACING": "true" if tracing else "false"}
        sink = None
        if tracing:
            sink = stack.enter_context(
                baseline(database, "otlp sink", "ops.bench.baselines.otlp_sink:app")
            )
            env["OAAS_OTLP_ENDPOINT"] = sink.base
        ratio = ""
        if export_ratio is not None:
            env["OAAS_TRACE_EXPORT_RATIO"] = str(export_ratio)
            ratio = f" export {export_ratio:g}"
        port = free_port()
        server = stack.enter_context(
            running(
                f"gateway tracing {'on' if tracing else 'off'}{ratio} x{workers}",
                argv(port) if argv is not None else gateway_argv(port, workers),
                database,
                port,
                OAAS_ISSUER=f"http://127.0.0.1:{port}",  # tokens name this gateway as their audience
                **env,
            )
        )
        server.otlp_sink = sink
        yield server


def exported_spans(server: Server) -> int | None:
    """Spans the gateway's OTLP sink has received so far; None without a sink."""
    if server.otlp_sink is None:
        return None
    answer = httpx.get(f"{server.otlp_sink.base}/count", timeout=10)
    spans: int = answer.raise_for_status().json()["spans"]
    return spans


@contextmanager
def baseline(
    database: BenchDatabase, name: str, app: str, *, factory: bool = False
) -> Iterator[Server]:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        argv.append("--factory")
    with running(name, argv, database, port) as server:
        yield server


def tokens(server: Server, merchants: list[Merchant]) -> dict[str, str]:
    """An access token per bench merchant, from the gateway's own token endpoint."""
    found = {}
    with httpx.Client(base_url=server.base, timeout=30) as http:
        for merchant in merchants:
            response = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(merchant.client_id, BENCH_SECRET),
            )
            response.raise_for_status()
            found[merchant.handle] = str(response.json()["access_token"])
    return found
