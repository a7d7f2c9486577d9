"""Server start-up: warm the process up before the first browser asks for a page.

Measured (2026-12-06, 2 shared cores; py-spy of the first script run, AppTest): the first run of
the page script took about 3.2 s, of which 2.35 s was importing the page's modules (the condition
registry pulls in the anatomy builders, SciPy and PyVista), 0.41 s loading and validating the
texts (YAML front matter), 0.09 s building the default 3D view and 0.04 s reading the baked
meshes. Every later run takes about 0.03 s. The browser meanwhile needs about 1.3 s from
opening the page to its websocket (Streamlit's own scripts), so work done from server start on
is work the first visitor does not wait for.

:func:`lifespan` is handed to ``st.App`` by ``explorer/app.py``; Streamlit enters it once the
runtime has started, before the server accepts a connection. It starts :func:`warm_up` on a
daemon thread and returns at once: the server never waits for the warm-up, and a failing step
is logged and skipped (the page then does that work itself on its first run, as it always
did). A script run that arrives during the warm-up waits only for what is still in progress:
Python's import lock for a module being imported, ``st.cache_resource``'s lock for a resource
being made.

The steps fill the same caches the page reads (the modules in ``sys.modules``, the
``st.cache_resource`` entries of :mod:`explorer.ui.resources` and :func:`explorer.ui.reading.get_library`,
which are process-wide and work outside a script run) and precompress the browser's first load
(:func:`explorer.ui.first_load.warm_compressed`). Set ``LUMBAR_WARM_UP=0`` to switch it off.

While a browser fetches Streamlit's scripts before its websocket opens, the steps give way to those
requests when ``LUMBAR_WARM_UP_GATE=1`` (:class:`Gate`, :func:`gated_imports`; off by default):
benchmarks/first_paint.py, 4 cold starts each interleaved with the tree before (2026-12-06, load
4-6): the requests before the websocket waited 2.5 s summed on the server instead of 6.6 s, and
the websocket opened 0.6 s sooner (3.02 vs 3.62 s after ``streamlit run``); the 3D view mounted at
the same time (5.53 vs 5.60 s: the first page run then waits for the rest of the warm-up) and
the first painted 3D did not move (7.95 vs 7.95 s median). A second run (20:00 UTC, load 3-4, 3
cold starts each): 8.64 vs 8.18 s median (min 7.38 vs 7.42 s), the 3D view mounted later (6.33 vs
5.36 s). It changes when the browser's requests are answered, not how much CPU the server needs
before the first page run can finish, so it is off by default.

After the first page run has been served, and a little later still (the first visitor's browser
is then drawing the 3D model with software WebGL on the same cores), the same thread measures each
condition once with its default parameters (:data:`LATER_STEPS`, :func:`warm_conditions`): the
first ``simulate()`` of a condition paid SciPy and PyVista imports and first-use caches (run.py on
2026-12-06: herniation 1.19 s, spondylolisthesis 3.65 s, piriformis 0.60 s; a first switch to a
slipped vertebra took a 6 s script run). The impacts go into the page's own cache
(:func:`explorer.ui.resources.get_impact`), so the first visitor of a default condition gets it at
once; the thread sleeps between conditions so a page run in between gets the interpreter. Then
every registry state that has no stored file yet (a fresh machine, a code change) is computed and
stored (:func:`warm_states`, :mod:`explorer.render.state_cache`), so a first visit of any state
reads it back instead of simulating it; only while some state is still missing are the slip meshes
built ahead (:func:`warm_condition_meshes`).
"""

from __future__ import annotations

import builtins
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any

from streamlit.logger import get_logger

LOG = get_logger(__name__)

WARM_UP_ENV: str = "LUMBAR_WARM_UP"
THREAD_NAME: str = "lumbar-warm-up"


def _import_page() -> None:
    """Every module a page run imports (``explorer.ui.page`` imports the rest)."""
    import_module("explorer.ui.page")


def _model() -> None:
    from explorer.ui.resources import get_box, get_model

    get_model()
    get_box()


def _texts() -> None:
    from explorer.ui.reading import get_library

    get_library()


def _page_hints() -> None:
    from explorer.ui.first_load import page_hints

    page_hints()


def _first_load() -> None:
    from explorer.ui.first_load import warm_compressed

    warm_compressed()


