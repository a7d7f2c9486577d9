"""explorer/ui/brotli_copies.py: build-time Brotli copies of Streamlit's files, and how they are sent.

The copies are made here with Node's zlib (the encoder used when the ``brotli`` module is absent,
as in CI) from a small stand-in for Streamlit's static folder, and decompressed again with Node.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_first_load import SCRIPT, FakeStreamlit, call

from explorer.ui import brotli_copies
from explorer.ui.first_load import FirstLoadMiddleware, GzipCache

CSS = b".a{color:red}\n" * 200


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node is needed for the JavaScript tests and this check (README: the test command)")
    return node


def _unbrotli(data: bytes) -> bytes:
    out = subprocess.run([_node(), "-e", ("process.stdout.write(require('zlib').brotliDecompressSync("
                                          "require('fs').readFileSync(0)))")], input=data, capture_output=True, check=True, timeout=60)
    return out.stdout


@pytest.fixture
def static(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "static" / "js").mkdir(parents=True)
    (root / "static" / "css").mkdir(parents=True)
    (root / "static" / "media").mkdir(parents=True)
    (root / "static" / "js" / "index.abc.js").write_bytes(SCRIPT)
    (root / "static" / "css" / "index.def.css").write_bytes(CSS)
    (root / "static" / "js" / "tiny.js").write_bytes(b"export {};\n")  # under MIN_BYTES
    (root / "static" / "media" / "font.woff2").write_bytes(b"\x00" * 5000)  # compressed already
    return root


def test_copies_are_made_for_compressible_files_and_decompress_to_them(static, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)  # force the Node encoder (as in CI)
    out = tmp_path / "br"
    info = brotli_copies.build(out, static_dir=static, node=_node())
    assert info["encoder"] == "node zlib"
    assert sorted(info["files"]) == ["static/css/index.def.css", "static/js/index.abc.js"]
    for rel, original in (("static/js/index.abc.js", SCRIPT), ("static/css/index.def.css", CSS)):
        data = (out / info["files"][rel]["br"]).read_bytes()
        assert _unbrotli(data) == original
        assert len(data) < len(gzip.compress(original, 6))  # smaller than the gzip it replaces
        assert brotli_copies.lookup("/" + rel, original, out) == data
    # Not the bytes it was made from (Streamlit upgraded, same name): no copy.
    assert brotli_copies.lookup("/static/js/index.abc.js", SCRIPT + b"\n", out) is None
    assert brotli_copies.lookup("/static/js/tiny.js", b"export {};\n", out) is None
    # A manifest pointing outside its folder is refused.
    (out / brotli_copies.MANIFEST).write_text(json.dumps({"files": {"static/js/index.abc.js": {
        "size": len(SCRIPT), "crc32": info["files"]["static/js/index.abc.js"]["crc32"], "br": "../../etc/passwd"}}}))
    assert brotli_copies.lookup("/static/js/index.abc.js", SCRIPT, out) is None


def test_the_middleware_sends_a_copy_only_to_browsers_that_accept_br(static, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)
    out = tmp_path / "br"
    brotli_copies.build(out, static_dir=static, node=_node())
    monkeypatch.setenv(brotli_copies.DIR_ENV, str(out))
    mw = FirstLoadMiddleware(FakeStreamlit(), cache=GzipCache())
    status, head, body = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert status == 200 and head["content-encoding"] == "br" and _unbrotli(body) == SCRIPT
    assert int(head["content-length"]) == len(body) and head["vary"] == "Accept-Encoding"
    assert head["cache-control"] == "public, immutable, max-age=31536000" and head["etag"] == 'W/"abc"'
    for accept in ("gzip", "gzip, br;q=0"):
        _, head, body = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": accept})
        assert head["content-encoding"] == "gzip" and gzip.decompress(body) == SCRIPT
    # Not Streamlit's folder (the components' files): no build-time copy, gzip.
    _, head, _ = call(mw, "/_stcore/bidi-components/explorer.viewer3d/x.js", {"Accept-Encoding": "br, gzip"})
    assert head["content-encoding"] == "gzip"
    # Without the folder: gzip, as before.
    monkeypatch.setenv(brotli_copies.DIR_ENV, str(tmp_path / "none"))
    _, head, _ = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "br, gzip"})
    assert head["content-encoding"] == "gzip"


def test_the_command_needs_an_encoder(static, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)
    monkeypatch.setattr(brotli_copies.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="brotli"):
        brotli_copies.build(tmp_path / "br", static_dir=static)
