"""Streamlit's icon font, cut down to the icons Streamlit's front end and this app can name.

Measured (2026-12-06, Streamlit 1.67, the first load until the 3D view is painted): Streamlit's
page preloads its icon font on every first load (``document.fonts.load('1em "Material Symbols
Rounded"')`` in ``index.*.js``), and the file, ``static/media/MaterialSymbols-Rounded.*.woff2``,
is 374,740 bytes: all 4,052 glyphs of Google's Material Symbols (Apache 2.0), the largest file of
the first load after Plotly, for the three or four icons a page shows (the sidebar's arrows,
``info``, ``emergency``). Streamlit names an icon by its *ligature*: the text ``expand_more`` in
that font draws the arrow.

The cut-down copy (``explorer/static/MaterialSymbols-Rounded.subset.woff2``, 66 kB) keeps every
icon whose name occurs as a word anywhere in Streamlit's front-end scripts (``static/js/*.js``: 613
glyphs, a deliberate superset of what its widgets, alerts, menus and status can show), every
``:material/name:`` in Streamlit's Python package and in this project (``explorer/``,
``content/``), the letters and digits the names are made of, and every other table of the font
unchanged (metrics, hinting, names). Glyph outlines are copied, not redrawn: the icons look the
same (``tests/e2e/test_icon_font_pixels.py`` draws every kept icon with both fonts in Chromium and
compares the pixels).

:class:`explorer.ui.first_load.FirstLoadMiddleware` sends it in place of Streamlit's file, at the
same URL, only while the file Streamlit serves is byte for byte the one it was made from (size
and CRC-32 in ``explorer/static/icon-font.json``); otherwise Streamlit's own file goes out, never
a copy made for other glyphs. It goes out with ``Cache-Control: no-cache`` and its own ``ETag``,
not Streamlit's ``immutable, max-age=1 year``: a browser must not keep the cut-down font for that
URL when another Streamlit app (same Streamlit, other icons) later runs on the same address
(``localhost:8501``); revisits cost a ``304``.

Remaking it (after a Streamlit upgrade, or after adding a ``:material/...:`` icon to the app;
``tests/test_icon_font.py`` says when) needs fontTools (installed with matplotlib, a dependency of
PyVista) and the ``brotli`` module for WOFF2, which the app itself does not need::

    python -m venv --system-site-packages /tmp/fontenv && /tmp/fontenv/bin/pip install brotli
    /tmp/fontenv/bin/python -m explorer.ui.icon_font
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from explorer.settings import PROJECT_ROOT, STATIC_DIR

MANIFEST: Path = STATIC_DIR / "icon-font.json"
SUBSET_NAME: str = "MaterialSymbols-Rounded.subset.woff2"
# Streamlit's file, below its static folder (the hash in the name changes with Streamlit's build).
SOURCE_GLOB: str = "static/media/MaterialSymbols-Rounded.*.woff2"
URL_PREFIX: str = "/static/media/"
# Headers the cut-down font goes out with (see the module docstring for why not Streamlit's).
CACHE_CONTROL: bytes = b"no-cache"

_WORD = re.compile(r"[A-Za-z0-9_]+")
_SHORTCODE = re.compile(r":material/([a-z0-9_]+):")
# Where this project may name a Material icon (``icon=":material/info:"``, Markdown shortcodes).
PROJECT_SOURCES: tuple[tuple[str, str], ...] = (("explorer", "*.py"), ("content", "*.md"), (".streamlit", "*.toml"))


# --------------------------------------------------------------------------- which icons


def streamlit_static_dir() -> Path:
    """Streamlit's own front end (``streamlit/static``)."""
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def source_font(static_dir: Path | None = None) -> Path | None:
    """Streamlit's icon font file, or ``None`` if there is not exactly one."""
    found = sorted((static_dir or streamlit_static_dir()).glob(SOURCE_GLOB))
    return found[0] if len(found) == 1 else None


def script_words(static_dir: Path | None = None) -> set[str]:
    """Every word (``[A-Za-z0-9_]+``) in Streamlit's front-end scripts: any icon name its front end
    can show is among them (names are string literals there; none is built from pieces)."""
    words: set[str] = set()
    for path in sorted((static_dir or streamlit_static_dir()).glob("static/js/*.js")):
        words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    return words