def _settle() -> None:
    """Move what the warm-up left alive (modules, the model, the texts: alive as long as the
    process) out of the collector's way: each of Python's full collections would walk them again
    (see :func:`explorer.ui.resources.settle_heap`, which does the same after the first run)."""
    gc.collect()
    gc.freeze()


# In the order the first page run needs them: the modules and the model before the 3D view is
# sent, the texts after it. Compressing the first load goes last (zlib releases the GIL). Moving it
# after the first page run (it ran alongside that run: once Streamlit's component chunk waited
# 0.65 s for the server) was measured only together with the gate, or at load 9.7 (16.18 vs 15.89 s
# median): not shown to help, so it stays here.
STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("page hints", _page_hints),
    ("modules", _import_page),
    ("model", _model),
    ("texts", _texts),
    ("first load", _first_load),
    ("heap", _settle),
)


# --------------------------------------------------------------------------- giving way to a page load
# While a browser fetches Streamlit's scripts (a chain of 64-65 requests before the websocket
# opens), the warm-up pauses before each of its steps and before each import made by one of the
# app's modules: the event loop then gets the GIL at once instead of waiting out Python's switch
# interval at every handoff (explorer.ui.first_load.Traffic). It goes on when no request has been
# in flight for GATE_QUIET_S, once a websocket has connected (that page's first script run needs
# the warm-up's work now), or when it has waited GATE_BUDGET_S in all (a server that never goes
# quiet still warms up). Off by default (see gate_enabled); LUMBAR_WARM_UP_GATE=1 switches it on.
GATE_ENV: str = "LUMBAR_WARM_UP_GATE"
GATE_QUIET_S: float = 0.05
GATE_BUDGET_S: float = 2.0
GATE_POLL_S: float = 0.005


class Gate:
    """Waits for a quiet moment in a page load (see above); ``waited_s`` is the time spent waiting.

    Parameters
    ----------
    traffic : object, optional
        With ``quiet_for() -> float`` and ``websocket_seen``; default
        :data:`explorer.ui.first_load.TRAFFIC` (what the middleware counts).
    quiet_s, budget_s : float
        See :data:`GATE_QUIET_S`, :data:`GATE_BUDGET_S`.
    """

    def __init__(self, traffic: Any = None, quiet_s: float = GATE_QUIET_S, budget_s: float = GATE_BUDGET_S) -> None:
        if traffic is None:
            from explorer.ui.first_load import TRAFFIC

            traffic = TRAFFIC
        self.traffic = traffic
        self.quiet_s = quiet_s
        self.budget_s = budget_s
        self.waited_s = 0.0
        self.waits = 0

    def open(self) -> bool:
        """True when the warm-up no longer gives way (a websocket connected, or the budget is spent)."""
        return bool(self.traffic.websocket_seen) or self.waited_s >= self.budget_s

    def wait(self) -> None:
        """Return when no request has been in flight for ``quiet_s`` (or the gate is open)."""
        if self.open() or self.traffic.quiet_for() >= self.quiet_s:
            return
        self.waits += 1
        start = time.monotonic()
        left = self.budget_s - self.waited_s
        while (not self.traffic.websocket_seen and self.traffic.quiet_for() < self.quiet_s
               and time.monotonic() - start < left):
            time.sleep(GATE_POLL_S)  # releases the GIL
        self.waited_s += time.monotonic() - start


def gate_enabled() -> bool:
    """True when ``LUMBAR_WARM_UP_GATE`` is ``1``, ``on``, ``true`` or ``yes``; off by default: in two
    interleaved runs it moved the websocket 0.6 s earlier but never the first painted 3D (7.95 vs
    7.95 s; 8.64 vs 8.18 s median, min 7.38 vs 7.42 s), and in the second the 3D view mounted later
    (6.33 vs 5.36 s): the first page run waits for a warm-up that gave way."""
    return os.environ.get(GATE_ENV, "0").strip().lower() in ("1", "on", "true", "yes")


@contextmanager
def gated_imports(gate: Gate) -> Iterator[None]:
    """While inside, an import statement run by one of the app's modules (``explorer.*``) on this
    thread first waits at ``gate`` when its module is not loaded yet.

    Only there: the thread then holds import locks of ``explorer`` modules alone, which the event
    loop never asks for (it imports none of them while serving), so it cannot wait on us while we
    wait on it. ``builtins.__import__`` is the documented hook (importlib itself is unchanged);
    it is put back on the way out, unless someone replaced it meanwhile.
    """
    original = builtins.__import__
    thread = threading.get_ident()

    def gated(name: str, globals: Mapping[str, object] | None = None, locals: Mapping[str, object] | None = None,
              fromlist: Sequence[str] | None = (), level: int = 0) -> ModuleType:
        if (threading.get_ident() == thread and (level or name not in sys.modules) and globals
                and str(globals.get("__name__", "")).startswith("explorer")):
            gate.wait()
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = gated
    try:
        yield
    finally:
        if builtins.__import__ is gated:
            builtins.__import__ = original


