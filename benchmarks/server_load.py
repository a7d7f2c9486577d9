"""Many sessions on one server, without a browser: latency and server CPU per condition change.

Starts ``streamlit run <app>`` (the README's command, :class:`benchmarks._common.Server`) on a free
loopback port and opens N websocket sessions to it, speaking Streamlit's own protocol
(``BackMsg``/``ForwardMsg`` from ``streamlit.proto``): each session loads the page (a
``rerun_script`` with the link's query string, as the browser does on connect), finds the
condition picker among the elements it was sent, then every ``--interval`` seconds picks the
next condition (a ``rerun_script`` carrying that widget's new value, as the browser sends when a
person picks it) and waits for the server's ``script_finished``. No page is drawn, so the client
costs little and the numbers are the server's.

Measured:

* **latency** per change: sending the ``BackMsg`` -> the ``script_finished`` of that run
  (p50/p95/max over all sessions), with the bytes the server sent for it;
* **server CPU per rerun**: ``utime + stime`` of the server process (all its threads, from
  ``/proc/<pid>/stat``) over the driven phase, divided by the script runs the sessions saw
  finish (loads and changes);
* **file descriptors** of the server: before the sessions connect, at the peak, and
  ``--linger`` seconds after they all closed (``/proc/<pid>/fd``);
* errors: exception elements, ``script_finished`` statuses other than success, runs that never
  finished, websockets that closed early.

``--app benchmarks/minimal_app.py`` drives the bare one-selectbox app the same way (its picker
has the key ``choice``): the baseline for CPU per rerun and for file descriptors.

``--replicas 2`` drives the documented deployment instead: two replicas behind Debian's nginx
configured by ``deploy/nginx.conf`` (:mod:`benchmarks.replicas`), all on loopback; CPU, fds and
RSS are then the replicas' sums. ``--set runner.postScriptGC=false`` starts the servers with a
Streamlit option over ``.streamlit/config.toml`` (A/B runs). The server's RSS is sampled every
second over the driven phase.

    python benchmarks/server_load.py [--sessions 60] [--seconds 60] [--interval 5] [--baseline]

Writes ``benchmarks/results/server_load.json`` (``--out`` to change). Timings are noisy on a
shared machine: compare the app with the bare app measured in the same run (``--baseline``).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import os
import random
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, Server, children, machine_info, percentile, tree_rss_bytes, write_json

T = TypeVar("T")

RESULTS = ROOT / "benchmarks" / "results" / "server_load.json"
APP = "explorer/app.py"
MINIMAL_APP = "benchmarks/minimal_app.py"
# The condition picker's widget key in each app (explorer.ui.controls; benchmarks/minimal_app.py).
PICKER_KEYS = {APP: "condition", MINIMAL_APP: "choice"}
# A change that has not finished by then is counted as lost (and the session moves on).
CHANGE_TIMEOUT_S = 120.0
# The warm-up's first page load may rebuild stale model assets (30-50 s, more on a busy machine).
FIRST_LOAD_TIMEOUT_S = 600.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Seconds of quiet before the crowd arrives, to measure the server's background CPU.
IDLE_SAMPLE_S = 5.0


# --------------------------------------------------------------------------- /proc readers
def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" of the command name: field 3 (state) is fields[0]; utime and stime are
    # fields 14 and 15 of proc(5), i.e. fields[11] and fields[12] here.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_split(pid: int) -> tuple[float, float]:
    """(utime, stime) of ``pid`` in seconds: user time (Python, zlib, hashing) and kernel time
    (socket writes, thread start-up, the event loop's wake-ups)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def fd_count(pid: int) -> int:
    """Open file descriptors of ``pid``."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid: int) -> dict[str, int]:
    """Open file descriptors of ``pid`` by kind (socket, pipe, anon_inode:[eventpoll], file...)."""
    kinds: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target and not target.startswith("/") else "file"
        if target.startswith("anon_inode:"):
            kind = target
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items()))


# --------------------------------------------------------------------------- protocol
def _proto() -> Any:
    """Streamlit's protobuf classes (imported late: importing streamlit takes a second)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return BackMsg, ForwardMsg


def find_widgets(element: Any, found: dict[str, tuple[str, Any]]) -> None:
    """Record ``id -> (element type, element proto)`` of every widget in a delta's element."""
    kind = element.WhichOneof("type")
    if kind is None:
        return
    inner = getattr(element, kind)
    wid = getattr(inner, "id", "")
    if isinstance(wid, str) and wid:
        found[wid] = (kind, inner)


def message_part(msg: Any) -> str:
    """What a ``ForwardMsg`` carries, in a few words: ``"bidi_component explorer.viewer3d"``,
    ``"markdown"``, ``"add_block"``, ``"script_finished"``... (for the bytes-per-change breakdown)."""
    kind = msg.WhichOneof("type") or "?"
    if kind != "delta":
        return kind
    delta = msg.delta
    dkind = delta.WhichOneof("type") or "?"
    if dkind != "new_element":
        return dkind
    element = delta.new_element
    ekind = element.WhichOneof("type") or "?"
    if ekind == "bidi_component":
        return f"{ekind} {element.bidi_component.component_name}"
    return ekind


@dataclass
class Change:
    """One condition change as a session saw it."""

    sent: float
    finished: float | None = None
    status: str = ""
    bytes_in: int = 0
    # Bytes as they arrived on the socket (websocket frames, compressed when the server
    # compresses: server.enableWebsocketCompression); bytes_in counts the messages uncompressed.
    wire_bytes: int = 0
    messages: int = 0
    exceptions: int = 0
    # Bytes by what carried them (:func:`message_part`).
    parts: dict[str, int] = field(default_factory=dict)
    # The option picked, and whether this session had picked it before (the browser may still
    # hold the texts of a revisited state in its message cache: global.maxCachedMessageAge).
    option: str = ""
    revisit: bool = False
    # The rerun request's size (browser -> server): it lists the hashes of every message the
    # browser holds in its cache (global.maxCachedMessageAge), so it grows with that setting.
    bytes_out: int = 0


@dataclass
class Session:
    """One websocket session and what it saw."""

    index: int
    changes: list[Change] = field(default_factory=list)
    loads: list[Change] = field(default_factory=list)
    runs_finished: int = 0
    errors: list[str] = field(default_factory=list)
    exceptions: int = 0
    picker_id: str = ""
    options: list[str] = field(default_factory=list)
    query_string: str = ""
    page_hash: str = ""


class Client:
    """Speaks Streamlit's websocket protocol for one session (no browser)."""

    def __init__(self, url: str, picker_key: str, session: Session) -> None:
        self.url = url
        self.picker_key = picker_key
        self.s = session
        self.ws: Any = None
        self.BackMsg, self.ForwardMsg = _proto()
        self._current: Change | None = None
        self._finished = asyncio.Event()
        # The browser's cache of large messages (Streamlit's ForwardMessageCache in the page): hash ->
        # the run count when last used. Their hashes go with every rerun request, and the server
        # sends an element the page already has as a reference (``ref_hash``) instead of its bytes.
        self._msg_cache: dict[str, int] = {}
        self._runs = 0
        self._max_cached_age = 2  # global.maxCachedMessageAge; the server says it in new_session

    async def connect(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin, Subprotocol

        host = self.url.split("//", 1)[1]
        # Same origin as the page would be; "streamlit" is the subprotocol the browser asks for.
        self.ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=[Subprotocol("streamlit")],
                                origin=Origin(self.url), max_size=None, open_timeout=60,
                                ping_interval=None)
        # Offer permessage-deflate as every browser does (the server decides); count the bytes as
        # they arrive, before decompression: the transport calls the protocol's data_received.
        received = self.ws.data_received

        def counted(data: bytes) -> None:
            if self._current is not None:
                self._current.wire_bytes += len(data)
            received(data)
        self.ws.data_received = counted
        self.compressed = any(type(ext).__name__.startswith("PerMessageDeflate")
                              for ext in getattr(self.ws.protocol, "extensions", []))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._on_message(raw)
        except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
            if not getattr(self, "_closing", False):
                self.s.errors.append(f"websocket: {type(exc).__name__}: {str(exc)[:80]}")
        if not getattr(self, "_closing", False):
            self.s.errors.append("websocket closed by the server")
        self._finished.set()

    def _on_message(self, raw: bytes | str) -> None:
        msg = self.ForwardMsg()
        msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
        change = self._current
        if change is not None:
            change.bytes_in += len(raw)
            change.messages += 1
            part = message_part(msg)
            change.parts[part] = change.parts.get(part, 0) + len(raw)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            self._msg_cache[msg.ref_hash] = self._runs
        elif msg.metadata.cacheable and msg.hash:
            self._msg_cache[msg.hash] = self._runs
        if kind == "new_session":
            self.s.page_hash = msg.new_session.main_script_hash
            self._max_cached_age = msg.new_session.config.max_cached_message_age or self._max_cached_age
        elif kind == "page_info_changed":
            self.s.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "exception":
                self.s.exceptions += 1
                if change is not None:
                    change.exceptions += 1
                self.s.errors.append(f"exception element: {element.exception.type}: "
                                     f"{element.exception.message[:80]}")
            found: dict[str, tuple[str, Any]] = {}
            find_widgets(element, found)
            for wid, (wkind, proto) in found.items():
                if wkind == "selectbox" and wid.endswith(f"-{self.picker_key}"):
                    self.s.picker_id = wid
                    self.s.options = list(proto.options)
        elif kind == "script_finished":
            status = self.ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            if status != "FINISHED_EARLY_FOR_RERUN":  # as the page ages its cache
                self._runs += 1
                self._msg_cache = {h: r for h, r in self._msg_cache.items()
                                   if self._runs - r <= self._max_cached_age}
            self.s.runs_finished += 1
            if change is not None and change.finished is None:
                change.finished = time.perf_counter()
                change.status = status
                self._current = None
                self._finished.set()

    async def _run(self, change: Change, widget: tuple[str, str] | None, timeout_s: float = CHANGE_TIMEOUT_S) -> None:
        back = self.BackMsg()
        state = back.rerun_script
        state.query_string = self.s.query_string
        state.page_script_hash = self.s.page_hash
        state.cached_message_hashes.extend(self._msg_cache)
        if widget is not None:
            ws = state.widget_states.widgets.add()
            ws.id, ws.string_value = widget
        self._finished.clear()
        self._current = change
        request = back.SerializeToString()
        change.bytes_out = len(request)
        change.sent = time.perf_counter()
        await self.ws.send(request)
        try:
            await asyncio.wait_for(self._finished.wait(), timeout_s)
        except TimeoutError:
            self.s.errors.append(f"no script_finished within {timeout_s:.0f} s")
            self._current = None

    async def load(self, query_string: str = "", timeout_s: float = CHANGE_TIMEOUT_S) -> None:
        """The first run of the page, as a browser opening ``?query_string`` does."""
        self.s.query_string = query_string
        change = Change(sent=0.0)
        self.s.loads.append(change)
        await self._run(change, None, timeout_s)
        if not self.s.picker_id:
            self.s.errors.append(f"no selectbox with key {self.picker_key!r} in the page")

    async def change(self, option: str) -> None:
        """Pick ``option`` in the condition picker and wait for the run it causes."""
        change = Change(sent=0.0, option=option,
                        revisit=any(c.option == option for c in self.s.changes))
        self.s.changes.append(change)
        await self._run(change, (self.s.picker_id, option))

    async def close(self) -> None:
        self._closing = True
        if self.ws is not None:
            await self.ws.close()
        if getattr(self, "_reader", None) is not None:
            await self._reader


def _pids(pid: int | list[int]) -> list[int]:
    return [pid] if isinstance(pid, int) else list(pid)


async def drive(url: str, picker_key: str, sessions: int, seconds: float, interval: float,
                pid: int | list[int], seed: int = 0) -> dict[str, Any]:
    """Run ``sessions`` clients for ``seconds``; each changes the condition every ``interval`` s.

    ``pid``: the server process, or the replicas' processes (CPU, fds and RSS are summed)."""
    pids = _pids(pid)

    def fd_count(_pid: object = None) -> int:
        return sum(_fd_count(p) for p in pids)

    def fd_kinds(_pid: object = None) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for p in pids:
            for k, n in _fd_kinds(p).items():
                kinds[k] = kinds.get(k, 0) + n
        return kinds

    def cpu_seconds(_pid: object = None) -> float:
        return sum(_cpu_seconds(p) for p in pids)

    def cpu_split(_pid: object = None) -> tuple[float, float]:
        both = [_cpu_split(p) for p in pids]
        return sum(u for u, _ in both), sum(k for _, k in both)

    def tree_rss_bytes(_pid: object = None) -> int:
        return sum(_tree_rss_bytes(p) for p in pids)

    rng = random.Random(seed)
    states = [Session(i) for i in range(sessions)]
    clients = [Client(url, picker_key, s) for s in states]
    fds: dict[str, Any] = {"before": fd_count(pid), "before_kinds": fd_kinds(pid)}
    peak = {"fds": fds["before"]}
    # Resident memory of the server (MB), sampled once a second over the driven phase: bounded
    # memory is what Streamlit's after-run collection (runner.postScriptGC) is there for.
    rss: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def watch_fds() -> None:
        last_rss = -1.0
        while not stop.is_set():
            peak["fds"] = max(peak["fds"], fd_count(pid))
            now = time.perf_counter()
            if now - last_rss >= 1.0:
                rss.append((now - t0, tree_rss_bytes(pid) / 1e6))
                last_rss = now
            await asyncio.sleep(0.25)

    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    split0 = cpu_split(pid)
    watcher = asyncio.create_task(watch_fds())
    t_end = t0 + seconds

    async def one(client: Client) -> None:
        # Sessions arrive spread over the first interval, as a class does, not all in one tick.
        await asyncio.sleep(rng.uniform(0, interval))
        try:
            await client.connect()
            await client.load()
            if not client.s.picker_id:
                return
            options = client.s.options
            pick = rng.randrange(len(options))
            next_at = time.perf_counter() + rng.uniform(0, interval)
            while True:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                if time.perf_counter() >= t_end:
                    break
                pick = (pick + 1) % len(options)
                await client.change(options[pick])
                next_at += interval
        except Exception as exc:  # noqa: BLE001 - one session failing must not stop the others
            client.s.errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")

    await asyncio.gather(*(one(c) for c in clients))
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    split1 = cpu_split(pid)
    peak["fds"] = max(peak["fds"], fd_count(pid))
    fds["peak"] = peak["fds"]
    fds["peak_kinds"] = fd_kinds(pid)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    stop.set()
    await watcher
    return {"sessions": states, "cpu_s": cpu1 - cpu0, "wall_s": t1 - t0, "fds": fds, "rss": rss,
            "user_s": split1[0] - split0[0], "system_s": split1[1] - split0[1]}


def rss_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """Server RSS over the driven phase (MB): first and last sample, peak, and the growth over the
    second half (a leak keeps growing once the crowd is steady; a bounded heap levels off)."""
    if not samples:
        return {}
    mbs = [mb for _, mb in samples]
    half = samples[len(samples) // 2:]
    return {"start_mb": mbs[0], "peak_mb": max(mbs), "end_mb": mbs[-1],
            "second_half_growth_mb": half[-1][1] - half[0][1],
            "samples": [[round(t, 1), round(mb, 1)] for t, mb in samples]}


_cpu_seconds, _cpu_split, _fd_count, _fd_kinds, _tree_rss_bytes = (cpu_seconds, cpu_split, fd_count, fd_kinds,
                                                                   tree_rss_bytes)


def _mean_parts(changes: list[Change]) -> dict[str, float]:
    """Mean bytes per change by what carried them (largest first)."""
    total: dict[str, int] = {}
    for c in changes:
        for part, n in c.parts.items():
            total[part] = total.get(part, 0) + n
    n = max(1, len(changes))
    return {part: b / n for part, b in sorted(total.items(), key=lambda kv: -kv[1])}


def _bytes_stats(changes: list[Change]) -> dict[str, float]:
    """How many changes, their p50 bytes uncompressed and on the wire, and their latency."""
    lat = [(c.finished - c.sent) * 1000 for c in changes if c.finished is not None]
    return {"n": len(changes), "p50": percentile([float(c.bytes_in) for c in changes], 50),
            "wire_p50": percentile([float(c.wire_bytes) for c in changes], 50),
            "latency_p50_ms": percentile(lat, 50), "latency_p95_ms": percentile(lat, 95)}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    states: list[Session] = result["sessions"]
    changes = [c for s in states for c in s.changes]
    done = [c for c in changes if c.finished is not None]
    lat = [(c.finished - c.sent) * 1000 for c in done if c.finished is not None]
    load_lat = [(c.finished - c.sent) * 1000 for s in states for c in s.loads if c.finished is not None]
    runs = sum(s.runs_finished for s in states)
    statuses: dict[str, int] = {}
    for c in done:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    errors = [f"session {s.index}: {e}" for s in states for e in s.errors]
    return {
        "sessions": len(states),
        "changes_sent": len(changes),
        "changes_finished": len(done),
        "change_statuses": statuses,
        "script_runs_finished": runs,
        "exceptions": sum(s.exceptions for s in states),
        "errors": errors[:50],
        "error_count": len(errors),
        "change_latency_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95),
                              "max": max(lat) if lat else float("nan")},
        "load_latency_ms": {"p50": percentile(load_lat, 50), "p95": percentile(load_lat, 95)},
        "bytes_per_change": {"p50": percentile([float(c.bytes_in) for c in done], 50),
                             "max": max((c.bytes_in for c in done), default=0),
                             "mean": sum(c.bytes_in for c in done) / len(done) if done else float("nan")},
        # On the socket (compressed, when the server compresses websocket messages).
        "wire_bytes_per_change": {"p50": percentile([float(c.wire_bytes) for c in done], 50),
                                  "max": max((c.wire_bytes for c in done), default=0),
                                  "mean": sum(c.wire_bytes for c in done) / len(done) if done else float("nan")},
        "bytes_per_change_by_part": _mean_parts(done),
        "request_bytes_per_change": {"p50": percentile([float(c.bytes_out) for c in done], 50),
                                     "max": max((c.bytes_out for c in done), default=0)},
        # A state this session had not picked before, and one it had (its texts may be cached).
        "first_visit_bytes_per_change": _bytes_stats([c for c in done if not c.revisit]),
        "revisit_bytes_per_change": _bytes_stats([c for c in done if c.revisit]),
        "bytes_per_load_by_part": _mean_parts([c for s in states for c in s.loads if c.finished is not None]),
        "server_cpu_s": result["cpu_s"],
        "wall_s": result["wall_s"],
        "server_cpu_ms_per_run": result["cpu_s"] * 1000 / runs if runs else float("nan"),
        "server_user_ms_per_run": result.get("user_s", 0.0) * 1000 / runs if runs else float("nan"),
        "server_system_ms_per_run": result.get("system_s", 0.0) * 1000 / runs if runs else float("nan"),
        "messages_per_change": sum(c.messages for c in done) / len(done) if done else float("nan"),
        "reruns_per_s": runs / result["wall_s"] if result["wall_s"] else float("nan"),
        "fds": result["fds"],
        "rss": rss_summary(result.get("rss", [])),
    }


def warm_up(server: Server, picker_key: str) -> None:
    """One session that visits every option once, so caches filled on first use (model load,
    impacts) are not counted against the crowd."""
    async def go() -> None:
        s = Session(-1)
        client = Client(server.url, picker_key, s)
        await client.connect()
        await client.load(timeout_s=FIRST_LOAD_TIMEOUT_S)
        for option in s.options:
            await client.change(option)
        await client.close()
        if s.errors:
            raise RuntimeError(f"warm-up failed: {s.errors[:3]}")
    run_coroutine(go())


def option_env_name(option: str) -> str:
    """``runner.postScriptGC`` -> ``STREAMLIT_RUNNER_POST_SCRIPT_GC``: the environment variable
    Streamlit reads for a config option (``streamlit/config_option.py``, ``env_var``)."""
    s1 = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", option.replace(".", "_"))
    return "STREAMLIT_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s1).upper()


@contextlib.contextmanager
def server_env(ws_compression: bool | None, settings: dict[str, str] | None = None) -> Iterator[None]:
    """The environment a server is started in: Streamlit reads ``STREAMLIT_<SECTION>_<OPTION>``
    (over ``.streamlit/config.toml``). ``settings``: more options, ``{"runner.postScriptGC": "false"}``."""
    wanted = {option_env_name(k): v for k, v in (settings or {}).items()}
    if ws_compression is not None:
        wanted["STREAMLIT_SERVER_ENABLE_WEBSOCKET_COMPRESSION"] = "true" if ws_compression else "false"
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, in a thread of its own when this thread already runs an event loop
    (pytest after Playwright's sync API, which keeps a loop running in the main thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def measure(app: str, sessions: int, seconds: float, interval: float, linger: float,
            log_path: Path | None = None, warm: bool = True, late_check: float = 0.0,
            ws_compression: bool | None = None, settings: dict[str, str] | None = None,
            replicas: int = 1) -> dict[str, Any]:
    """Start ``app``, drive it and return the summary (fds included).

    ``ws_compression``: start the server with ``server.enableWebsocketCompression`` on or off
    (``None``: as ``.streamlit/config.toml`` says). ``settings``: other config options for the
    server (``{"runner.postScriptGC": "false"}``), over ``.streamlit/config.toml``.
    ``replicas``: more than 1 starts the documented deployment instead (that many replicas behind
    Debian's nginx configured by deploy/nginx.conf, :mod:`benchmarks.replicas`) and drives nginx;
    CPU, fds and RSS are then the replicas' sums, and nginx's own CPU is reported apart.
    """
    picker_key = PICKER_KEYS.get(app, "condition")
    with contextlib.ExitStack() as stack:
        stack.enter_context(server_env(ws_compression, settings))
        servers: list[Server]
        if replicas > 1:
            from benchmarks.replicas import Replicas

            deployment = stack.enter_context(Replicas(app, replicas, log_path=log_path))
            servers, url = deployment.servers, deployment.url
            ready_s = deployment.wait_ready(600.0)
            nginx_pid: int | None = deployment.nginx.pid
        else:
            if log_path is None and app == APP and warm:  # its log says when its start-up warm-up is done
                log_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "app.log"
            server = stack.enter_context(Server(app, log_path=log_path))
            servers, url = [server], server.url
            ready_s = server.wait_ready(600.0)  # a busy machine (shared CI) can take minutes
            nginx_pid = None
        # The page itself (HTTP), once, as a browser's first request would.
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
        pids = [s.proc.pid for s in servers]
        if warm:
            for s in servers:  # each replica directly: a session through nginx reaches only one
                warm_up(s, picker_key)
                if s.app == APP:  # and its own start-up warm-up done (Server.wait_warmed_up)
                    s.wait_warmed_up()

        def cpu() -> float:
            return sum(cpu_seconds(p) for p in pids)

        # The server's own background CPU with no session doing anything (subtracted below).
        idle0, t_idle = cpu(), time.perf_counter()
        time.sleep(IDLE_SAMPLE_S)
        idle_rate = (cpu() - idle0) / (time.perf_counter() - t_idle)
        def nginx_cpu() -> float:  # the master and its worker(s)
            if not nginx_pid:
                return 0.0
            return sum(cpu_seconds(p) for p in [nginx_pid, *children(nginx_pid)] if Path(f"/proc/{p}").exists())

        nginx0 = nginx_cpu()
        result = run_coroutine(drive(url, picker_key, sessions, seconds, interval, pids))
        summary = summarise(result)
        summary["replicas"] = len(servers)
        if nginx_pid:
            summary["nginx_cpu_ms_per_run"] = ((nginx_cpu() - nginx0) * 1000
                                               / max(1, summary["script_runs_finished"]))
        summary["server_ready_s"] = ready_s
        summary["idle_cpu_s_per_s"] = idle_rate
        runs = summary["script_runs_finished"]
        busy = summary["server_cpu_s"] - idle_rate * summary["wall_s"]
        summary["server_cpu_ms_per_run_minus_idle"] = busy * 1000 / runs if runs else float("nan")
        time.sleep(linger)
        summary["fds"]["after_close"] = sum(fd_count(p) for p in pids)
        summary["fds"]["after_close_kinds"] = fd_kinds(pids[0])
        summary["fds"]["linger_s"] = linger
        if late_check > linger:
            # Streamlit keeps a closed session (and its asyncio event loop: an epoll fd and a
            # socket pair) for server.disconnectedSessionTTL (120 s by default), so a browser that
            # reconnects finds it; counted again once that has passed.
            time.sleep(late_check - linger)
            summary["fds"]["late_check"] = sum(fd_count(p) for p in pids)
            summary["fds"]["late_check_kinds"] = fd_kinds(pids[0])
            summary["fds"]["late_check_s"] = late_check
    summary["app"] = app
    return summary


def _print(summary: dict[str, Any]) -> None:
    lat, fds = summary["change_latency_ms"], summary["fds"]
    where = f" ({summary['replicas']} replicas behind nginx)" if summary.get("replicas", 1) > 1 else ""
    print(f"{summary['app']}{where}: {summary['sessions']} sessions, {summary['changes_finished']}/"
          f"{summary['changes_sent']} changes finished, {summary['script_runs_finished']} runs, "
          f"{summary['error_count']} errors, {summary['exceptions']} exceptions")
    print(f"  change latency p50 {lat['p50']:.0f} ms  p95 {lat['p95']:.0f} ms  max {lat['max']:.0f} ms; "
          f"bytes per change p50 {summary['bytes_per_change']['p50'] / 1e3:.1f} kB "
          f"(on the wire {summary['wire_bytes_per_change']['p50'] / 1e3:.1f} kB) in "
          f"{summary['messages_per_change']:.0f} messages")
    first, again = summary.get("first_visit_bytes_per_change"), summary.get("revisit_bytes_per_change")
    if first and again:
        print(f"  first visit of a state p50 {first['p50'] / 1e3:.1f} kB ({first['wire_p50'] / 1e3:.1f} kB on the wire, "
              f"n={first['n']}, latency p50 {first['latency_p50_ms']:.0f} / p95 {first['latency_p95_ms']:.0f} ms); "
              f"revisit p50 {again['p50'] / 1e3:.1f} kB ({again['wire_p50'] / 1e3:.1f} kB, n={again['n']}, "
              f"latency p50 {again['latency_p50_ms']:.0f} / p95 {again['latency_p95_ms']:.0f} ms)")
    req = summary.get("request_bytes_per_change")
    if req:
        print(f"  rerun request (browser -> server, uncompressed) p50 {req['p50'] / 1e3:.1f} kB, max {req['max'] / 1e3:.1f} kB")
    parts = summary.get("bytes_per_change_by_part", {})
    if parts:
        print("  of which (mean kB): " + ", ".join(f"{k} {v / 1e3:.1f}" for k, v in list(parts.items())[:8]))
    print(f"  server CPU {summary['server_cpu_s']:.2f} s over {summary['wall_s']:.0f} s: "
          f"{summary['server_cpu_ms_per_run']:.1f} ms per run (user {summary['server_user_ms_per_run']:.1f}, "
          f"kernel {summary['server_system_ms_per_run']:.1f}; {summary['reruns_per_s']:.1f} runs/s); "
          f"{summary['server_cpu_ms_per_run_minus_idle']:.1f} ms without the idle "
          f"{summary['idle_cpu_s_per_s'] * 1000:.0f} ms/s")
    if "nginx_cpu_ms_per_run" in summary:
        print(f"  nginx CPU {summary['nginx_cpu_ms_per_run']:.1f} ms per run (not in the figure above)")
    rss = summary.get("rss") or {}
    if rss:
        print(f"  server RSS {rss['start_mb']:.0f} MB at the start, peak {rss['peak_mb']:.0f} MB, "
              f"{rss['end_mb']:.0f} MB at the end ({rss['second_half_growth_mb']:+.1f} MB over the second half)")
    print(f"  fds before {fds['before']}  peak {fds['peak']}  {fds['linger_s']:.0f} s after close "
          f"{fds['after_close']}" + (f"  {fds['late_check_s']:.0f} s after close {fds['late_check']}"
                                     if "late_check" in fds else ""))
    for e in summary["errors"][:5]:
        print(f"  error: {e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default=APP, help=f"app to drive (default {APP})")
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the sessions keep changing")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between one session's changes")
    parser.add_argument("--linger", type=float, default=30.0, help="seconds after close before counting fds")
    parser.add_argument("--late-check", type=float, default=0.0, metavar="S",
                        help="also count fds S seconds after close (past server.disconnectedSessionTTL, 120 s)")
    parser.add_argument("--baseline", action="store_true", help=f"also drive {MINIMAL_APP} in the same run")
    parser.add_argument("--no-warm-up", action="store_true", help="count first-use caching in the figures")
    parser.add_argument("--ws-compression", choices=("on", "off", "config"), default="config",
                        help="server.enableWebsocketCompression for both servers (config: as .streamlit/config.toml)")
    parser.add_argument("--replicas", type=int, default=1,
                        help="more than 1: drive the documented deployment instead, that many replicas behind "
                             "Debian's nginx (deploy/nginx.conf) on loopback; the bare app too")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="a Streamlit config option for both servers, over .streamlit/config.toml "
                             "(e.g. runner.postScriptGC=false); repeatable")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--log", type=Path, help="write the server's output to this file")
    args = parser.parse_args(argv)
    for name in ("sessions", "seconds", "interval"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    if args.replicas < 1:
        parser.error(f"--replicas must be at least 1, got {args.replicas}")
    if args.linger < 0:
        parser.error(f"--linger must be 0 or more, got {args.linger}")
    settings: dict[str, str] = {}
    for item in args.set:
        option, eq, value = item.partition("=")
        if not eq or "." not in option:
            parser.error(f"--set wants section.option=value, got {item[:80]!r}")
        settings[option.strip()] = value.strip()
    apps = [args.app] + ([MINIMAL_APP] if args.baseline and args.app != MINIMAL_APP else [])
    machine = machine_info() if args.out else {}
    runs = {}
    for app in apps:
        log = args.log.with_suffix(f".{Path(app).stem}.log") if args.log else None
        runs[app] = measure(app, args.sessions, args.seconds, args.interval, args.linger,
                            log_path=log, warm=not args.no_warm_up, late_check=args.late_check,
                            ws_compression=None if args.ws_compression == "config" else args.ws_compression == "on",
                            settings=settings, replicas=args.replicas)
        _print(runs[app])
    payload: dict[str, Any] = {"machine": machine, "settings": {k: v for k, v in vars(args).items() if k != "out"},
                               "runs": runs}
    if MINIMAL_APP in runs and args.app in runs and args.app != MINIMAL_APP:
        a, b = runs[args.app], runs[MINIMAL_APP]
        payload["ratios"] = {
            "cpu_per_run": a["server_cpu_ms_per_run"] / b["server_cpu_ms_per_run"],
            "cpu_per_run_minus_idle": (a["server_cpu_ms_per_run_minus_idle"]
                                       / b["server_cpu_ms_per_run_minus_idle"]),
            "latency_p50": a["change_latency_ms"]["p50"] / b["change_latency_ms"]["p50"],
            "latency_p95": a["change_latency_ms"]["p95"] / b["change_latency_ms"]["p95"],
        }
        print(f"ratios app / bare app: {payload['ratios']}")
    write_json(args.out, payload)
    print(f"wrote {args.out}")
    bad = sum(r["error_count"] + r["exceptions"] for r in runs.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
