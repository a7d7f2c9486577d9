"""Where one rerun's server CPU and websocket bytes go: a sampling profile of the real server.

Starts ``streamlit run explorer/app.py`` (:class:`benchmarks._common.Server`), warms it up, then one
websocket session (the client of :mod:`benchmarks.server_load`, no browser) changes the condition
``--changes`` times, one after the other, while ``py-spy`` samples every thread of the server.
Prints

* the share of the sampled CPU by function (inclusive, our own modules and the big library
  calls), per rerun in milliseconds (samples x interval / reruns);
* what each change sent over the websocket, by element (the 3D viewer, the body chart, markdown,
  ...), from the ``ForwardMsg`` messages themselves.

    pip install py-spy && python benchmarks/profile_rerun.py [--changes 40] [--rate 250]

py-spy is optional: without it only the byte breakdown is printed. Sampling costs the server a
little; CPU figures belong to :mod:`benchmarks.server_load` (ratios against the bare app).
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
from benchmarks.server_load import APP, PICKER_KEYS, Client, Session, run_coroutine, server_env, warm_up

# Frames whose inclusive time is worth a line (substrings of py-spy's "function (file:line)").
INTERESTING: tuple[str, ...] = (
    "explorer/", "plotly/", "json/", "streamlit/runtime/scriptrunner", "streamlit/elements",
    "gc", "protobuf", "_plotly_utils", "markdown",
)


def aggregate(raw: str, top: int = 45) -> list[tuple[str, int]]:
    """Inclusive sample counts per frame from py-spy's raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        seen: set[str] = set()
        for f in frames:
            name = f.split(" (", 1)[0] + " (" + f.split(" (", 1)[1].rsplit(":", 1)[0] + ")" if " (" in f else f
            if name not in seen:
                seen.add(name)
                counts[name] += int(n)
    return counts.most_common(top * 6)


def drive(url: str, changes: int) -> Session:
    async def go() -> Session:
        s = Session(0)
        client = Client(url, PICKER_KEYS[APP], s)
        await client.connect()
        await client.load()
        for n in range(changes):
            await client.change(s.options[(n + 1) % len(s.options)])
        await client.close()
        return s
    return run_coroutine(go())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--ws-compression", choices=("on", "off", "config"), default="config",
                        help="server.enableWebsocketCompression (config: as .streamlit/config.toml)")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") if args.top > 0 else None
    compression = None if args.ws_compression == "config" else args.ws_compression == "on"
    log = Path(tempfile.mkdtemp()) / "server.log"
    with server_env(compression), Server(APP, log_path=log) as server:
        server.wait_ready(600.0)
        warm_up(server, PICKER_KEYS[APP])
        # The app's own start-up warm-up (explorer/ui/startup.py) runs after the first page run; sampled
        # with the reruns it would count its seconds of CPU against them (up to 18 ms a run before).
        waited = server.wait_warmed_up(600.0)
        print(f"app warm-up finished {waited if waited is None else round(waited, 1)} s after the warm-up session")
        out = Path(tempfile.mkdtemp()) / "profile.txt"
        proc = None
        if spy:
            proc = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--rate", str(args.rate),
                                     "--format", "raw", "--output", str(out), "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.5)  # py-spy attaches
        t0 = time.perf_counter()
        s = drive(server.url, args.changes)
        wall = time.perf_counter() - t0
        if proc is not None:
            proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
            proc.wait(timeout=60)
    runs = s.runs_finished
    print(f"{args.changes} changes, {runs} runs in {wall:.1f} s; errors: {s.errors[:3]}")
    parts: Counter[str] = Counter()
    for c in s.changes:
        parts.update(c.parts)
    total = sum(c.bytes_in for c in s.changes) / max(1, len(s.changes))
    wire = sum(c.wire_bytes for c in s.changes) / max(1, len(s.changes))
    print(f"websocket bytes per change (mean {total / 1e3:.1f} kB; on the wire {wire / 1e3:.1f} kB), by part:")
    for name, b in parts.most_common(25):
        print(f"  {b / len(s.changes) / 1e3:8.2f} kB  {name}")
    if proc is not None and out.exists():
        samples = aggregate(out.read_text(), args.top)
        ms = 1000.0 / args.rate / max(1, runs + 1)  # +1: the load
        print(f"sampled CPU per run (ms, inclusive; {1000 / args.rate:.0f} ms per sample):")
        shown = 0
        for name, n in samples:
            if any(k in name for k in INTERESTING) and shown < args.top:
                print(f"  {n * ms:7.1f}  {name}")
                shown += 1
        print(f"raw profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
