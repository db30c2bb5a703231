"""Long LLM runs that survive faults: kill -9 and SIGTERM mid-step, a server that is briefly
unavailable, malformed output, engine start failures. Deterministic doubles stand in for the
engine (the real engine's chunked path runs in test_e2e_analysis)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reviewlens_dagster.core.analysis.schemas import extract_schema, extract_validator
from reviewlens_dagster.core.llm import factory
from reviewlens_dagster.core.llm.engine import LLMEngine, OpenAIServerBackend
from reviewlens_dagster.core.llm.types import EngineStartError, LLMRequest, LLMUnavailableError
from reviewlens_dagster.defs import analysis as analysis_defs

from . import fault_worker
from .conftest import make_settings, read_table

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["sentiments", "aspect_mentions", "aspect_prevalence", "highlights", "summaries", "comparisons"]
#: one label request per review; no summary request: four reviews give no restaurant a strength, weakness or
#: complaint, so there is no fact to word but the review count
N_REQUESTS = sum(len(v[2]) for v in fault_worker.REVIEWS.values())


def _committed(cache: Path) -> int:
    """Entries in the LLM cache, read while another process may be writing it."""
    for _ in range(50):
        try:
            con = duckdb.connect(str(cache), read_only=True)
        except duckdb.Error:  # the writer holds the file for a moment: try again
            time.sleep(0.05)
            continue
        try:
            return con.execute("select count(*) from llm_cache").fetchone()[0]
        except duckdb.CatalogException:
            return 0
        finally:
            con.close()
    raise AssertionError(f"could not read {cache}")


def _tables(workdir: Path) -> dict[str, pd.DataFrame]:
    settings = make_settings(workdir)
    out = {}
    for t in TABLES:
        df = read_table(settings, t).drop(columns=["cached"], errors="ignore")
        out[t] = df.sort_values(list(df.columns[:3])).reset_index(drop=True)
    return out


def _start_worker(workdir: Path, delay_s: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fault_worker", str(workdir), str(delay_s)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_commits(proc: subprocess.Popen, cache: Path, at_least: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not (cache.exists() and _committed(cache) >= at_least):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "no LLM results committed in time"
        time.sleep(0.2)


@pytest.fixture
def reference(tmp_path_factory):
    """Tables of an uninterrupted run."""
    work = tmp_path_factory.mktemp("reference")
    with fault_worker.make_instance(work / "dagster_home") as instance:
        assert fault_worker.run(work, instance).success
    return _tables(work)


@pytest.mark.slow
def test_kill_9_mid_llm_step_then_rerun_makes_only_the_missing_calls(workdir, reference):
    cache = make_settings(workdir).llm_cache_path
    proc = _start_worker(workdir, delay_s=0.4)
    _wait_for_commits(proc, cache, at_least=2 * fault_worker.CHUNK)
    proc.kill()  # SIGKILL: no teardown, no flush
    proc.wait(30)
    committed = _committed(cache)
    assert 2 * fault_worker.CHUNK <= committed < N_REQUESTS

    calls = workdir / "calls.log"
    with fault_worker.make_instance(workdir / "rerun_home") as instance:
        assert fault_worker.run(workdir, instance, calls_log=str(calls)).success
    sent = calls.read_text().split()
    assert len(sent) == len(set(sent)) == N_REQUESTS - committed  # what was committed is never asked again
    again = _tables(workdir)
    for name in TABLES:
        pd.testing.assert_frame_equal(again[name], reference[name], check_dtype=False, obj=name)


@pytest.mark.slow
def test_sigterm_commits_completed_chunks_and_shuts_the_engine_down(workdir):
    cache = make_settings(workdir).llm_cache_path
    proc = _start_worker(workdir, delay_s=1.0)
    _wait_for_commits(proc, cache, at_least=2 * fault_worker.CHUNK)
    before = _committed(cache)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out[-2000:]  # the run stopped: it did not finish
    assert (workdir / "engine_closed").read_text() == "closed"  # teardown shut the engine down
    after = _committed(cache)
    assert before <= after < N_REQUESTS  # what was complete stays committed


def test_server_unavailable_then_the_step_retries_without_repeating_calls(workdir, monkeypatch):
    """The LLM server stays unavailable on the second engine call (after the client's own retries):
    the step asks Dagster for a retry, which calls the engine only for what was not committed."""
    monkeypatch.setattr(analysis_defs, "LLM_RETRY_WAIT_S", 0)
    calls = workdir / "calls.log"
    original = fault_worker.SlowBackend.generate
    state = {"n": 0}

    def flaky(self, requests, priorities):
        state["n"] += 1
        if state["n"] == 2:
            raise LLMUnavailableError("HTTP 503 after 5 attempts", [r.request_id for r in requests])
        return original(self, requests, priorities)

    monkeypatch.setattr(fault_worker.SlowBackend, "generate", flaky)
    with fault_worker.make_instance(workdir / "home") as instance:
        result = fault_worker.run(workdir, instance, calls_log=str(calls))
    assert result.success
    restarted = [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert [e.step_key for e in restarted] == ["review_extractions"]
    sent = calls.read_text().split()
    assert len(sent) == len(set(sent)) == N_REQUESTS  # the retry did not repeat the committed first chunk


# --------------------------------------------------------------------------- the server backend


class _Server(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that fails the first requests, then answers with ``answer``."""

    failures: list[int] = []
    answer = '{"label":"positive"}'

    def log_message(self, *args):
        return

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.failures:
            code = self.failures.pop(0)
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"busy")
            return
        self.send_response(200)
        if self.path.endswith("/tokenize"):
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"count": 12}')
            return
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunks = [
            {"choices": [{"delta": {"content": self.answer}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 9}},
        ]
        for c in chunks:
            self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    _Server.failures, _Server.answer = [], '{"label":"positive"}'


def _backend(srv, attempts: int = 4) -> OpenAIServerBackend:
    b = OpenAIServerBackend(f"http://127.0.0.1:{srv.server_address[1]}/v1", "m", max_attempts=attempts, timeout_s=10)
    b._retry_policy = lambda: {**OpenAIServerBackend._retry_policy(b), "wait": lambda *_: 0}  # no backoff in tests
    return b


def test_a_url_that_is_not_a_vllm_server_is_refused_with_the_setting_named(server):
    """Any HTTP server (here one with no /version nor /v1/models) is not taken for the LLM; a port
    nobody listens on is `unavailable` (the step may retry), named the same way."""
    from reviewlens_dagster.core.llm.types import EngineStartError

    with pytest.raises(EngineStartError, match="REVIEWLENS_LLM_URL=.* is not a vLLM server.*HTTP 501"):
        _backend(server).check_server()
    with pytest.raises(LLMUnavailableError, match="REVIEWLENS_LLM_URL=http://127.0.0.1:9/v1 does not answer"):
        OpenAIServerBackend("http://127.0.0.1:9/v1", "m", max_attempts=1, timeout_s=2).check_server()


def test_server_429_and_503_then_recovering(server):
    _Server.failures = [429, 503, 503]
    req = LLMRequest("r1", [{"role": "user", "content": "리뷰"}], json_schema=extract_schema([]), max_tokens=24)
    out = LLMEngine(_backend(server)).run([req], {"r1": extract_validator([])})
    assert out[0].parsed.label == "positive" and out[0].status == "ok"


def test_server_down_for_good_raises_unavailable(server):
    _Server.failures = [503] * 20
    with pytest.raises(LLMUnavailableError, match="unavailable after 2 attempts"):
        LLMEngine(_backend(server, attempts=2)).run([LLMRequest("r1", [{"role": "user", "content": "x"}])])


def test_malformed_json_from_the_server_fails_loudly_and_commits_nothing(server, tmp_path):
    from reviewlens_dagster.core.analysis.cache import LLMCache
    from reviewlens_dagster.core.analysis.extract import analyse_reviews
    from reviewlens_dagster.core.analysis.runner import PartialAnalysisError

    _Server.answer = '{"label":"posi'  # cut off: not JSON, and the repair answer is cut off too
    engine = LLMEngine(_backend(server))
    reviews = pd.DataFrame({"restaurant_id": ["r"], "review_id": ["v1"], "text": ["맛있어요"], "rating": [5.0]})
    cache = LLMCache(tmp_path / "cache.duckdb")
    with pytest.raises(
        PartialAnalysisError,
        match=r"failed for 1 restaurant\(s\) \(r\).*StructuredOutputError.*"
        r"extract:r:v1",
    ) as err:
        analyse_reviews(reviews, None, lambda q, v, on_result: engine.run(q, v, on_result), cache, "m")
    assert err.value.request_ids == ["extract:r:v1"]
    assert cache.get_many([]) == {} and not (tmp_path / "cache.duckdb").exists()  # nothing partial stored


def test_engine_start_failures_say_what_to_change(monkeypatch, tmp_path):
    def no_memory(*args, **kwargs):
        raise ValueError("No available memory for the cache blocks. Try increasing `gpu_memory_utilization`")

    monkeypatch.setattr(factory, "resolve_model", lambda preset, cache_dir, progress=None, override=None: str(tmp_path))
    monkeypatch.setattr(factory, "VLLMOfflineBackend", no_memory)
    with pytest.raises(EngineStartError, match="VLLM_CPU_KVCACHE_SPACE"):
        factory.build_engine(factory.LLMConfig(preset="tiny", model_cache_dir=tmp_path))

    def broken(*args, **kwargs):
        raise OSError("config.json not found")

    monkeypatch.setattr(factory, "VLLMOfflineBackend", broken)
    with pytest.raises(EngineStartError, match="holds a complete model"):
        factory.build_engine(factory.LLMConfig(preset="tiny", model_cache_dir=tmp_path))
    assert os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING") == "0"
