"""The load client: a lean HTTP/1.1 keep-alive client in its own process.

httpx spends more CPU per request than a bare Starlette server does (it capped
baseline (a) at ~776 req/s), so this client writes pre-encoded request bytes
on raw asyncio streams, reads the head up to the blank line and then exactly
Content-Length bytes, and looks for errors with a byte search instead of
parsing JSON. It runs as `python -m ops.bench.load SPEC.json OUT.json` and
writes one JSON object: counts, the raw latencies and errors
(ops.bench.measure makes the figures); `run()` is the orchestrator's side.

Two modes:
- closed loop (`rate` null): each connection sends its next request as soon as
  the previous answer is in; gives peak throughput.
- open loop (`rate` in requests/s): requests are scheduled at a fixed rate
  whatever the server does, and latency counts from the scheduled time, so a
  stalled server shows in the tail instead of slowing the client down
  (no coordinated omission).

A spec is JSON: {"host", "port", "path", "connections", "seconds", "warmup",
"rate", "interval", "lanes": [{"headers", "bodies", "mode", "key_prefix"}]}.
A lane is one caller (its headers, e.g. a merchant's token) and its bodies:
mode "cycle" repeats them, "once" sends each once (a supply of orders to
cancel) and "unique" fills each request's own key into the one body template.
Closed loop: connection i uses lane i % len(lanes); open loop takes lanes in turn.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.bench.operations import KEY_PLACEHOLDER

REPO = Path(__file__).resolve().parents[2]
ERROR_SAMPLES = 5
# Bodies that carry a failure even with status 200: GraphQL errors, or a mutation's userErrors.
_ERROR_MARKS = (b'"errors":', b'"errors": ', b'"userErrors":[{', b'"userErrors": [{')


class Lane:
    """One caller's requests, pre-encoded down to the Content-Length header."""

    def __init__(self, spec: dict[str, Any], host: str, path: str) -> None:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{spec.get('headers', '')}"
        ).encode()
        self.mode: str = spec.get("mode", "cycle")
        bodies = [body.encode() for body in spec["bodies"]]
        self._head = head
        self._index = 0
        if self.mode == "unique":
            self._parts = bodies[0].split(KEY_PLACEHOLDER.encode())
            self._key_prefix: bytes = str(spec["key_prefix"]).encode()
            self._requests: list[bytes] = []
        else:
            self._requests = [self._frame(body) for body in bodies]

    def _frame(self, body: bytes) -> bytes:
        return b"%sContent-Length: %d\r\n\r\n%s" % (self._head, len(body), body)

    def next(self) -> bytes | None:
        """The next request, or None when a "once" lane has sent all of its bodies."""
        index = self._index
        self._index += 1
        if self.mode == "unique":
            key = b"%s-%d" % (self._key_prefix, index)
            return self._frame(key.join(self._parts))
        if self.mode == "once":
            return self._requests[index] if index < len(self._requests) else None
        return self._requests[index % len(self._requests)]


@dataclass
class Recorder:
    """Latencies and errors of the requests that started inside the measured window."""

    measure_from: float
    interval: float
    stop: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    completed: int = 0  # warm-up included: what the server did while it was watched
    # Throughput counts answers that came in inside the window: dividing all the
    # requests started in it by the time the last one took to come back would
    # undercount servers whose answers take long.
    in_window: int = 0
    last_done: float = 0.0
    samples: list[str] = field(default_factory=list)
    # Per interval of the window: [requests, errors, worst latency in ms].
    buckets: dict[int, list[float]] = field(default_factory=dict)

    def record(self, started: float, done: float, error: str | None) -> None:
        self.completed += 1
        if self.measure_from <= done <= self.stop:
            self.in_window += 1
            self.last_done = max(self.last_done, done)
        if started < self.measure_from:
            return  # warm-up
        ms = (done - started) * 1000
        self.latencies.append(ms)
        bucket = self.buckets.setdefault(
            int((started - self.measure_from) / self.interval), [0, 0, 0.0]
        )
        bucket[0] += 1
        bucket[2] = max(bucket[2], ms)
        if error is not None:
            self.errors += 1
            bucket[1] += 1
            if len(self.samples) < ERROR_SAMPLES:
                self.samples.append(error[:300])


