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

import gc
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import import_module
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
# sent, the texts after it. Compressing the first load goes last (zlib releases the GIL).
STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("page hints", _page_hints),
    ("modules", _import_page),
    ("model", _model),
    ("texts", _texts),
    ("first load", _first_load),
    ("heap", _settle),
)


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


def warm_up(steps: Sequence[tuple[str, Callable[[], None]]] | None = None,
            report: WarmUpReport | None = None, stop_on_failure: bool = False) -> WarmUpReport:
    """Run the warm-up steps in order; a step that raises is logged and skipped (never raises).

    Parameters
    ----------
    steps : sequence of (name, function), optional
        Default :data:`STEPS`.
    report : WarmUpReport, optional
        Filled in as the steps finish (``done`` is set at the end).
    stop_on_failure : bool
        Skip the remaining steps after one fails (steps that depend on the one before).

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
            t = time.perf_counter()
            try:
                step()
            except Exception as exc:  # the page redoes this work itself: log, go on
                report.failed[name] = f"{type(exc).__name__}: {exc}"[:300]
                LOG.warning("Warm-up step %r failed (the first page run will do it instead): %s",
                             name, report.failed[name], exc_info=True)
                if stop_on_failure:
                    break
            finally:
                report.seconds[name] = round(time.perf_counter() - t, 3)
        LOG.info("Warm-up done in %.2f s (%s)", time.perf_counter() - started,
                  ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()))
    finally:
        context_log.removeFilter(_FILTER)
        report.done.set()
    return report


def _warm_up_then_later(steps: Sequence[tuple[str, Callable[[], None]]] | None, report: WarmUpReport) -> None:
    warm_up(steps, report)
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
