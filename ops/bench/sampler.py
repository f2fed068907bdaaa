"""A stack sampler for the event loop's thread: what cProfile cannot tell of async code.

cProfile sees a coroutine's every resumption as a new call and mixes up the
times of interleaved coroutines (its cumulative times add up to many times
the wall clock), so its shares are no guide to where an asyncio server's time
goes. This thread looks at the loop thread's stack every `interval` seconds
instead and adds, per function, the time it was on the stack (inclusive) and
on top (own). A sample stands for the time since the previous one: the
sampler needs the GIL to look, so ops.bench.profiled_server shortens the
switch interval for it. A sample whose top frame is the event loop itself is
idle, and so is C code the loop runs without a Python frame (uvloop,
httptools and asyncpg's protocol parsing): each thread's CPU time, from
/proc, is the total to read the shares against. py-spy does all this from
outside without the GIL; it is not a dependency.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

# Where the loop thread sits when it waits for I/O: uvloop's loop is C code, so
# the innermost Python frame is asyncio.run's (or the stdlib selector's).
_IDLE = (("asyncio/runners.py", "run"), ("selectors.py", "select"))
_TICKS = 100  # /proc times are in clock ticks (SC_CLK_TCK, 100 on Linux)


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of each live thread of this process: thread id -> (name, seconds)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    found = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        tid = int(task.name)
        # "Thread-3 (_connection_worker_thread)" and the like: one name per kind.
        name = names.get(tid, "other").split(" ")[0].split("-")[0]
        found[tid] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return found


def _key(frame: FrameType) -> str:
    code = frame.f_code
    return f"{code.co_filename}:{code.co_firstlineno}({code.co_name})"


class StackSampler:
    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.target = threading.get_ident()  # the thread that builds it runs the loop
        self.inclusive: dict[str, float] = defaultdict(float)  # seconds
        self.own: dict[str, float] = defaultdict(float)
        self.samples = 0
        self.idle = 0.0
        # Thread id -> (name, CPU seconds): at reset, and the latest seen (threads end
        # before the figures are asked for: aiosqlite's close with the engine).
        self.cpu_at_start: dict[int, tuple[str, float]] = {}
        self.cpu_latest: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self.started = 0.0
        self.elapsed = 0.0

    def start(self) -> None:
        self.reset()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.elapsed = time.perf_counter() - self.started
        # A last read from here: the sampler's own reads lag when the loop thread
        # holds the GIL in C code (uvloop, asyncpg) and starves it.
        self.cpu_latest.update(thread_cpu())

    def reset(self) -> None:
        self.inclusive.clear()
        self.own.clear()
        self.samples, self.idle = 0, 0.0
        self.cpu_at_start = thread_cpu()
        self.cpu_latest = dict(self.cpu_at_start)
        self.started = time.perf_counter()

    def _run(self) -> None:
        last = cpu_read = time.perf_counter()
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self.target)
            now = time.perf_counter()
            if frame is not None:
                self._sample(frame, now - last)
            last = now
            if now - cpu_read > 0.5:
                self.cpu_latest.update(thread_cpu())
                cpu_read = now

    def _sample(self, frame: FrameType, weight: float) -> None:
        self.samples += 1
        code = frame.f_code
        if any(code.co_filename.endswith(f) and code.co_name == n for f, n in _IDLE):
            self.idle += weight
            return
        self.own[_key(frame)] += weight
        seen = set()
        current: FrameType | None = frame
        while current is not None:
            key = _key(current)
            if key not in seen:  # recursion counts once per sample
                seen.add(key)
                self.inclusive[key] += weight
            current = current.f_back

    def figures(self) -> dict[str, Any]:
        cpu: dict[str, float] = defaultdict(float)
        for tid, (name, seconds) in self.cpu_latest.items():
            cpu[name] += seconds - self.cpu_at_start.get(tid, (name, 0.0))[1]

        def top(table: dict[str, float]) -> dict[str, float]:
            return dict(sorted(table.items(), key=lambda kv: -kv[1])[:400])

        return {
            "interval": self.interval,
            "elapsed": self.elapsed,
            "samples": self.samples,
            "idle": self.idle,
            "inclusive": top(self.inclusive),
            "own": top(self.own),
            "thread_cpu": dict(cpu),
        }