# Seconds to wait after the first page run before the later steps (the browser's first paint), and
# the pause between two conditions; at most this long is waited for a first page run.
AFTER_FIRST_RUN_S: float = 6.0
BETWEEN_CONDITIONS_S: float = 0.3
BETWEEN_STATES_S: float = 0.05
FIRST_RUN_TIMEOUT_S: float = 600.0


def warm_conditions(pause_s: float = BETWEEN_CONDITIONS_S) -> None:
    """Each condition's impact with its default parameters, into the page's cache."""
    from explorer.conditions.registry import CONDITIONS
    from explorer.state import condition_params
    from explorer.ui.resources import get_impact

    for condition in CONDITIONS:
        params, _ = condition_params(condition, {})
        t = time.perf_counter()
        get_impact(condition, params)
        LOG.info("Warm-up: %s measured in %.2f s", condition, time.perf_counter() - t)
        time.sleep(pause_s)


def warm_states(pause_s: float = BETWEEN_STATES_S) -> None:
    """Every registry state's file (:mod:`explorer.render.state_cache`) that is missing or stale:
    computed and written, one state at a time with a pause between (on a fresh machine or after a
    code change; about 40 s of CPU for the 231 states). Nothing to do when they were built before
    (``python -m explorer build-models``, the image's build step) or by an earlier start; another
    process building them at the same time is left to it."""
    from explorer.render import state_cache
    from explorer.ui.resources import get_model

    model = get_model()
    missing = state_cache.missing(model)
    if not missing:
        LOG.info("Warm-up: every state is stored already")
        return
    LOG.info("Warm-up: %d of %d states to compute and store", missing, len(state_cache.registry_states()))
    state_cache.build(model, log=LOG.info, pause_s=pause_s, wait_s=0.0)


def warm_condition_meshes(pause_s: float = BETWEEN_CONDITIONS_S) -> None:
    """The story view's shared ray scene of the healthy model, then each condition's own shared
    meshes (``ConditionSpec.warm_up``: a slip's vertebra and its pars pieces, 4.7-6.3 s per level,
    which the first visitor of a slip at that level would otherwise wait for).

    Skipped when every state is stored (:func:`warm_states`): then no visit builds a lesion or casts
    a story view's rays, and these meshes (about 30 s of CPU at start-up) would serve nobody."""
    from explorer.conditions.registry import CONDITIONS
    from explorer.render import state_cache
    from explorer.render.story import warm_up as warm_story
    from explorer.ui.resources import get_model

    if not state_cache.missing(get_model()):
        LOG.info("Warm-up: condition meshes not needed (every state is stored)")
        return
    warm_story(get_model())
    for condition, spec in CONDITIONS.items():
        if spec.warm_up is None:
            continue
        t = time.perf_counter()
        spec.warm_up()
        LOG.info("Warm-up: %s meshes built in %.2f s", condition, time.perf_counter() - t)
        time.sleep(pause_s)


def _after_first_run() -> None:
    from explorer.ui.resources import wait_for_first_run

    if not wait_for_first_run(FIRST_RUN_TIMEOUT_S):
        raise TimeoutError(f"no page run within {FIRST_RUN_TIMEOUT_S:.0f} s")
    time.sleep(AFTER_FIRST_RUN_S)


# Run after STEPS, on the same thread; a failure skips the rest of them (the page does the work).
LATER_STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("first page run served", _after_first_run),
    ("conditions", lambda: warm_conditions()),  # looked up when run (tests replace them)
    ("states", lambda: warm_states()),
    ("condition meshes", lambda: warm_condition_meshes()),
)


