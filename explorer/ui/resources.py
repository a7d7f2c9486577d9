"""Cached resources shared by every session: the model, condition impacts, the scene box.

``st.cache_resource`` shares these across sessions, so they must never be mutated.
"""

from __future__ import annotations

import gc
import threading

import streamlit as st

from explorer.anatomy.model import SpineModel, load_model
from explorer.conditions.simulate import Impact
from explorer.render.memo import Memo
from explorer.render.model_scene import model_box
from explorer.render.state_cache import impact as state_impact


@st.cache_resource(show_spinner="Loading the 3D model...")
def get_model() -> SpineModel:
    """The baked meshes, shared by every session (never mutate them)."""
    return load_model()


@st.cache_resource(max_entries=256, show_spinner="Measuring the compression...")
def _make_impact(condition: str, params: tuple[tuple[str, str], ...]) -> Impact:
    return state_impact(condition, dict(params), get_model())


class _Impacts:
    """``get_impact(condition, params)``: a condition's impact, shared by every session (a pure
    function of its parameters; never mutate it).

    Read from the state's file when one was built for this code and model (about 2 ms; its story
    view comes with it, :mod:`explorer.render.state_cache`), else simulated, through
    ``st.cache_resource`` (one build per state even when sessions ask at once, with a spinner).
    A page run asks for the impact up to five times (the page and each fragment); a hit of
    ``st.cache_resource`` hashes its arguments each time (about 0.1-0.6 ms, measured 2026-12-06), so
    hits are answered from a plain dictionary first. Room for every state of the registry (231,
    about 0.2 MB each read back: all 231 took a process from 157 to 203 MiB RSS).
    """

    def __init__(self, limit: int = 256) -> None:
        self._memo: Memo[Impact] = Memo(limit)

    def __call__(self, condition: str, params: tuple[tuple[str, str], ...]) -> Impact:
        key = (condition, params)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo.put(key, _make_impact(condition, params))
        return hit

    def clear(self) -> None:
        """Forget every impact (tests, benchmarks of a first visit)."""
        self._memo.clear()
        _make_impact.clear()


get_impact = _Impacts()


@st.cache_resource
def get_box() -> tuple[float, ...]:
    """The scene's fixed extent (mm)."""
    return model_box(get_model())


_heap_settled = threading.Event()


def wait_for_first_run(timeout: float | None = None) -> bool:
    """Block until a page run of this process has finished (:func:`settle_heap` is called at the end
    of the first one); ``True`` if it has, ``False`` on timeout."""
    return _heap_settled.wait(timeout)


def settle_heap() -> None:
    """Once per process, after the first page run: move every object alive now to the
    collector's permanent generation (:func:`gc.freeze`).

    Why: with the app's modules, the model and the content loaded, about 250,000 objects are
    tracked, and each of Python's automatic full collections walks them all (about 100 ms of CPU
    on a 2-core machine; Streamlit's own collection after every run, ``runner.postScriptGC``,
    is switched off in ``.streamlit/config.toml`` since 3032cf4). These objects live as long as
    the process (modules, cached resources), so there is nothing to collect among them; frozen,
    the collector walks only what later runs create. The cost is that whatever the first run left
    alive and later drops (a few session values) is never freed: a one-off, bounded amount.
    (``explorer.ui.startup`` freezes what its warm-up loaded before the first page run too.)
    """
    if _heap_settled.is_set():
        return
    _heap_settled.set()
    gc.collect()
    gc.freeze()
