"""Small helpers shared by the test folders (``tests/`` is on ``sys.path``: see tests/conftest.py)."""

from __future__ import annotations

import os
import socket

import pytest


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
