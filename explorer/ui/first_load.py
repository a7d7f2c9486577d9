"""The browser's first load, faster and smaller: preload hints in the page, gzip with a cache.

Measured (2026-12-06, headless Chromium, ``streamlit run`` on loopback): the 3D view waited on a
chain of requests that each started only when the one before had finished. The page's first
script run sent the viewer; only then did the browser fetch Streamlit's chunk for components
(``BidiComponent.*.js``, with two more chunks it imports: 0.6 s, the server busy with the run),
then the viewer's modules (0.1 s), then ``plotly-gl3d.min.js`` (0.5 s), then evaluated Plotly.
And Streamlit sends its own scripts and styles uncompressed (about 3.5 MB of the 4.8 MB first
load; 1.2 MB gzipped), on purpose: Starlette's ``GZipMiddleware`` would compress them again on
every request (``streamlit/web/server/starlette/starlette_gzip_middleware.py``).

:class:`FirstLoadMiddleware` (passed to ``st.App`` by ``explorer/app.py``; it runs before
Streamlit's own middleware) does two things for plain HTTP requests (websockets pass through
untouched):

* **The page** (``index.html``, whatever path it is served for) gets ``<link rel=preload>`` /
  ``<link rel=modulepreload>`` hints for everything the first screen will ask for later:
  Streamlit's component chunk and the widget chunks of the sidebar, both components' modules
  (``explorer/frontend/*.js``, their import graph read from the files) and the Plotly bundle.
  The browser fetches them while it starts Streamlit's own scripts, and the viewer finds them in
  its cache. The page is then sent without ``ETag``/``Last-Modified`` (it stays ``no-cache``), so
  a browser never keeps a copy with stale hints.
* **Static files** (Streamlit's ``/static/``, ``/app/static/``, the components' files) are sent
  gzipped to browsers that accept it, compressed **once per file per process** and kept in
  memory (:class:`GzipCache`), so the CPU cost Streamlit avoids is paid once, not per request.
  The headers Streamlit set stay (``Cache-Control: public, immutable, max-age=...`` for its
  hashed files); ``Content-Encoding``, ``Content-Length`` and ``Vary: Accept-Encoding`` are
  added, and the ``ETag`` becomes weak, as nginx does. Range requests and anything other than a
  complete ``200`` pass through unchanged. :func:`warm_compressed` (run by the start-up warm-up)
  compresses the first load's files before a browser asks.

``deploy/nginx.conf`` still compresses and preloads for replicas behind it; responses already
gzipped here pass through nginx unchanged.
"""

from __future__ import annotations

import asyncio
import gzip
import html
import json
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any

from streamlit.logger import get_logger

from explorer.frontend import ASSET_DIR, PROJECT_NAME
from explorer.ui import brotli_copies, icon_font

_LOG = get_logger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

# Below these URL prefixes (after the base URL path), responses are files that never change while
# the process runs: compressed once and cached.
ASSET_PREFIXES: tuple[str, ...] = ("/static/", "/app/static/", "/_stcore/bidi-components/")
# Never the page: Streamlit's API, media and v1 components.
NOT_PAGE_PREFIXES: tuple[str, ...] = ("/_stcore/", "/media/", "/component/", *ASSET_PREFIXES)
COMPRESSIBLE_TYPES: tuple[str, ...] = ("text/", "application/javascript", "application/json",
                                       "application/x-javascript", "image/svg+xml", "application/manifest+json")
MIN_GZIP_BYTES: int = 1024
GZIP_LEVEL: int = 6  # nginx's gzip_comp_level in deploy/nginx.conf
CACHE_MAX_BYTES: int = 64 * 1024 * 1024  # compressed bytes kept (Streamlit's whole static folder is about 8 MB gzipped)
# Bodies larger than this are compressed on a worker thread, not on the event loop.
THREAD_COMPRESS_BYTES: int = 64 * 1024

