"""explorer/ui/first_load.py: gzip once per file for static files, and the page's preload hints.

The middleware is driven directly through ASGI (no server): a small app stands in for Streamlit
and answers like its static handlers do. The hints are checked against the installed Streamlit's
own files, so an upgrade that renames its chunks fails here instead of silently preloading nothing.
"""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest
from support import run_coroutine

from explorer.frontend import ASSET_DIR
from explorer.ui import first_load
from explorer.ui.first_load import FirstLoadMiddleware, GzipCache

SCRIPT = b"export function f() { return 'lumbar'; }\n" * 400  # 16 KB of compressible text
PAGE = b"<!DOCTYPE html><html><head><title>x</title></head><body>" + b"<div></div>" * 200 + b"</body></html>"


class FakeStreamlit:
    """Answers like Streamlit's handlers: files with their caching headers, the page, a websocket.
    Records the request headers it saw."""

    def __init__(self) -> None:
        self.seen: list[dict[bytes, bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "hello"})
            return
        self.seen.append(dict(scope["headers"]))
        path = scope["path"]
        if path.endswith(".js"):
            status, body = 200, SCRIPT
            headers = [(b"content-type", b"application/javascript"), (b"etag", b'"abc"'),
                       (b"cache-control", b"public, immutable, max-age=31536000")]
            if dict(scope["headers"]).get(b"if-none-match") == b'W/"abc"':
                status, body = 304, b""
        elif path.endswith(".woff2"):
            status, body, headers = 200, b"\x00" * 5000, [(b"content-type", b"font/woff2")]
        elif path.startswith("/_stcore/"):
            status, body, headers = 200, b"ok" * 1000, [(b"content-type", b"text/plain")]
        else:
            status, body = 200, PAGE
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"etag", b'"page"'),
                       (b"cache-control", b"no-cache")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        half = len(body) // 2  # in two chunks, as a file response may send it
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": body[half:], "more_body": False})


def call(app: Any, path: str, headers: dict[str, str] | None = None, method: str = "GET"
         ) -> tuple[int, dict[str, str], bytes]:
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_coroutine(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    head = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], head, body


@pytest.fixture
def app():
    inner = FakeStreamlit()
    return FirstLoadMiddleware(inner, cache=GzipCache()), inner


@pytest.fixture
def no_hints(monkeypatch):
    monkeypatch.delenv(first_load.PRELOAD_ENV, raising=False)
    first_load.preload_kinds.cache_clear()
    first_load.page_hints.cache_clear()
    yield
    first_load.preload_kinds.cache_clear()
    first_load.page_hints.cache_clear()


@pytest.fixture
def all_hints(monkeypatch):
    monkeypatch.setenv(first_load.PRELOAD_ENV, "all")
    first_load.preload_kinds.cache_clear()
    first_load.page_hints.cache_clear()
    yield
    first_load.preload_kinds.cache_clear()
    first_load.page_hints.cache_clear()


def test_static_files_are_gzipped_once_keeping_their_caching_headers(app, no_hints):
    mw, inner = app
    for _ in range(3):
        status, head, body = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "gzip, deflate, br"})
        assert status == 200 and head["content-encoding"] == "gzip" and gzip.decompress(body) == SCRIPT
        assert head["cache-control"] == "public, immutable, max-age=31536000"
        assert head["etag"] == 'W/"abc"' and head["vary"] == "Accept-Encoding"
        assert int(head["content-length"]) == len(body) < len(SCRIPT) // 5
    assert mw.cache.compressed == 1  # compressed once, then served from memory
    # Streamlit's own gzip below never sees an Accept-Encoding (it would compress again per request).
    assert all(b"accept-encoding" not in seen for seen in inner.seen)