def shortcodes(paths: Iterable[Path]) -> set[str]:
    """Names in ``:material/name:`` shortcodes in these files."""
    names: set[str] = set()
    for path in paths:
        try:
            names.update(_SHORTCODE.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    return names


def project_shortcodes(root: Path = PROJECT_ROOT) -> set[str]:
    """``:material/name:`` names this project's code, texts and configuration use."""
    return shortcodes(p for folder, pattern in PROJECT_SOURCES for p in (root / folder).rglob(pattern))


def streamlit_shortcodes() -> set[str]:
    """``:material/name:`` names in Streamlit's front-end scripts and its Python package (icons its
    Python side may send; docstring examples are included, a harmless superset)."""
    static = streamlit_static_dir()
    return shortcodes([*static.glob("static/js/*.js"), *static.parent.rglob("*.py")])


# --------------------------------------------------------------------------- serving


@functools.cache
def manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """``icon-font.json`` (empty if missing or unreadable: Streamlit's own font is then sent)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def is_font_path(path: str) -> bool:
    """``path`` (below the base URL path) is the URL of the font this copy replaces."""
    source = manifest().get("source")
    return isinstance(source, str) and path == URL_PREFIX + source


@functools.cache
def subset_bytes(path: Path, sha256: str) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def replacement(body: bytes) -> tuple[bytes, bytes] | None:
    """The cut-down font and its ``ETag`` for Streamlit's font ``body``, or ``None`` when ``body``
    is not exactly the file the copy was made from, or the copy is missing or altered."""
    info = manifest()
    if info.get("source_size") != len(body) or info.get("source_crc32") != zlib.crc32(body):
        return None
    sha = str(info.get("subset_sha256", ""))
    data = subset_bytes(STATIC_DIR / str(info.get("subset", SUBSET_NAME)), sha)
    if data is None:
        return None
    return data, f'"{sha[:32]}"'.encode()


# --------------------------------------------------------------------------- making it (developer tool)


def ligature_names(font: Any) -> dict[str, str]:
    """Icon name -> glyph name, read from the font's ``liga`` ligatures (fontTools ``TTFont``)."""
    to_char = {glyph: chr(code) for code, glyph in font.getBestCmap().items()}
    names: dict[str, str] = {}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            table = getattr(sub, "ExtSubTable", sub)
            for first, ligatures in getattr(table, "ligatures", {}).items():
                for lig in ligatures:
                    text = "".join(to_char.get(g, "\0") for g in [first, *lig.Component])
                    if "\0" not in text:
                        names.setdefault(text, lig.LigGlyph)
    return names


def make_subset(source: Path, keep: set[str]) -> tuple[bytes, list[str], int]:
    """Cut ``source`` down to the icons named in ``keep`` (names that are no icon are ignored).

    Returns
    -------
    tuple
        The WOFF2 bytes, the kept icon names (sorted; every alias of a kept glyph), and the
        number of glyphs in the copy.
    """
    from fontTools import subset  # type: ignore[import-untyped]  # developer tool only
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(str(source), recalcTimestamp=False)  # same bytes on every run
    names = ligature_names(font)
    glyphs = {names[n] for n in keep if n in names}
    # Only the kept ligatures stay in GSUB, so the subsetter's closure adds no other icon.
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            table = getattr(sub, "ExtSubTable", sub)
            ligs = getattr(table, "ligatures", None)
            if ligs is None:
                continue
            for first in list(ligs):
                ligs[first] = [lig for lig in ligs[first] if lig.LigGlyph in glyphs]
                if not ligs[first]:
                    del ligs[first]
    cmap = font.getBestCmap()
    # ASCII keeps the letters the names are spelled with; private-use code points of kept icons stay.
    unicodes = sorted(u for u, g in cmap.items() if u < 128 or g in glyphs)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.glyph_names = True
    options.hinting = True
    options.drop_tables = []
    options.legacy_kern = True
    options.symbol_cmap = True
    options.prune_unicode_ranges = False
    options.recalc_bounds = False
    options.recalc_timestamp = False
    options.flavor = "woff2"
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(glyphs), unicodes=unicodes)
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    kept = sorted(n for n, g in names.items() if g in glyphs)
    return out.getvalue(), kept, len(font.getGlyphOrder())


def write_subset(static_dir: Path = STATIC_DIR) -> dict[str, Any]:
    """Make ``MaterialSymbols-Rounded.subset.woff2`` and ``icon-font.json`` from the installed
    Streamlit (needs fontTools and ``brotli``; see the module docstring)."""
    import streamlit

    source = source_font()
    if source is None:
        raise SystemExit(f"No single {SOURCE_GLOB} in {streamlit_static_dir()}")
    wanted = script_words() | streamlit_shortcodes() | project_shortcodes()
    data, kept, glyph_count = make_subset(source, wanted)
    (static_dir / SUBSET_NAME).write_bytes(data)
    body = source.read_bytes()
    named = streamlit_shortcodes() | project_shortcodes()
    info = {
        "streamlit": streamlit.__version__,
        "source": source.name,
        "source_size": len(body),
        "source_crc32": zlib.crc32(body),
        "subset": SUBSET_NAME,
        "subset_size": len(data),
        "subset_sha256": hashlib.sha256(data).hexdigest(),
        "glyphs": glyph_count,
        "icons": kept,
        # Shortcodes found that the font has no icon for (docstring placeholders such as icon_name).
        "not_in_font": sorted(named - set(kept)),
    }
    (static_dir / MANIFEST.name).write_text(json.dumps(info, indent=1) + "\n")
    manifest.cache_clear()
    return info


if __name__ == "__main__":
    made = write_subset()
    print(f"{made['subset']}: {made['subset_size']} bytes, {made['glyphs']} glyphs, {len(made['icons'])} icon names "
          f"(from {made['source']}, {made['source_size']} bytes)")
