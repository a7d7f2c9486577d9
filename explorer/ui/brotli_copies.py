"""Brotli copies of Streamlit's own scripts and styles, made once when the image is built.

Streamlit sends its front end uncompressed (``explorer/ui/first_load.py`` gzips each file once per
process). Brotli at its best setting is about a sixth smaller than that gzip on these files
(Streamlit 1.67's first-load scripts: 658 kB gzipped, 553 kB as Brotli; 2026-12-06), but quality 11
is slow (about 4 s of CPU for those 2.8 MB, 30-40 s for all 23 MB of Streamlit's scripts), far too
slow for a server's start on two shared cores, and Python's standard library has no Brotli encoder.
So the copies are made ahead of time: the Dockerfile runs

    python -m explorer.ui.brotli_copies

which writes ``build/brotli/`` (``<path below streamlit/static>.br`` and ``manifest.json`` with the
size and CRC-32 of each file a copy was made from, and Streamlit's version). It uses the
``brotli`` module when installed (the Dockerfile installs it for that step only), else Node's
zlib (Node >= 11). The app never needs either: :class:`explorer.ui.first_load.FirstLoadMiddleware`
reads the folder (``LUMBAR_BROTLI_DIR``, default ``build/brotli`` in the project) and sends a
copy to browsers that accept ``br``, only while the file Streamlit serves has the recorded size
and CRC-32 (an upgraded Streamlit without new copies is sent gzipped, never a stale copy). A plain
``streamlit run`` without the folder sends gzip, as before; running the command once (with Node
or ``brotli``) gives it the copies too.

Why not nginx's own ``brotli_static``/``gzip_static``: they serve files from nginx's disk, not
proxied responses, so nginx would need Streamlit's static folder of the app image; and Debian's
Brotli modules (``libnginx-mod-http-brotli-*``) do not load into the official nginx image the
compose file runs. Copies sent by the app work behind any proxy and without one.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

from explorer.settings import PROJECT_ROOT

DIR_ENV: str = "LUMBAR_BROTLI_DIR"
DEFAULT_DIR: Path = PROJECT_ROOT / "build" / "brotli"
MANIFEST: str = "lumbar-brotli.json"  # not manifest.json: Streamlit has one of its own
# What is worth compressing in Streamlit's static folder (fonts and images are compressed already;
# index.html is rewritten per request by the middleware).
SUFFIXES: tuple[str, ...] = (".js", ".css", ".json", ".svg", ".txt", ".map")
MIN_BYTES: int = 1024
# Served below Streamlit's base URL path at /<relative path> (Streamlit serves static/ at /).
URL_ROOT: str = "/"


def copies_dir() -> Path:
    """Where the copies are (``LUMBAR_BROTLI_DIR`` or ``build/brotli`` in the project)."""
    raw = os.environ.get(DIR_ENV, "").strip()
    return Path(raw) if raw else DEFAULT_DIR


@functools.lru_cache(maxsize=4)
def _manifest(folder: Path, mtime_ns: int) -> dict[str, Any]:
    del mtime_ns  # part of the key: a rebuilt folder is read again
    try:
        value = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    files = value.get("files") if isinstance(value, dict) else None
    return files if isinstance(files, dict) else {}


def manifest(folder: Path | None = None) -> dict[str, Any]:
    """``relative path -> {"size", "crc32", "br"}`` of the copies in ``folder`` (empty if none)."""
    folder = folder or copies_dir()
    try:
        mtime = (folder / MANIFEST).stat().st_mtime_ns
    except OSError:
        return {}
    return _manifest(folder, mtime)


def lookup(path: str, body: bytes, folder: Path | None = None) -> bytes | None:
    """The Brotli copy of Streamlit's file at URL ``path`` (below the base URL path), if it was made
    from exactly ``body``; else ``None``."""
    folder = folder or copies_dir()
    rel = path.removeprefix(URL_ROOT)
    entry = manifest(folder).get(rel)
    if not isinstance(entry, dict) or entry.get("size") != len(body) or entry.get("crc32") != zlib.crc32(body):
        return None
    copy = (folder / str(entry.get("br", ""))).resolve()
    if not copy.is_relative_to(folder.resolve()):
        return None
    try:
        return copy.read_bytes()
    except OSError:
        return None


# --------------------------------------------------------------------------- making them


_NODE_BATCH = (
    "const z=require('zlib'),fs=require('fs');const pairs=JSON.parse(fs.readFileSync(process.argv[1],'utf8'));"
    "for(const [src,dst] of pairs){const b=fs.readFileSync(src);fs.writeFileSync(dst,z.brotliCompressSync(b,{params:{"
    "[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_LGWIN]:24,"
    "[z.constants.BROTLI_PARAM_SIZE_HINT]:b.length}}));}"
)


def _compress_all(pairs: list[tuple[Path, Path]], node: str | None) -> str:
    """Write each ``dst`` as the Brotli (quality 11) of ``src``; returns the encoder used."""
    try:
        import brotli  # type: ignore[import-not-found]  # optional: only this build step uses it
    except ImportError:
        brotli = None
    if brotli is not None:
        for src, dst in pairs:
            dst.write_bytes(brotli.compress(src.read_bytes(), quality=11, lgwin=24))
        return "brotli module"
    node = node or shutil.which("node")
    if not node:
        raise SystemExit("Brotli copies need the `brotli` module (pip install brotli) or Node.js (node)")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([[str(s), str(d)] for s, d in pairs], f)
    try:
        subprocess.run([node, "-e", _NODE_BATCH, f.name], check=True, timeout=1800)
    finally:
        os.unlink(f.name)
    return "node zlib"


def build(out: Path, static_dir: Path | None = None, node: str | None = None) -> dict[str, Any]:
    """Make the copies of every compressible file of Streamlit's static folder in ``out``.

    Parameters
    ----------
    out : Path
        Folder to (re)write; its old copies are removed first.
    static_dir : Path, optional
        Streamlit's ``static`` folder (the installed Streamlit's by default).
    node : str, optional
        Node executable for when the ``brotli`` module is not installed.

    Returns
    -------
    dict
        The manifest written (``streamlit``, ``encoder``, ``files``).
    """
    import streamlit

    from explorer.ui.first_load import streamlit_static_dir

    static = static_dir or streamlit_static_dir()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files: dict[str, dict[str, Any]] = {}
    pairs: list[tuple[Path, Path]] = []
    for src in sorted(static.rglob("*")):
        if not src.is_file() or src.suffix not in SUFFIXES or src.stat().st_size < MIN_BYTES:
            continue
        rel = src.relative_to(static).as_posix()
        dst = out / (rel + ".br")
        dst.parent.mkdir(parents=True, exist_ok=True)
        body = src.read_bytes()
        files[rel] = {"size": len(body), "crc32": zlib.crc32(body), "br": rel + ".br"}
        pairs.append((src, dst))
    encoder = _compress_all(pairs, node)
    # A copy that is not smaller is not worth sending.
    for rel, entry in list(files.items()):
        if (out / entry["br"]).stat().st_size >= entry["size"]:
            (out / entry["br"]).unlink()
            del files[rel]
    info = {"streamlit": streamlit.__version__, "encoder": encoder, "files": files}
    (out / MANIFEST).write_text(json.dumps(info, indent=0, sort_keys=True) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Brotli copies of Streamlit's static files (build time).")
    parser.add_argument("--out", type=Path, default=None, help=f"folder to write (default: ${DIR_ENV} or build/brotli)")
    args = parser.parse_args(argv)
    out = args.out or copies_dir()
    info = build(out)
    raw = sum(int(e["size"]) for e in info["files"].values())
    packed = sum((out / e["br"]).stat().st_size for e in info["files"].values())
    print(f"{len(info['files'])} Brotli copies in {out} ({info['encoder']}): {raw / 1e6:.1f} MB -> {packed / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
