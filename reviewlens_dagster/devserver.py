"""Start and stop `dagster dev` for this code location (the browser test, the automation smoke check).

`dagster dev` runs the webserver, the daemon and a code server as children: it is started in
its own process group and stopped through that group (SIGINT, then SIGKILL), so nothing is left
behind. A parent shell that ran us in the background may have set SIGINT to "ignored", which
the children would inherit and then ignore SIGTERM too: SIGINT is restored in the child.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not up after {timeout_s} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGINT to the process group (dagster dev shuts its daemon and webserver down), then SIGKILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind, if any
    except ProcessLookupError:
        return


@contextmanager
def dagster_dev(dagster_home: Path, env: dict[str, str], log: Path, port: int | None = None, startup_s: float = 120):
    """`dagster dev -w workspace.yaml` on 127.0.0.1 with ``DAGSTER_HOME=dagster_home``; yields (url, process)."""
    port = port or free_port()
    full_env = {**os.environ, **env, "DAGSTER_HOME": str(dagster_home)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/server_info", proc, log, startup_s)
        yield url, proc
    finally:
        stop(proc)