def test_what_is_not_compressed_passes_through(app, no_hints):
    mw, _ = app
    _, head, body = call(mw, "/static/js/index.abc.js")  # no Accept-Encoding
    assert "content-encoding" not in head and body == SCRIPT
    _, head, body = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert "content-encoding" not in head  # a range request: untouched
    _, head, body = call(mw, "/static/media/font.woff2", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in head and len(body) == 5000  # already compressed formats
    status, head, _ = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "gzip", "If-None-Match": 'W/"abc"'})
    assert status == 304 and "content-encoding" not in head  # the weak ETag still validates
    _, head, body = call(mw, "/_stcore/host-config", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in head and body == b"ok" * 1000  # Streamlit's API: not ours
    status, _, _ = call(mw, "/static/js/index.abc.js", {"Accept-Encoding": "gzip"}, method="HEAD")
    assert status == 200


def test_websockets_pass_through(app):
    mw, _ = app
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_coroutine(mw({"type": "websocket", "path": "/_stcore/stream", "headers": []}, receive, send))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]


def test_the_page_is_unchanged_without_hints(app, no_hints):
    mw, _ = app
    _, head, body = call(mw, "/", {"Accept-Encoding": "gzip"})
    assert gzip.decompress(body) == PAGE and head["etag"] == 'W/"page"'


def test_the_page_carries_the_preload_hints(app, all_hints):
    mw, inner = app
    _, head, body = call(mw, "/", {"Accept-Encoding": "gzip", "If-None-Match": '"page"'})
    page = gzip.decompress(body).decode()
    assert first_load.HINTS_MARK in page and page.index(first_load.HINTS_MARK) < page.index("</head>")
    assert "etag" not in head and "last-modified" not in head  # no browser keeps a copy with stale hints
    assert b"if-none-match" not in inner.seen[-1]
    links = re.findall(r'<link rel="(\w+)"(?: as="(\w+)")?( crossorigin)? href="([^"]+)">', page)
    hrefs = {href for _, _, _, href in links}
    assert re.search(r"/static/js/BidiComponent\.[\w-]+\.js", " ".join(hrefs))  # Streamlit's component chunk
    assert "/_stcore/bidi-components/explorer.viewer3d/viewer3d.js" in hrefs
    assert "/_stcore/bidi-components/explorer.viewer3d/plotly_loader.js" in hrefs
    assert "/_stcore/bidi-components/explorer.chart2d/chart2d.js" in hrefs
    from explorer.frontend.plotly_assets import plotly_url

    assert ("preload", "script", "", plotly_url()) in links
    # Another page path of the app (Streamlit serves the page for it) gets them too; a script does not.
    assert first_load.HINTS_MARK in gzip.decompress(call(mw, "/some-page", {"Accept-Encoding": "gzip"})[2]).decode()
    assert first_load.HINTS_MARK.encode() not in gzip.decompress(call(mw, "/static/js/a.js", {"Accept-Encoding": "gzip"})[2])


def test_every_first_screen_chunk_exists_in_this_streamlit():
    js_dir = first_load.streamlit_static_dir() / "static" / "js"
    found = first_load.streamlit_chunks(js_dir)
    for prefix in first_load.FIRST_SCREEN_CHUNKS:
        assert any(re.fullmatch(re.escape(prefix) + r"\.[\w-]+\.js", f) for f in found), prefix


def test_module_graph_follows_the_viewers_imports():
    graph = first_load.module_graph(ASSET_DIR, "viewer3d.js")
    assert graph[0] == "viewer3d.js"
    assert {"plotly_loader.js", "gl_workarounds.js", "geometry.js", "camera.js"} <= set(graph)
    for name in graph:  # each one named by an import somewhere in the graph (nothing invented)
        assert (ASSET_DIR / name).is_file()


def test_warm_compressed_fills_the_cache_with_the_first_load():
    cache = GzipCache()
    assert first_load.warm_compressed(cache) >= 10
    index = (first_load.streamlit_static_dir() / "index.html").read_text()
    script = re.search(r'src="\./(static/js/index\.[\w-]+\.js)"', index)
    assert script
    body = (first_load.streamlit_static_dir() / script.group(1)).read_bytes()
    assert cache.get(cache.key(f"/{script.group(1)}", body)) is not None


def test_the_cache_drops_the_least_recently_used_past_its_limit():
    cache = GzipCache(max_bytes=1)
    a = cache.compress("/a.js", SCRIPT)
    cache.compress("/b.js", SCRIPT + b"x")
    assert cache.get(cache.key("/a.js", SCRIPT)) is None and gzip.decompress(a) == SCRIPT
    assert cache.get(cache.key("/b.js", SCRIPT + b"x")) is not None


