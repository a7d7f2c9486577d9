"""Where the server's CPU goes under a crowd: a sampling profile of ``streamlit run`` while N
websocket sessions (the client of :mod:`benchmarks.server_load`, no browser) change the condition.

:mod:`benchmarks.profile_rerun` profiles one session's reruns one after the other; this one
profiles the load of :mod:`benchmarks.server_load` itself (60 sessions, one change every 5 s each),
so the costs that grow with the number of sessions (the event loop, per-session bookkeeping,
websocket compression, the forward-message queue) show up next to the script runs. Prints the
sampled CPU per script run (ms), by thread kind (the script threads, the event loop), by
function (inclusive) for the frames worth a line, and the top self-time functions.

    pip install py-spy
    python benchmarks/profile_load.py [--app benchmarks/minimal_app.py] [--sessions 60] [--seconds 40]

py-spy samples the server from outside (``py-spy record --pid``); it costs the server a little,
so the CPU figures of record are :mod:`benchmarks.server_load`'s (ratios against the bare app).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Server
from benchmarks.server_load import APP, PICKER_KEYS, cpu_seconds, drive, run_coroutine, server_env, warm_up

# Frames whose inclusive time is worth a line (substrings of py-spy's "function (file:line)").
INTERESTING: tuple[str, ...] = (
    "explorer/", "plotly/", "json/", "streamlit/", "gc", "protobuf", "_plotly_utils", "markdown",
    "websocket", "tornado/", "starlette/", "uvicorn/", "asyncio/", "zlib", "deflate", "compress",
)


def frame_name(frame: str) -> str:
    """``"collect (gc)"`` style: the function and its file, without the line number."""
    if " (" not in frame:
        return frame
    func, rest = frame.split(" (", 1)
    return f"{func} ({rest.rsplit(':', 1)[0].rstrip(')')})"


def parse(raw: str) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output as (frames root first, samples)."""
    out: list[tuple[list[str], int]] = []
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if n.isdigit():
            out.append((stack.split(";"), int(n)))
    return out


def thread_kind(frames: list[str]) -> str:
    """Which of the server's threads a stack belongs to, from its frames."""
    text = ";".join(frames)
    if "_run_script_thread" in text or "script_runner" in text:
        return "script thread"
    if "run_forever" in text or "_run_once" in text or "uvicorn" in text or "tornado" in text:
        return "event loop"
    return "other"


def report(raw: str, rate: int, runs: int, top: int) -> None:
    stacks = parse(raw)
    total = sum(n for _, n in stacks)
    ms = 1000.0 / rate / max(1, runs)
    kinds: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, n in stacks:
        kinds[thread_kind(frames)] += n
        for name in {frame_name(f) for f in frames}:
            inclusive[name] += n
        own[frame_name(frames[-1])] += n
    print(f"sampled CPU per run: {total * ms:.1f} ms ({total} samples, {runs} runs)")
    for kind, n in kinds.most_common():
        print(f"  {n * ms:7.1f}  {kind}")
    print("inclusive, frames worth a line (ms per run):")
    shown = 0
    for name, n in inclusive.most_common():
        if any(k in name for k in INTERESTING) and shown < top:
            print(f"  {n * ms:7.1f}  {name}")
            shown += 1
    print("self time (ms per run):")
    for name, n in own.most_common(top):
        print(f"  {n * ms:7.1f}  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default=APP)
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--ws-compression", choices=("on", "off", "config"), default="config")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="a Streamlit config option for the server (e.g. runner.postScriptGC=false)")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (Python CPU; native code that "
                             "releases the GIL, such as zlib, is then not seen)")
    parser.add_argument("--out", type=Path, help="keep py-spy's raw profile here")
    args = parser.parse_args(argv)
    settings = dict(item.partition("=")[::2] for item in args.set)
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy not found: pip install py-spy")
    compression = None if args.ws_compression == "config" else args.ws_compression == "on"
    picker = PICKER_KEYS.get(args.app, "condition")
    out = args.out or Path(tempfile.mkdtemp()) / "profile.txt"
    with server_env(compression, settings), Server(args.app) as server:
        server.wait_ready(600.0)
        warm_up(server, picker)
        pid = server.proc.pid
        proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", str(args.rate), "--threads",
                                 "--format", "raw", "--output", str(out), "--nonblocking",
                                 *(["--gil"] if args.gil else [])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # py-spy attaches
        cpu0 = cpu_seconds(pid)
        result = run_coroutine(drive(server.url, picker, args.sessions, args.seconds, args.interval, pid))
        cpu = cpu_seconds(pid) - cpu0
        proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
        proc.wait(timeout=60)
    runs = sum(s.runs_finished for s in result["sessions"])
    errors = [e for s in result["sessions"] for e in s.errors]
    print(f"{args.app}: {args.sessions} sessions, {runs} runs in {result['wall_s']:.0f} s, "
          f"server CPU {cpu * 1000 / max(1, runs):.1f} ms per run (py-spy attached); errors {len(errors)}")
    if out.exists():
        report(out.read_text(), args.rate, runs, args.top)
        print(f"raw profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
