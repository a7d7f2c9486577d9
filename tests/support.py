"""Small helpers shared by the test folders (``tests/`` is on ``sys.path``: see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own.

    Why: in the whole suite the browser tests run first, and Playwright's sync API keeps an event
    loop running on the main thread for the session, where ``asyncio.run`` refuses to start.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="test-coroutine")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def free_port() -> int:
    """A free TCP port on loopback (servers started by tests listen there only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(ok: bool, reason: str, what: str) -> None:
    """Skip with ``reason`` when a prerequisite is missing, but fail in CI (``CI`` set): there a
    missing browser or tool must not pass as a skip."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} prerequisite missing in CI: {reason}")
    pytest.skip(reason)


class AttrDict(dict):
    """Like a component result: keys readable as attributes (a fake browser event)."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


class Exploding:
    """The worst an event could be: attribute access and even repr raise."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError("boom")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


def open_folds(at: Any, rounds: int = 3) -> Any:
    """Open every closed fold of an AppTest page (``explorer.ui.reading.folded``) and rerun.

    A fold is Streamlit's stateful expander: its content is sent only while it is open. AppTest has
    no click for expanders, so this sets each closed one's widget value through session state, as
    the browser's click does. The user key is the part of the element id after its hash
    (``$$ID-<hash>-<key>``). Repeats for folds that appear only once others are open.
    """
    for _ in range(rounds):
        closed = [e for e in at.expander if e.proto.id and not e.proto.expanded]
        if not closed:
            return at
        for fold in closed:
            at.session_state[fold.proto.id.split("-", 2)[2]] = True
        at.run()
    return at
