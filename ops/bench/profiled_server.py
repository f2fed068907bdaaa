"""The gateway's uvicorn worker under a profiler, for ops.bench.profile.

Starts what `oaas serve` starts (the same factory and uvicorn options, one
worker, the database already migrated) with a profiler on, and at shutdown
(SIGTERM) writes what it found and the garbage collector's pauses:

    python -m ops.bench.profiled_server OUT PORT sample|cprofile

`sample` (ops.bench.sampler) tells where the loop's time goes; `cprofile`
counts calls exactly (SQL statements, thread hops per request) but its
times are no guide for coroutines and its overhead inflates small calls.
"""

from __future__ import annotations

import cProfile
import gc
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from oaas.auth.keys import ensure_key_file
from oaas.settings import Settings
from ops.bench.sampler import StackSampler


def _gc_timer() -> tuple[dict[str, Any], Any]:
    """A gc callback summing the pause of each collection, by generation."""
    figures: dict[str, Any] = {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "max": 0.0}
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        pause = time.perf_counter() - started[0]
        generation = info["generation"]
        figures["collections"][generation] += 1
        figures["seconds"][generation] += pause
        figures["max"] = max(figures["max"], pause)

    return figures, callback


def main() -> None:
    out, port, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    # As `oaas serve` does before it starts uvicorn (the schema is migrated already).
    ensure_key_file(Settings().resolved_signing_key_file())
    gc_figures, callback = _gc_timer()
    gc.callbacks.append(callback)
    # uvicorn shuts down gracefully on SIGTERM, then restores the handler it found
    # and raises the signal again: this one turns it into an exit that runs `finally`.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    profiler = cProfile.Profile()
    sampler = StackSampler()
    if mode == "cprofile":
        profiler.enable()
    else:
        # The sampler needs the GIL to look. At the default switch interval (5 ms)
        # it mostly gets it when the loop thread lets go for a system call, and
        # would charge those calls (uuid4's urandom, stat) with the wait; a short
        # interval makes it look at arbitrary points instead.
        sys.setswitchinterval(0.0002)
        sampler.start()

    def reset(_signum: int, _frame: object) -> None:
        # SIGUSR1 from ops.bench.profile when the load starts: start-up is not the subject.
        profiler.clear()
        sampler.reset()
        gc_figures.update(collections=[0, 0, 0], seconds=[0.0, 0.0, 0.0], max=0.0)

    signal.signal(signal.SIGUSR1, reset)
    try:
        uvicorn.run(
            "oaas.app:app_from_environment",
            factory=True,
            host="127.0.0.1",
            port=port,
            workers=1,
            log_config=None,
            access_log=False,
        )
    finally:
        if mode == "cprofile":
            profiler.disable()
            profiler.dump_stats(out)
        else:
            sampler.stop()
            out.write_text(json.dumps(sampler.figures()))
        out.with_suffix(".gc.json").write_text(json.dumps(gc_figures))


if __name__ == "__main__":
    main()
