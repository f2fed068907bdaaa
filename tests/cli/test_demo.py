"""`oaas demo` serves the demo tenants and the curl lines it prints work as printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import free_port


def _printed_commands(text: str) -> list[str]:
    """The indented shell commands of the instructions, continuation lines joined."""
    commands: list[str] = []
    current = ""
    for line in text.splitlines():
        if not line.startswith("  "):
            continue
        current += line.strip().removesuffix("\\")
        if not line.rstrip().endswith("\\"):
            commands.append(current)
            current = ""
    return commands


def test_demo_prints_curl_lines_that_work(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAAS_")}
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "oaas", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
            output = log_path.read_text()
            commands = _printed_commands(output)
            assert len(commands) == 4, output
            token_line, create_line, list_line, report_line = commands
            script = "\n".join(
                [
                    token_line,
                    'echo "$TOKEN" | cut -c1-3',
                    create_line,
                    "echo",
                    create_line,
                    "echo",
                    list_line,
                ]
            )
            result = subprocess.run(
                ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=True
            )
            operator = _operator_commands(tmp_path, env, report_line)
        finally:
            process.terminate()
            process.wait(timeout=20)
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "eyJ"  # a JWT
    first, second, listed = (json.loads(line) for line in lines[1:4])
    assert first["data"]["createOrder"]["userErrors"] == []
    order = first["data"]["createOrder"]["order"]
    assert re.fullmatch(r"ACME-\d+", order["number"])
    assert second["data"]["createOrder"]["order"] == order  # the idempotency key held
    edges = listed["data"]["orders"]["edges"]
    assert [e["node"]["number"] for e in edges] == [order["number"]]
    assert (tmp_path / ".oaas-demo" / "oaas.db").is_file()
    report, bare = operator
    assert report.returncode == 0, report.stderr
    assert "acme" in report.stdout, report.stdout
    # Without the setting, in the demo's folder: one line naming the demo's database,
    # and no empty database left behind.
    assert bare.returncode == 2, bare
    assert bare.stdout == ""
    [line] = bare.stderr.splitlines()
    assert line.startswith("no database at oaas.db (OAAS_DATABASE_URL): nothing was created;")
    assert line.endswith(f"OAAS_DATABASE_URL={report_line.split()[0].split('=', 1)[1]}")
    assert not (tmp_path / "oaas.db").exists()


def _operator_commands(
    demo_folder: Path, env: dict[str, str], report_line: str
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The printed `oaas sla report` line, run from another folder as printed; then
    `oaas sla report` with no database setting, in the demo's folder."""
    elsewhere = demo_folder / "elsewhere"
    elsewhere.mkdir()
    path = {"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
    assert report_line.startswith("OAAS_DATABASE_URL=sqlite+aiosqlite:///"), report_line
    assert report_line.endswith(" oaas sla report"), report_line
    report = subprocess.run(
        ["bash", "-c", report_line],
        cwd=elsewhere,
        env={**env, **path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    bare = subprocess.run(
        ["oaas", "sla", "report"],
        cwd=demo_folder,
        env={**env, **path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return report, bare
