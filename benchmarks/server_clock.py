"""``streamlit run`` with a clock on the server's side of each run (diagnostics for switch_timeline.py).

    LUMBAR_SERVER_CLOCK=/tmp/clock.log python benchmarks/server_clock.py run explorer/app.py ...

Writes one line per event to the file named by ``LUMBAR_SERVER_CLOCK``: ``<ms> <event> <detail>``,
``<ms>`` from ``time.monotonic()`` (on Linux the clock Chromium's DevTools timestamps use, so the
two can be put on one time line). Events: a script run starts and ends (the script thread), the
script queues a ForwardMsg (the script thread), the event loop queues it for the browser, and the
websocket client queues it for sending. Nothing of the app is changed; Streamlit's methods are wrapped.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

_LOCK = threading.Lock()
_OUT = None


def _log(event: str, detail: str = "") -> None:
    if _OUT is None:
        return
    line = f"{time.monotonic() * 1000:.3f} {event} {detail}\n"
    with _LOCK:
        _OUT.write(line)
        _OUT.flush()


def _kind(msg: Any) -> str:
    kind = msg.WhichOneof("type") or ""
    if kind == "delta":
        d = msg.delta
        dk = d.WhichOneof("type") or ""
        what = (d.new_element.WhichOneof("type") if dk == "new_element"
                else d.add_block.WhichOneof("type") if dk == "add_block" else dk) or ""
        if what == "bidi_component":
            what = "component:" + d.new_element.bidi_component.component_name.rsplit(".", 1)[-1]
        return f"delta:{what}:{'.'.join(map(str, msg.metadata.delta_path))}"
    return kind


def install(path: str) -> None:
    """Wrap Streamlit's script run, message queueing and websocket write to log their times."""
    global _OUT
    _OUT = open(path, "a", buffering=1)  # noqa: SIM115 - open for the server's whole life

    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    from streamlit.web.server.starlette.starlette_websocket import StarletteSessionClient

    # Streamlit's private methods by name: a diagnostic wrapper, never loaded by the app.
    run_script = getattr(ScriptRunner, "_run_script")  # noqa: B009

    def _run_script(self: Any, *args: Any, **kwargs: Any) -> Any:
        _log("run_start")
        try:
            return run_script(self, *args, **kwargs)
        finally:
            _log("run_end")

    setattr(ScriptRunner, "_run_script", _run_script)  # noqa: B010

    enqueue = ScriptRunContext.enqueue

    def _enqueue(self: Any, msg: Any) -> None:
        _log("script_enqueue", _kind(msg))
        enqueue(self, msg)

    ScriptRunContext.enqueue = _enqueue  # type: ignore[method-assign]

    session_enqueue = getattr(AppSession, "_enqueue_forward_msg")  # noqa: B009

    def _session_enqueue(self: Any, msg: Any) -> None:
        _log("loop_enqueue", _kind(msg))
        session_enqueue(self, msg)

    setattr(AppSession, "_enqueue_forward_msg", _session_enqueue)  # noqa: B010

    write = StarletteSessionClient.write_forward_msg

    def _write(self: Any, msg: Any) -> Any:
        out = write(self, msg)
        _log("ws_write", _kind(msg))
        return out

    StarletteSessionClient.write_forward_msg = _write  # type: ignore[method-assign]


def main() -> int:
    path = os.environ.get("LUMBAR_SERVER_CLOCK", "")
    if path:
        install(path)
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[1:]]
    return int(streamlit_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