# Streamlit's lazily loaded chunks the first screen needs, by the name before the content hash:
# the component chunk (both our views) and the sidebar's widgets. Their static imports are
# preloaded too. tests/test_first_load.py checks every one is found in the pinned Streamlit.
FIRST_SCREEN_CHUNKS: tuple[str, ...] = ("BidiComponent", "Radio", "Selectbox", "Checkbox", "Slider",
                                        "Button", "Html")
COMPONENTS: tuple[tuple[str, str], ...] = (("viewer3d", "viewer3d.js"), ("chart2d", "chart2d.js"))
IMPORTS_HEAD_BYTES: int = 16 * 1024
_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*["']\./([\w.\-]+\.js)["']""")
HINTS_MARK: str = "lumbar-first-load"


# --------------------------------------------------------------------------- what the page preloads


def streamlit_static_dir() -> Path:
    """Streamlit's own front end (``streamlit/static``)."""
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def module_graph(folder: Path, entry: str, limit: int = 200) -> list[str]:
    """``entry`` and every module it imports statically (``from "./x.js"``), transitively.

    Parameters
    ----------
    folder : Path
        Where the modules are (imports are relative to it: ``./x.js`` only).
    entry : str
        File name of the first module.
    limit : int
        At most this many modules.

    Returns
    -------
    list of str
        File names in the order found (entry first); names whose file is missing are left out.
    """
    seen: list[str] = []
    todo = [entry]
    while todo and len(seen) < limit:
        name = todo.pop(0)
        if name in seen or not (folder / name).is_file():
            continue
        seen.append(name)
        with (folder / name).open("rb") as f:  # static imports come first in a module
            head = f.read(IMPORTS_HEAD_BYTES).decode("utf-8", "replace")
        todo += _IMPORT.findall(head)
    return seen


def streamlit_chunks(js_dir: Path, prefixes: Iterable[str] = FIRST_SCREEN_CHUNKS) -> list[str]:
    """Streamlit's hashed chunk files for ``prefixes`` (``Radio`` -> ``Radio.BWQwdNIB.js``) and
    their static imports. A prefix that matches no file (renamed in another Streamlit) is skipped."""
    files = sorted(p.name for p in js_dir.glob("*.js"))
    out: list[str] = []
    for prefix in prefixes:
        match = [f for f in files if re.fullmatch(re.escape(prefix) + r"\.[\w-]+\.js", f)]
        if len(match) != 1:
            _LOG.debug("No single Streamlit chunk named %s.*.js (found %d)", prefix, len(match))
            continue
        out += [f for f in module_graph(js_dir, match[0]) if f not in out]
    return out


@cache
def _base() -> str:
    """``/<server.baseUrlPath>`` or ``""`` (read once: asked on every request)."""
    import streamlit as st

    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _strip_base(path: str, base: str) -> str:
    if base and (path == base or path.startswith(base + "/")):
        return path[len(base):] or "/"
    return path


PRELOAD_ENV: str = "LUMBAR_PRELOAD"
PRELOAD_KINDS: tuple[str, ...] = ("plotly", "components", "chunks", "late", "early")


@cache
def preload_kinds() -> frozenset[str]:
    """What the page preloads, from ``LUMBAR_PRELOAD`` (comma-separated :data:`PRELOAD_KINDS`,
    or ``all``); nothing by default (see the module docstring for the measurements)."""
    import os

    raw = {k.strip().lower() for k in os.environ.get(PRELOAD_ENV, "").split(",") if k.strip()}
    if "all" in raw:
        raw = {"plotly", "components", "chunks"}
    return frozenset(raw & set(PRELOAD_KINDS))


@cache
def page_hints() -> str:
    """The ``<link>`` tags (or the small script adding them) for the page's ``<head>``; ``""``
    when nothing is preloaded (:func:`preload_kinds`)."""
    from explorer.frontend.plotly_assets import plotly_js_version, plotly_url, workarounds_off

    kinds = preload_kinds()
    if not kinds:
        return ""
    base = _base()
    static = streamlit_static_dir()
    index = (static / "index.html").read_text(encoding="utf-8", errors="replace")
    tags: list[str] = [f"<!-- {HINTS_MARK}: explorer/ui/first_load.py -->"]
    links: list[tuple[str, str, str, bool]] = []  # rel, href, as, crossorigin
    for name in streamlit_chunks(static / "static" / "js") if "chunks" in kinds else []:
        if f"/{name}" not in index:  # the page already preloads Streamlit's start-up modules
            links.append(("modulepreload", f"{base}/static/js/{name}", "", True))
    for component, entry in COMPONENTS if "components" in kinds else ():
        folder = f"{base}/_stcore/bidi-components/{PROJECT_NAME}.{component}"
        links += [("modulepreload", f"{folder}/{name}", "", False) for name in module_graph(ASSET_DIR, entry)]
    url = plotly_url()
    if "plotly" in kinds:
        links.append(("preload", url, "script", False))
    if "late" in kinds:
        # Asked for once the page's own scripts and styles have loaded, so they do not slow
        # Streamlit's start (the first script run is still to come).
        data = json.dumps(links).replace("</", "<\\/")
        tags.append(
            '<script>addEventListener("load", () => { for (const [rel, href, as, cors] of '
            f'{data}) {{ const l = document.createElement("link"); l.rel = rel; l.href = href; '
            'if (as) l.as = as; if (cors) l.crossOrigin = ""; document.head.appendChild(l); } });</script>')
    else:
        tags += [f'<link rel="{rel}"' + (f' as="{kind}"' if kind else "") + (" crossorigin" if cors else "")
                 + f' href="{html.escape(href)}">' for rel, href, kind, cors in links]
    if "early" in kinds:
        # Evaluate Plotly once the page has loaded, before the first script run asks for it
        # (the loader keeps one promise per page; the components then get it at once).
        loader = f"{base}/_stcore/bidi-components/{PROJECT_NAME}.viewer3d/plotly_loader.js"
        args = json.dumps([url, plotly_js_version(), workarounds_off()]).replace("</", "<\\/")
        tags.append(
            '<script type="module">addEventListener("load", () => setTimeout(() => '
            f'import("{loader}").then((m) => m.loadPlotly(...{args})).catch(() => {{}}), 0));</script>')
    return "\n".join(tags) + "\n"


def add_hints(page: bytes) -> bytes:
    """The page with :func:`page_hints` just before ``</head>`` (unchanged if there are none, or if
    it has no ``</head>`` or has them already)."""
    hints = page_hints()
    if not hints or HINTS_MARK.encode() in page:
        return page
    at = page.lower().find(b"</head>")
    if at < 0:
        return page
    return page[:at] + hints.encode() + page[at:]


# --------------------------------------------------------------------------- gzip, once per file


class GzipCache:
    """Compressed bodies, keyed by URL path and the body's length and CRC-32, least recently used
    dropped past ``max_bytes`` (thread-safe: the warm-up fills it from its own thread)."""

    def __init__(self, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.compressed = 0  # bodies compressed (a hit costs none)

    @staticmethod
    def key(path: str, body: bytes) -> tuple[str, int, int]:
        return (path, len(body), zlib.crc32(body))

    def get(self, key: tuple[str, int, int]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def compress(self, path: str, body: bytes) -> bytes:
        """The gzipped body, from the cache or compressed now (and kept)."""
        key = self.key(path, body)
        found = self.get(key)
        if found is not None:
            return found
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        with self._lock:
            self.compressed += 1
            if key not in self._items:
                self._items[key] = packed
                self._bytes += len(packed)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)
        return packed


GZIP_CACHE = GzipCache()


def warm_compressed(cache: GzipCache = GZIP_CACHE) -> int:
    """Compress the first load's files before a browser asks (called by the start-up warm-up).

    Returns
    -------
    int
        Number of files compressed.
    """
    from explorer.frontend.plotly_assets import STATIC_URL_PATH, plotly_bundle_path

    static = streamlit_static_dir()
    index = (static / "index.html").read_text(encoding="utf-8", errors="replace")
    paths: dict[str, Path] = {}  # URL path below the base URL path (as the middleware keys them)
    for rel in re.findall(r'(?:src|href)="\./(static/[^"]+\.(?:js|css))"', index):
        paths[f"/{rel}"] = static / rel
    for name in streamlit_chunks(static / "static" / "js"):
        paths[f"/static/js/{name}"] = static / "static" / "js" / name
    for component, entry in COMPONENTS:
        for name in module_graph(ASSET_DIR, entry) + [entry.replace(".js", ".css")]:
            paths[f"/_stcore/bidi-components/{PROJECT_NAME}.{component}/{name}"] = ASSET_DIR / name
    bundle = plotly_bundle_path()
    paths[f"/{STATIC_URL_PATH}/{bundle.name}"] = bundle
    done = 0
    for url, file in paths.items():
        try:
            body = file.read_bytes()
        except OSError:
            continue
        if len(body) >= MIN_GZIP_BYTES:
            cache.compress(url, body)
            done += 1
    return done


# --------------------------------------------------------------------------- the middleware


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    for key, value in headers:
        if key.lower() == name:
            return value
    return b""


def _accepts(accept_encoding: bytes, coding: bytes) -> bool:
    """``coding`` is in the request's ``Accept-Encoding`` (lower case) without ``q=0``."""
    for part in accept_encoding.split(b","):
        name, _, params = part.strip().partition(b";")
        if name.strip() == coding:
            q = params.replace(b" ", b"")
            return not (q.startswith(b"q=0") and q.strip(b"q=0.") == b"")
    return False


def _precompressed_name(path: str) -> str | None:
    """The static file name for a URL path below ``/app/static/`` that has a committed Brotli copy."""
    from explorer.frontend.plotly_assets import PRECOMPRESSED_FILES, STATIC_URL_PATH

    prefix = f"/{STATIC_URL_PATH}/"
    name = path[len(prefix):] if path.startswith(prefix) else ""
    return name if name in PRECOMPRESSED_FILES else None


async def _finish_font(start: Message | None, body: bytes, if_none_match: bytes, send: Any) -> None:
    """Send Streamlit's icon font, or its cut-down copy when it was made from exactly this file
    (:func:`explorer.ui.icon_font.replacement`): then with the copy's own ``ETag`` and
    ``Cache-Control: no-cache`` (a browser revalidates, and gets ``304`` while it holds the copy)."""
    assert start is not None  # a body always follows the start
    headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
    swapped = icon_font.replacement(body)
    status = int(start.get("status", 200))
    if swapped is not None:
        body, etag = swapped
        headers = [(k, v) for k, v in headers
                   if k.lower() not in (b"etag", b"last-modified", b"cache-control", b"accept-ranges")]
        headers += [(b"etag", etag), (b"cache-control", icon_font.CACHE_CONTROL)]
        if etag in [t.strip() for t in if_none_match.split(b",")]:
            status, body = 304, b""
    if status != 304:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class FirstLoadMiddleware:
    """ASGI middleware: preload hints in the page, gzip (cached) for static files; see the module."""

    def __init__(self, app: Any, cache: GzipCache | None = None) -> None:
        self.app = app
        self.cache = cache if cache is not None else GZIP_CACHE

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers") or [])
        path = _strip_base(str(scope.get("path", "")), _base())
        is_asset = path.startswith(ASSET_PREFIXES)
        maybe_page = not path.startswith(NOT_PAGE_PREFIXES)
        if (not is_asset and not maybe_page) or _header(headers, b"range"):
            await self.app(scope, receive, send)
            return
        accepted = _header(headers, b"accept-encoding").lower()
        gzip_ok = b"gzip" in accepted
        # Streamlit's icon font, to be swapped for its cut-down copy (explorer/ui/icon_font.py).
        font = is_asset and icon_font.is_font_path(path)
        font_tag = _header(headers, b"if-none-match") if font else b""
        # A committed Brotli copy (the Plotly bundle: explorer/frontend/plotly_assets.precompressed),
        # or one made at build time of Streamlit's own files (explorer/ui/brotli_copies.py).
        br_ok = _accepts(accepted, b"br")
        br_name = _precompressed_name(path) if br_ok else None
        br_built = br_ok and path.startswith("/static/")
        # Below: Streamlit's own gzip must not compress (per request) what is compressed here once.
        inner = dict(scope)
        hinting = maybe_page and bool(page_hints())
        # The page and the font: no conditional request either (a browser's old copy lacks the hints;
        # the font's validator is the copy's own ETag, answered in _finish_font).
        dropped = ((b"accept-encoding", b"if-none-match", b"if-modified-since") if hinting or font
                   else (b"accept-encoding",))
        inner["headers"] = [(k, v) for k, v in headers if k.lower() not in dropped]
        inner["extensions"] = {k: v for k, v in (scope.get("extensions") or {}).items()
                               if k != "http.response.pathsend"}
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def collect(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                kind = _header(message.get("headers") or [], b"content-type").lower()
                wanted = message.get("status") == 200 and (
                    font
                    or (is_asset and (gzip_ok or br_name is not None or br_built)
                        and kind.startswith(tuple(t.encode() for t in COMPRESSIBLE_TYPES)))
                    or (maybe_page and kind.startswith(b"text/html")))
                if not wanted or _header(message.get("headers") or [], b"content-encoding"):
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    if font:
                        await _finish_font(start, b"".join(chunks), font_tag, send)
                    else:
                        await self._finish(path, is_asset, hinting, gzip_ok, start, b"".join(chunks), send, br_name,
                                           br_built)
                return
            await send(message)

        await self.app(inner, receive, collect)

    async def _finish(self, path: str, is_asset: bool, hinting: bool, gzip_ok: bool, start: Message | None,
                      body: bytes, send: Any, br_name: str | None = None, br_built: bool = False) -> None:
        assert start is not None  # a body always follows the start
        headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
        if hinting:  # the page: hints in, and no validator that would let a browser keep old hints
            body = add_hints(body)
            headers = [(k, v) for k, v in headers if k.lower() not in (b"etag", b"last-modified")]
        from explorer.frontend.plotly_assets import precompressed

        brotli = precompressed(br_name, body) if br_name is not None and is_asset else None
        if brotli is None and br_built and is_asset:
            brotli = brotli_copies.lookup(path, body)
        encoding: bytes | None = None
        if brotli is not None:
            body, encoding = brotli, b"br"
        elif gzip_ok and len(body) >= MIN_GZIP_BYTES:
            if is_asset:
                cached = self.cache.get(self.cache.key(path, body))
                if cached is None and len(body) >= THREAD_COMPRESS_BYTES:
                    cached = await asyncio.to_thread(self.cache.compress, path, body)
                body = cached if cached is not None else self.cache.compress(path, body)
            else:
                body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)  # small, and per page
            encoding = b"gzip"
        if encoding is not None:
            vary = [v.decode("latin-1") for k, v in headers if k.lower() == b"vary"]
            if not any("accept-encoding" in v.lower() for v in vary):
                vary.append("Accept-Encoding")
            headers = [(k, (b"W/" + v if not v.startswith(b"W/") else v) if k.lower() == b"etag" else v)
                       for k, v in headers if k.lower() != b"vary"]
            headers += [(b"content-encoding", encoding), (b"vary", ", ".join(vary).encode("latin-1"))]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