def _content_length(head: bytes) -> int | None:
    at = head.find(b"content-length:")
    if at < 0:
        at = head.lower().find(b"content-length:")
        if at < 0:
            return None
    end = head.find(b"\r\n", at)
    return int(head[at + 15 : end])


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Connection:
    # Reconnections after the server closed an idle keep-alive connection
    # (uvicorn does after 5 s): not errors, but counted.
    stale_reconnects = 0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> str | None:
        """Sends one request and reads its answer: None if it succeeded, else why not."""
        reused = self.writer is not None
        try:
            head, body = await self._send(request)
        except asyncio.IncompleteReadError as exc:
            self.close()
            if not (reused and not exc.partial):
                return f"connection: IncompleteReadError: {exc}"
            # Nothing came back on a connection that sat idle: the server had
            # closed it. Any HTTP client sends again on a new one.
            Connection.stale_reconnects += 1
            try:
                head, body = await self._send(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as again:
                self.close()
                return f"connection: {type(again).__name__}: {again}"
        except (OSError, asyncio.LimitOverrunError) as exc:
            self.close()
            return f"connection: {type(exc).__name__}: {exc}"
        if b"\r\nconnection: close" in head.lower():
            self.close()
        status = head[9:12]
        if status != b"200":
            return f"HTTP {status.decode()}: {body[:200].decode(errors='replace')}"
        for mark in _ERROR_MARKS:
            if mark in body:
                return f"200 with {mark.decode()} {body[:250].decode(errors='replace')}"
        return None

    async def _send(self, request: bytes) -> tuple[bytes, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _content_length(head)
        if length is None:
            return head, await _read_chunked(self.reader)
        return head, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _closed_loop(
    spec: dict[str, Any], lanes: list[Lane], recorder: Recorder, stop: float
) -> bool:
    exhausted = False

    async def worker(index: int) -> None:
        nonlocal exhausted
        lane = lanes[index % len(lanes)]
        connection = Connection(spec["host"], spec["port"])
        try:
            while (started := time.perf_counter()) < stop:
                request = lane.next()
                if request is None:
                    exhausted = True
                    return
                error = await connection.exchange(request)
                recorder.record(started, time.perf_counter(), error)
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(spec["connections"])))
    return exhausted


async def _open_loop(
    spec: dict[str, Any], lanes: list[Lane], recorder: Recorder, stop: float, began: float
) -> bool:
    rate = float(spec["rate"])
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    exhausted = False

    async def producer() -> None:
        nonlocal exhausted
        sent = 0
        while (now := time.perf_counter()) < stop:
            due = int((now - began) * rate) + 1
            while sent < due:
                request = lanes[sent % len(lanes)].next()
                if request is None:
                    exhausted = True
                    return
                queue.put_nowait((began + sent / rate, request))
                sent += 1
            await asyncio.sleep(max(0.0, began + sent / rate - time.perf_counter()))

    async def worker() -> None:
        connection = Connection(spec["host"], spec["port"])
        try:
            while (item := await queue.get()) is not None:
                scheduled, request = item
                error = await connection.exchange(request)
                recorder.record(scheduled, time.perf_counter(), error)
        finally:
            connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(spec["connections"])]
    await producer()
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return exhausted


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    lanes = [Lane(lane, spec["host"], spec.get("path", "/graphql")) for lane in spec["lanes"]]
    began = time.perf_counter()
    measure_from = began + spec.get("warmup", 0.0)
    stop = measure_from + spec["seconds"]
    recorder = Recorder(measure_from=measure_from, interval=spec.get("interval", 10.0), stop=stop)
    if spec.get("rate"):
        exhausted = await _open_loop(spec, lanes, recorder, stop, began)
    else:
        exhausted = await _closed_loop(spec, lanes, recorder, stop)
    # A supply used up ends the window early.
    window_end = min(stop, recorder.last_done) if exhausted else stop
    elapsed = max(1e-9, window_end - recorder.measure_from)
    return {
        "requests": len(recorder.latencies),
        "answered": recorder.in_window,
        "errors": recorder.errors,
        "completed_with_warmup": recorder.completed,
        "error_samples": recorder.samples,
        "seconds": elapsed,
        "rps": recorder.in_window / elapsed,
        "rate": spec.get("rate"),
        "connections": spec["connections"],
        "exhausted": exhausted,
        "stale_reconnects": Connection.stale_reconnects,
        "latencies": recorder.latencies,  # ms, of the requests started in the window
        "intervals": [
            {"second": k * recorder.interval, "requests": v[0], "errors": v[1], "max_ms": v[2]}
            for k, v in sorted(recorder.buckets.items())
        ],
    }


def run(
    spec: dict[str, Any], *, on_wait: Callable[[], None] | None = None, poll: float = 5.0
) -> dict[str, Any]:
    """Runs the client in its own process and answers its figures.

    `on_wait`, if given, is called every `poll` seconds while the load runs
    (the soak samples the server's memory with it). The figures come back in
    a file: the raw latencies make them large for a pipe read in rounds.
    """
    with tempfile.TemporaryDirectory(prefix="oaas-load-") as tmp:
        folder = Path(tmp)
        (folder / "spec.json").write_text(json.dumps(spec))
        with (folder / "stderr").open("wb") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ops.bench.load",
                    str(folder / "spec.json"),
                    str(folder / "out.json"),
                ],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            while True:
                try:
                    process.wait(timeout=poll)
                    break
                except subprocess.TimeoutExpired:
                    if on_wait is not None:
                        on_wait()
        if process.returncode != 0:
            raise RuntimeError(f"load client failed:\n{(folder / 'stderr').read_text()}")
        result: dict[str, Any] = json.loads((folder / "out.json").read_text())
        return result


def main() -> None:
    spec, out = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    # The client's own collector pauses would show up as server latency.
    gc.disable()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(drive(spec))
    else:
        result = uvloop.run(drive(spec))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