# --------------------------------------------------------------------------- committed Brotli copies


def test_the_plotly_bundle_goes_as_its_brotli_copy_to_browsers_that_ask(monkeypatch, tmp_path, no_hints):
    """A committed ``.br`` copy is sent only for the exact bytes it was made from (size and CRC-32 in
    the manifest); otherwise gzip, or the file as it is."""
    import json
    import zlib

    from explorer.frontend import plotly_assets

    name = plotly_assets.PLOTLY_FILENAME
    copy = b"not really brotli, but the bytes the middleware must send unchanged"
    (tmp_path / (name + ".br")).write_bytes(copy)
    (tmp_path / plotly_assets.PRECOMPRESSED_MANIFEST).write_text(json.dumps(
        {name: {"br": name + ".br", "size": len(SCRIPT), "crc32": zlib.crc32(SCRIPT)}}))
    monkeypatch.setattr(plotly_assets, "STATIC_DIR", tmp_path)
    plotly_assets._manifest.cache_clear()  # noqa: SLF001 - the test swaps the folder
    mw = FirstLoadMiddleware(FakeStreamlit(), cache=GzipCache())
    url = f"/app/static/{name}"
    _, head, body = call(mw, url, {"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert head["content-encoding"] == "br" and body == copy and int(head["content-length"]) == len(copy)
    assert head["vary"] == "Accept-Encoding" and head["etag"] == 'W/"abc"'
    assert head["cache-control"] == "public, immutable, max-age=31536000"
    # no "br" (or refused with q=0): gzip as before
    for accept in ("gzip", "gzip, br;q=0"):
        _, head, body = call(mw, url, {"Accept-Encoding": accept})
        assert head["content-encoding"] == "gzip" and gzip.decompress(body) == SCRIPT
    # only "br": the copy; nothing accepted: the file
    assert call(mw, url, {"Accept-Encoding": "br"})[2] == copy
    assert call(mw, url)[2] == SCRIPT
    # another file of the folder has no copy: gzip
    assert call(mw, "/app/static/other.js", {"Accept-Encoding": "br, gzip"})[1]["content-encoding"] == "gzip"
    # the bundle changed since the copy was made: never the stale copy
    (tmp_path / plotly_assets.PRECOMPRESSED_MANIFEST).write_text(json.dumps(
        {name: {"br": name + ".br", "size": len(SCRIPT), "crc32": zlib.crc32(SCRIPT) ^ 1}}))
    plotly_assets._manifest.cache_clear()  # noqa: SLF001
    _, head, body = call(mw, url, {"Accept-Encoding": "br, gzip"})
    assert head["content-encoding"] == "gzip" and gzip.decompress(body) == SCRIPT
    plotly_assets._manifest.cache_clear()  # noqa: SLF001


def test_the_committed_brotli_copy_is_the_committed_bundle():
    """explorer/static/plotly-gl3d.min.js.br decompresses (with Node's zlib, as in the JS tests) to
    exactly the bundle, and the manifest names it: re-run ``python -m explorer.frontend.plotly_assets``
    after updating the bundle."""
    import shutil
    import subprocess

    from explorer.frontend import plotly_assets

    bundle = plotly_assets.plotly_bundle_path().read_bytes()
    copy = plotly_assets.precompressed(plotly_assets.PLOTLY_FILENAME, bundle)
    assert copy is not None, "no Brotli copy for this bundle: python -m explorer.frontend.plotly_assets"
    assert len(copy) < 0.85 * len(gzip.compress(bundle, 6))
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node is needed for the JavaScript tests and this check (README: the test command)")
    out = subprocess.run([node, "-e", ("process.stdout.write(require('zlib').brotliDecompressSync("
                          "require('fs').readFileSync(process.argv[1])))"),
                          str(plotly_assets.STATIC_DIR / (plotly_assets.PLOTLY_FILENAME + ".br"))],
                         capture_output=True, check=True, timeout=120)
    assert out.stdout == bundle
