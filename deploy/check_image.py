"""Check, at image build time, that every file a browser or a fresh replica needs is in place.

Run by the Dockerfile after the model build (``python deploy/check_image.py``), and by
``tests/test_deploy.py`` on the working tree. Exits 1 with one line per problem, 0 when all is well:

* the Plotly bundle the components load (``explorer/static/plotly-gl3d.min.js``), at exactly the
  plotly.js version the installed Python ``plotly`` embeds;
* every JavaScript and CSS file of the two components, and every module they import by relative
  URL (``import ... from "./x.js"``), in ``explorer/frontend/``;
* Streamlit's own front end (its ``static/index.html``);
* the cut-down icon font made from the installed Streamlit's (``explorer/ui/icon_font.py``), and
  with ``--brotli-copies`` a fresh Brotli copy of each of Streamlit's compressible files
  (``explorer/ui/brotli_copies.py``, made by the Dockerfile just before);
* the baked meshes in ``assets/models/`` complete and fresh (no rebuild at start-up: a replica
  whose image lacks them would spend 30-50 s rebuilding before its first page).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `import x from "./y.js"` and `import "./y.js"` in the components' ES modules.
_RELATIVE_IMPORT = re.compile(r"""(?:^|\n)\s*import\s+(?:[^'";]*?\s+from\s+)?["'](\./[^"']+)["']""")


def frontend_problems(frontend: Path) -> list[str]:
    """Missing component files and missing relative imports among ``frontend``'s modules.

    Parameters
    ----------
    frontend : pathlib.Path
        The components' asset folder (``explorer/frontend``).

    Returns
    -------
    list of str
        One message per missing file; empty when all are there.
    """
    problems: list[str] = []
    entry = ["viewer3d.js", "viewer3d.css", "chart2d.js", "chart2d.css", "plotly_loader.js"]
    for name in entry:
        if not (frontend / name).is_file():
            problems.append(f"component file missing: {frontend / name}")
    for module in sorted(frontend.glob("*.js")):
        for target in _RELATIVE_IMPORT.findall(module.read_text(encoding="utf-8")):
            if not (frontend / target).resolve().is_file():
                problems.append(f"{module.name} imports {target}, which is missing")
    return problems


def plotly_problems() -> list[str]:
    """The Plotly bundle missing, or of another plotly.js version than the Python package's.

    Returns
    -------
    list of str
        One message per problem; empty when the bundle is there at the right version.
    """
    from explorer.frontend.plotly_assets import plotly_bundle_path, python_plotly_js_version, read_bundle_version

    path = plotly_bundle_path()
    if not path.is_file():
        return [f"Plotly bundle missing: {path} (see explorer/static/README.md)"]
    have, want = read_bundle_version(path), python_plotly_js_version()
    if have != want:
        return [(f"Plotly bundle is plotly.js {have or '(unknown)'}, the Python plotly package embeds {want}: "
                 "update it (explorer/static/README.md)")]
    return []


def streamlit_problems() -> list[str]:
    """Streamlit's own front end missing from the installed package.

    Returns
    -------
    list of str
        One message if ``streamlit/static/index.html`` is missing; else empty.
    """
    import streamlit

    index = Path(streamlit.__file__).resolve().parent / "static" / "index.html"
    return [] if index.is_file() else [f"Streamlit's front end missing: {index}"]


def model_problems() -> list[str]:
    """Baked meshes missing, stale or corrupt (read without rebuilding or writing anything).

    Returns
    -------
    list of str
        The model loader's messages (each names a structure it would have to rebuild).
    """
    from explorer.anatomy.model import load_model
    from explorer.settings import MODELS_DIR

    model = load_model(MODELS_DIR, save_rebuilt=False)
    return [f"model asset not fresh: {message}" for message in model.messages]


def icon_font_problems() -> list[str]:
    """The cut-down icon font missing, altered, or made from another Streamlit font than the installed
    one (the app would then send Streamlit's full 375 kB font: correct, but the first load grows).

    Returns
    -------
    list of str
        One message per problem; empty when the copy fits the installed Streamlit.
    """
    import zlib

    from explorer.ui import icon_font

    info = icon_font.manifest()
    source = icon_font.source_font()
    if not info or source is None:
        return [f"icon font copy or Streamlit's icon font missing ({icon_font.MANIFEST}); see explorer/static/README.md"]
    body = source.read_bytes()
    if (info.get("source"), info.get("source_size"), info.get("source_crc32")) != (source.name, len(body),
                                                                                    zlib.crc32(body)):
        return [f"icon font copy was made from another Streamlit font than {source.name}: python -m explorer.ui.icon_font"]
    if icon_font.replacement(body) is None:
        return [f"icon font copy {info.get('subset')} missing or altered: python -m explorer.ui.icon_font"]
    return []


def brotli_copy_problems(folder: Path | None = None) -> list[str]:
    """Streamlit's compressible static files without a fresh Brotli copy (``--brotli-copies``: the
    image's build step ``python -m explorer.ui.brotli_copies`` made them).

    Returns
    -------
    list of str
        One message per problem (at most 5 files named); empty when every copy is there and fresh.
    """
    import zlib

    from explorer.ui import brotli_copies
    from explorer.ui.first_load import streamlit_static_dir

    folder = folder or brotli_copies.copies_dir()
    listed = brotli_copies.manifest(folder)
    if not listed:
        return [f"no Brotli copies in {folder}: python -m explorer.ui.brotli_copies"]
    static = streamlit_static_dir()
    stale = []
    for src in sorted(static.rglob("*")):
        if not src.is_file() or src.suffix not in brotli_copies.SUFFIXES or src.stat().st_size < brotli_copies.MIN_BYTES:
            continue
        rel = src.relative_to(static).as_posix()
        entry = listed.get(rel)
        body = src.read_bytes()
        fresh = isinstance(entry, dict) and entry.get("size") == len(body) and entry.get("crc32") == zlib.crc32(body)
        if entry is not None and (not fresh or brotli_copies.lookup("/" + rel, body, folder) is None):
            stale.append(rel)
    if stale:
        return [(f"{len(stale)} Brotli copies stale in {folder} (e.g. {', '.join(stale[:5])}): "
                 "python -m explorer.ui.brotli_copies")]
    return []


def main(argv: list[str] | None = None) -> int:
    """Run every check (``--no-model`` skips the slow model check; ``--brotli-copies`` also checks the
    build-time Brotli copies of Streamlit's files).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 when every file is in place, else 1.
    """
    args = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(ROOT))
    problems = frontend_problems(ROOT / "explorer" / "frontend") + plotly_problems() + streamlit_problems()
    problems += icon_font_problems()
    if "--brotli-copies" in args:
        problems += brotli_copy_problems()
    if "--no-model" not in args:
        problems += model_problems()
    for problem in problems:
        print(problem)
    if not problems:
        print("image check: every file the browser needs is in place")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
