"""The start-up warm-up (explorer/ui/startup.py) and the server it is part of.

In-process: the warm-up fills the caches the page reads (a page run then loads nothing again), a
failing step is logged and skipped, the lifespan returns before the warm-up is done. With a real
``streamlit run explorer/app.py`` (the README's command): the server answers while warming up, the
log says the warm-up finished without Streamlit's "missing ScriptRunContext" warnings, Streamlit's
own scripts come gzipped with their caching headers, and the websocket still works.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from support import free_port, run_coroutine

from explorer.render import state_cache
from explorer.ui import resources, startup

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120.0


def _step(name: str) -> tuple[str, object]:
    return next(s for s in startup.STEPS if s[0] == name)


def test_warm_up_fills_the_caches_the_page_reads(monkeypatch):
    from explorer.ui.reading import get_library

    resources.get_model.clear()
    resources.get_box.clear()
    get_library.clear()
    report = startup.warm_up([_step("modules"), _step("model"), _step("texts")])  # type: ignore[list-item]
    assert report.done.is_set() and not report.failed
    assert set(report.seconds) == {"modules", "model", "texts"}
    assert "explorer.ui.page" in sys.modules
    # A page run after the warm-up loads nothing again: the cached model, box and texts are used.
    loads: list[str] = []
    monkeypatch.setattr(resources, "load_model", lambda *a, **k: loads.append("model"))
    monkeypatch.setattr("explorer.ui.reading.load_content", lambda *a, **k: loads.append("texts"))
    model = resources.get_model()
    assert model.meshes and resources.get_box() and get_library() is not None
    assert loads == []


def test_a_failing_step_is_logged_and_the_others_still_run(caplog):
    ran: list[str] = []

    def broken() -> None:
        raise OSError("disk gone")

    steps = [("first", lambda: ran.append("first")), ("broken", broken), ("last", lambda: ran.append("last"))]
    startup.LOG.propagate = True  # Streamlit's loggers do not propagate; caplog listens at the root
    try:
        with caplog.at_level(logging.WARNING, logger=startup.LOG.name):
            report = startup.warm_up(steps)
    finally:
        startup.LOG.propagate = False
    assert ran == ["first", "last"]
    assert report.failed == {"broken": "OSError: disk gone"}
    assert report.done.is_set()
    assert any("broken" in r.getMessage() and "disk gone" in r.getMessage() for r in caplog.records)


def test_later_steps_measure_each_condition_into_the_page_cache_after_the_first_run(monkeypatch):
    """The later steps wait for a first page run, then fill get_impact with the keys a page uses for
    each condition chosen with its default parameters (from the URL: the page's own parsing)."""
    from explorer.conditions.registry import CONDITIONS
    from explorer.state import parse_query_params

    resources.get_impact.clear()
    calls: list[str] = []
    real = resources.state_impact
    monkeypatch.setattr(resources, "state_impact", lambda c, p, m: (calls.append(c), real(c, p, m))[1])
    monkeypatch.setattr(startup, "AFTER_FIRST_RUN_S", 0.0)
    # The states and meshes steps (up to a minute of CPU) have their own tests below; here they only record.
    monkeypatch.setattr(startup, "warm_states", lambda: calls.append("states"))
    monkeypatch.setattr(startup, "warm_condition_meshes", lambda: calls.append("meshes"))
    waited = threading.Event()
    monkeypatch.setattr(resources, "wait_for_first_run", lambda timeout=None: waited.wait(timeout))
    thread = threading.Thread(target=startup.warm_up, args=(startup.LATER_STEPS, None, True))
    thread.start()
    time.sleep(0.3)
    assert calls == []  # nothing before a page run has finished
    waited.set()
    thread.join(300)
    assert calls[-2:] == ["states", "meshes"]  # after every condition's default impact
    del calls[-2:]
    assert sorted(calls) == sorted(CONDITIONS)
    for condition in CONDITIONS:
        state = parse_query_params({"condition": condition}).state
        resources.get_impact(state.condition, state.params)
    assert sorted(calls) == sorted(CONDITIONS)  # all from the cache


def test_the_meshes_step_builds_the_story_scene_and_every_conditions_own_meshes(monkeypatch):
    """Each condition that declares a warm-up gets it called once, after the story view's shared
    scene is built for the page's model."""
    import dataclasses

    from explorer.conditions.registry import CONDITIONS
    from explorer.render import story

    called: list[str] = []
    monkeypatch.setattr(story, "warm_up", lambda model: called.append(f"story {model is resources.get_model()}"))
    declared = [c for c, spec in CONDITIONS.items() if spec.warm_up is not None]
    assert "spondylolisthesis" in declared  # its slip meshes take seconds per level to build
    for condition in declared:
        monkeypatch.setitem(CONDITIONS, condition, dataclasses.replace(
            CONDITIONS[condition], warm_up=lambda condition=condition: called.append(condition)))
    monkeypatch.setattr(state_cache, "missing", lambda model, states_dir=None: 1)  # some state not stored yet
    startup.warm_condition_meshes(pause_s=0.0)
    assert called == ["story True", *declared]
    called.clear()
    monkeypatch.setattr(state_cache, "missing", lambda model, states_dir=None: 0)  # every state stored
    startup.warm_condition_meshes(pause_s=0.0)
    assert called == []  # no visit builds a lesion or casts a ray then


def test_the_states_step_stores_the_missing_states_once(monkeypatch, tmp_path):
    """It builds into the state folder only when some state is missing, never waiting for another
    process's build; a second start finds them all and builds nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(state_cache, "STATES_DIR", tmp_path / "states")
    few = state_cache.registry_states()[:2]
    monkeypatch.setattr(state_cache, "registry_states", lambda: few)
    builds: list[tuple[float, float]] = []
    real_build = state_cache.build

    def build(model, states_dir=None, states=None, log=print, pause_s=0.0, wait_s=60.0):
        builds.append((pause_s, wait_s))
        return real_build(model, states_dir, states, log, 0.0, wait_s)

    monkeypatch.setattr(state_cache, "build", build)
    startup.warm_states(pause_s=0.01)
    assert builds == [(0.01, 0.0)] and len(list((tmp_path / "states").glob("*.state"))) == 2
    startup.warm_states(pause_s=0.01)
    assert len(builds) == 1


def test_later_steps_stop_when_no_page_run_comes(monkeypatch):
    monkeypatch.setattr(resources, "wait_for_first_run", lambda timeout=None: False)
    ran: list[str] = []
    monkeypatch.setattr(startup, "warm_conditions", lambda: ran.append("conditions"))
    report = startup.warm_up([startup.LATER_STEPS[0], ("conditions", lambda: startup.warm_conditions())],
                             stop_on_failure=True)
    assert ran == [] and "first page run served" in report.failed


def test_the_lifespan_returns_before_the_warm_up_is_done_and_survives_its_failure(monkeypatch):
    release = threading.Event()

    def slow_then_broken() -> None:
        release.wait(10)
        raise RuntimeError("warm-up failed")

    monkeypatch.setattr(startup, "STEPS", (("slow", slow_then_broken),))
    monkeypatch.setattr(startup, "_started", None)
    monkeypatch.delenv(startup.WARM_UP_ENV, raising=False)

    async def serve() -> startup.WarmUpReport:
        async with startup.lifespan(object()) as state:
            report = state["warm_up"]
            assert isinstance(report, startup.WarmUpReport)
            assert not report.done.is_set()  # the server is serving while the warm-up runs
            release.set()
            await asyncio.to_thread(report.done.wait, 10)
        return report

    report = run_coroutine(serve())
    assert report.failed == {"slow": "RuntimeError: warm-up failed"}


def test_the_warm_up_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(startup, "_started", None)
    monkeypatch.setenv(startup.WARM_UP_ENV, "0")
    assert startup.start_warm_up() is None
    monkeypatch.setenv(startup.WARM_UP_ENV, "1")
    assert startup.warm_up_enabled()


def test_only_this_threads_missing_context_warning_is_dropped():
    def record(thread: str, text: str) -> logging.LogRecord:
        r = logging.LogRecord(startup.CONTEXT_LOGGER, logging.WARNING, __file__, 1, text, None, None)
        r.threadName = thread
        return r

    f = startup.NoContextWarning()
    assert not f.filter(record(startup.THREAD_NAME, "Thread 'x': missing ScriptRunContext! This warning..."))
    assert f.filter(record("ScriptRunner.scriptThread", "Thread 'x': missing ScriptRunContext! ..."))
    assert f.filter(record(startup.THREAD_NAME, "something else went wrong"))


# --------------------------------------------------------------------------- a real server


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers=headers or {})
    with opener.open(req, timeout=30) as resp:
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k not in (startup.WARM_UP_ENV, "LUMBAR_PRELOAD")})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                _get(f"{url}/_stcore/health")
                break
            except OSError:
                assert proc.poll() is None, f"streamlit exited: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, "the server did not answer in time"
                time.sleep(0.1)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_server_warms_up_in_the_background_without_warnings(server):
    url, log = server
    deadline = time.monotonic() + START_TIMEOUT_S
    while "Warm-up done" not in log.read_text() and time.monotonic() < deadline:
        assert _get(f"{url}/_stcore/health")[0] == 200  # answering meanwhile
        time.sleep(0.2)
    text = log.read_text()
    assert "Warm-up done" in text, text[-2000:]
    assert "missing ScriptRunContext" not in text
    assert "failed" not in text.lower() and "Traceback" not in text, text[-2000:]


def test_streamlit_scripts_come_gzipped_with_their_caching_headers(server):
    url, _ = server
    status, _, page = _get(url)
    script = re.search(rb'src="\./(static/js/index\.[\w-]+\.js)"', page)
    assert status == 200 and script, page[:500]
    status, head, body = _get(f"{url}/{script.group(1).decode()}", {"Accept-Encoding": "gzip"})
    assert status == 200 and head.get("content-encoding") == "gzip"
    assert "immutable" in head.get("cache-control", "") and "accept-encoding" in head.get("vary", "").lower()
    assert head.get("etag", "").startswith("W/")
    raw = gzip.decompress(body)
    assert len(raw) > 2 * len(body) and int(head["content-length"]) == len(body)
    _, plain_head, plain = _get(f"{url}/{script.group(1).decode()}")  # a client that does not accept gzip
    assert "content-encoding" not in plain_head and plain == raw
    _, plotly_head, plotly = _get(f"{url}/app/static/plotly-gl3d.min.js", {"Accept-Encoding": "gzip"})
    assert plotly_head.get("content-encoding") == "gzip" and gzip.decompress(plotly)[:200].count(b"plotly") >= 1


def test_the_websocket_is_untouched(server):
    websockets = pytest.importorskip("websockets.sync.client")
    url, _ = server
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    with websockets.connect(ws_url, subprotocols=["streamlit"], origin=url, open_timeout=30) as ws:
        assert ws.subprotocol == "streamlit"
        assert ws.response.headers.get("content-encoding") is None
