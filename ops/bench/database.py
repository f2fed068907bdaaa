"""The benchmark's database: made fresh, migrated, given the tenants, dropped after.

SQLite lives in the run's work folder; on PostgreSQL each run makes its own
database (`oaas_bench_<random>`) on the given server and drops it at the end,
so runs never share rows with each other or with the tests.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg  # type: ignore[import-untyped]  # ships no type hints
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = (REPO / "tenants" / "demo.yaml", Path(__file__).with_name("tenants.yaml"))
BENCH_SECRET = "bench-only-secret"


@dataclass(frozen=True)
class BenchDatabase:
    kind: Literal["sqlite", "postgres"]
    url: str  # for the gateway: sqlite+aiosqlite:// or postgresql+asyncpg://
    raw_url: str  # for the raw drivers: sqlite:///path or postgresql://
    workdir: Path
    server_url: str | None = None  # PostgreSQL: where to drop it from
    name: str | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process of the run: the inherited one less any OAAS_*."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAAS_")}
        env.update(
            OAAS_DATABASE_URL=self.url,
            OAAS_SIGNING_KEY_FILE=str(self.workdir / "keys.json"),
            OAAS_LOG_LEVEL="WARNING",
            OAAS_BENCH_DATABASE_URL=self.raw_url,
            # This checkout's oaas before the one the virtualenv points to: a copy of
            # the tree (e.g. `git archive` of a commit) measures its own code.
            PYTHONPATH=os.pathsep.join(
                filter(None, (str(REPO / "platform"), str(REPO), env.get("PYTHONPATH")))
            ),
        )
        env.update(extra)
        return env


def _plain(url: str) -> str:
    """A SQLAlchemy asyncpg URL as asyncpg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def ping(postgres_url: str) -> None:
    server = await asyncpg.connect(_plain(postgres_url), timeout=5)
    await server.close()


async def create(workdir: Path, postgres_url: str | None, *, suffix: str = "") -> BenchDatabase:
    if postgres_url is None:
        path = workdir / f"bench{suffix}.db"
        return BenchDatabase(
            kind="sqlite",
            url=f"sqlite+aiosqlite:///{path}",
            raw_url=f"sqlite:///{path}",
            workdir=workdir,
        )
    name = f"oaas_bench_{secrets.token_hex(4)}{suffix}"
    server = await asyncpg.connect(_plain(postgres_url))
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    return BenchDatabase(
        kind="postgres",
        url=url,
        raw_url=_plain(url),
        workdir=workdir,
        server_url=postgres_url,
        name=name,
    )


async def drop(database: BenchDatabase) -> None:
    if database.kind != "postgres" or database.server_url is None:
        return  # SQLite goes with the work folder
    server = await asyncpg.connect(_plain(database.server_url))
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await server.close()


def prepare(database: BenchDatabase) -> None:
    """Migrates and applies the demo and bench manifests, through the real CLI."""
    env = database.env()
    for argv in (
        ["db", "upgrade"],
        ["tenants", "apply", *(str(m) for m in MANIFESTS)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "oaas", *argv],
            env=env,
            cwd=database.workdir,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"oaas {' '.join(argv)} failed:\n{done.stderr}")