class NoContextWarning(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning for this thread only: outside a script
    run, ``st.cache_resource`` works (process-wide) but says so once per call. Every other
    thread's warnings, and every other warning, still reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == THREAD_NAME and "missing ScriptRunContext" in record.getMessage())


# Streamlit's logger for that warning (streamlit/runtime/scriptrunner_utils/script_run_context.py).
CONTEXT_LOGGER: str = "streamlit.runtime.scriptrunner_utils.script_run_context"
_FILTER = NoContextWarning()


@dataclass
class WarmUpReport:
    """What the warm-up did: seconds per step, and the steps that failed (with the reason)."""

    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    later: WarmUpReport | None = None  # LATER_STEPS, once they have run
    gate_waited_s: float = 0.0  # seconds the steps waited for page loads (Gate)


def warm_up(steps: Sequence[tuple[str, Callable[[], None]]] | None = None,
            report: WarmUpReport | None = None, stop_on_failure: bool = False,
            gate: Gate | None = None) -> WarmUpReport:
    """Run the warm-up steps in order; a step that raises is logged and skipped (never raises).

    Parameters
    ----------
    steps : sequence of (name, function), optional
        Default :data:`STEPS`.
    report : WarmUpReport, optional
        Filled in as the steps finish (``done`` is set at the end).
    stop_on_failure : bool
        Skip the remaining steps after one fails (steps that depend on the one before).
    gate : Gate, optional
        Give way to a page load: wait at it before each step and each import of the app's modules.

    Returns
    -------
    WarmUpReport
    """
    report = report if report is not None else WarmUpReport()
    steps = STEPS if steps is None else steps
    started = time.perf_counter()
    context_log = get_logger(CONTEXT_LOGGER)
    context_log.addFilter(_FILTER)
    try:
        for name, step in steps:
            if gate is not None:
                gate.wait()
            t = time.perf_counter()
            try:
                with gated_imports(gate) if gate is not None else nullcontext():
                    step()
            except Exception as exc:  # the page redoes this work itself: log, go on
                report.failed[name] = f"{type(exc).__name__}: {exc}"[:300]
                LOG.warning("Warm-up step %r failed (the first page run will do it instead): %s",
                             name, report.failed[name], exc_info=True)
                if stop_on_failure:
                    break
            finally:
                report.seconds[name] = round(time.perf_counter() - t, 3)
        if gate is not None:
            report.gate_waited_s = round(gate.waited_s, 3)
        LOG.info("Warm-up done in %.2f s (%s)%s", time.perf_counter() - started,
                  ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()),
                  f"; gave way to page loads {gate.waits} times, {gate.waited_s:.2f} s" if gate is not None else "")
    finally:
        context_log.removeFilter(_FILTER)
        report.done.set()
    return report


def _warm_up_then_later(steps: Sequence[tuple[str, Callable[[], None]]] | None, report: WarmUpReport) -> None:
    gate = None
    if gate_enabled():
        try:
            gate = Gate()
        except Exception:  # no traffic to look at: warm up without giving way
            LOG.warning("Warm-up: cannot watch the page loads; not giving way to them", exc_info=True)
    warm_up(steps, report, gate=gate)
    if steps is None:  # the real start-up (tests pass their own steps)
        later = WarmUpReport()
        warm_up(LATER_STEPS, later, stop_on_failure=True)
        report.later = later


def warm_up_enabled() -> bool:
    """False when ``LUMBAR_WARM_UP`` is ``0``, ``off``, ``false`` or ``no``."""
    return os.environ.get(WARM_UP_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


_started: WarmUpReport | None = None
_start_lock = threading.Lock()


def start_warm_up(steps: Sequence[tuple[str, Callable[[], None]]] | None = None) -> WarmUpReport | None:
    """Start :func:`warm_up` on a daemon thread, once per process.

    Returns
    -------
    WarmUpReport or None
        The report being filled (the same one on every call), or None when switched off.
    """
    global _started
    if not warm_up_enabled():
        LOG.info("Warm-up switched off (%s=%s)", WARM_UP_ENV, os.environ.get(WARM_UP_ENV))
        return None
    with _start_lock:
        if _started is None:
            report = WarmUpReport()
            threading.Thread(target=_warm_up_then_later, args=(steps, report), name=THREAD_NAME,
                             daemon=True).start()
            _started = report
        return _started


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    """``st.App(lifespan=...)``: start the warm-up and return at once (the server never waits).

    Yields ``{"warm_up": WarmUpReport | None}``, which Streamlit puts in ``app.state``.
    """
    report: WarmUpReport | None = None
    try:
        report = start_warm_up()
    except Exception:  # e.g. no thread could be started: serve without the warm-up
        LOG.warning("Could not start the warm-up; the first page run does its work", exc_info=True)
    yield {"warm_up": report}
