"""The deployment files (issue 14, "Past one machine"; issue 12, "A lean Plotly").

Docker cannot build images here (no daemon, and base images come from a registry this machine
cannot reach), so the image is checked by reading its Dockerfile, and what its build runs
(deploy/check_image.py) is run on the working tree. nginx's configuration is run for real by
tests/e2e/test_replicas.py; here it is checked against the app (the preload URL, the cookie).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.frontend import plotly_assets

ROOT = Path(__file__).resolve().parent.parent
# deploy/ is not a package: load the image check by path.
_spec = importlib.util.spec_from_file_location("check_image", ROOT / "deploy" / "check_image.py")
assert _spec is not None and _spec.loader is not None
check_image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_image)


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


# ---------------------------------------------------------------- the Plotly bundle


def test_committed_bundle_is_the_plotly_js_the_python_package_embeds() -> None:
    bundle = plotly_assets.plotly_bundle_path()
    assert bundle.is_file(), "explorer/static/plotly-gl3d.min.js must be committed"
    assert plotly_assets.read_bundle_version(bundle) == plotly_assets.python_plotly_js_version()
    assert plotly_assets.plotly_js_version() == plotly_assets.python_plotly_js_version()
    # The partial bundle, not the full one (4.8 MB): the point of the change.
    assert bundle.stat().st_size < 2_500_000
    licence = bundle.with_name("plotly-gl3d.LICENSE.txt").read_text()
    assert "MIT License" in licence and "Plotly" in licence


def test_version_reader_reads_partial_and_full_headers(tmp_path: Path) -> None:
    partial = tmp_path / "a.js"
    partial.write_text("/**\n* plotly.js (gl3d - minified) v4.1.1\n* Copyright\n*/\n(function(){})")
    full = tmp_path / "b.js"
    full.write_text("/**\n* plotly.js v3.0.0-rc.1\n*/")
    other = tmp_path / "c.js"
    other.write_text("console.log('no header')")
    assert plotly_assets.read_bundle_version(partial) == "4.1.1"
    assert plotly_assets.read_bundle_version(full) == "3.0.0-rc.1"
    assert plotly_assets.read_bundle_version(other) == ""
    assert plotly_assets.read_bundle_version(tmp_path / "missing.js") == ""


def bundle_trace_types() -> set[str]:
    text = plotly_assets.plotly_bundle_path().read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', text))


def test_bundle_holds_every_trace_type_the_app_draws() -> None:
    """The 3D scene (mesh3d) and the body chart (scatter) must both be drawable by the bundle.

    Every trace class the app's drawing code constructs (``go.Mesh3d(...)``, ``go.Scatter(...)``)
    and every trace of a built body chart; the browser test (tests/e2e/test_replicas.py) checks
    the traces the page really draws. Sections use Streamlit's own ``st.plotly_chart``, not this bundle.
    """
    import plotly.graph_objects as go
    from plotly.basedatatypes import BaseTraceType

    from explorer.render.bodychart import ChartInput, build_body_chart

    available = bundle_trace_types()
    assert {"mesh3d", "scatter"} <= available, available
    used: set[str] = set()
    for source in [*(ROOT / "explorer" / "render").glob("*.py"), *(ROOT / "explorer" / "ui").glob("*.py")]:
        if source.name in {"sections.py", "sections_panel.py"}:
            continue
        for name in re.findall(r"\bgo\.([A-Z][A-Za-z0-9]+)\(", source.read_text(encoding="utf-8")):
            cls = getattr(go, name)
            if issubclass(cls, BaseTraceType):
                used.add(cls().type)
    used |= {trace.type for trace in build_body_chart(ChartInput(selected_root=("L5", "left"))).data}
    assert {"mesh3d", "scatter"} <= used, used
    assert used <= available, f"trace types missing from the bundle: {sorted(used - available)}"


def test_plotly_url_is_the_served_static_path() -> None:
    url = plotly_assets.plotly_url()
    assert url == f"/app/static/plotly-gl3d.min.js?v={plotly_assets.python_plotly_js_version()}"
    # Streamlit serves <folder of explorer/app.py>/static/ at /app/static/.
    assert (ROOT / "explorer" / "static" / plotly_assets.PLOTLY_FILENAME).is_file()


def test_nothing_writes_the_bundle_at_run_time(tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    path = plotly_assets.ensure_plotly_static(tmp_path)
    assert path == tmp_path / plotly_assets.PLOTLY_FILENAME
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------- nginx


NGINX = (ROOT / "deploy" / "nginx.conf").read_text()


def test_nginx_preloads_exactly_the_url_the_components_load() -> None:
    links = re.findall(r'add_header Link "<([^>]+)>; rel=preload; as=script"', NGINX)
    assert links == [plotly_assets.plotly_url()], "update the preload URL in deploy/nginx.conf"


def test_nginx_sticky_cookie_websocket_and_timeouts() -> None:
    assert re.search(r"hash \$lumbar_affinity consistent;", NGINX)
    assert "map $cookie_lumbar_replica $lumbar_affinity" in NGINX
    assert re.search(r"add_header Set-Cookie \$lumbar_set_cookie always;", NGINX)
    assert "proxy_set_header Upgrade $http_upgrade;" in NGINX
    assert "proxy_set_header Connection $lumbar_connection;" in NGINX
    # Streamlit refuses a websocket whose Origin does not match Host, port included.
    assert "proxy_set_header Host $http_host;" in NGINX
    read = re.search(r"proxy_read_timeout (\d+)([smh]);", NGINX)
    assert read and int(read.group(1)) * {"s": 1, "m": 60, "h": 3600}[read.group(2)] >= 3600
    gzip_types = re.search(r"gzip_types([^;]+);", NGINX)
    assert gzip_types and {"application/javascript", "text/css", "application/json"} <= set(gzip_types.group(1).split())


# ---------------------------------------------------------------- the image


def test_image_runs_as_a_non_root_user(dockerfile) -> None:
    users = [args for word, args in dockerfile if word == "USER"]
    assert users, "no USER: the app would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    # The user switch comes after the last build step that needs root (installs, model build).
    last_user = max(i for i, (word, _) in enumerate(dockerfile) if word == "USER")
    assert all(word != "RUN" for word, _ in dockerfile[last_user:]), "RUN after USER would run as the app user"


def test_image_health_check_is_streamlits_health_endpoint(dockerfile) -> None:
    checks = [args for word, args in dockerfile if word == "HEALTHCHECK"]
    assert len(checks) == 1 and "/_stcore/health" in checks[0]
    cmd = [args for word, args in dockerfile if word == "CMD"]
    assert cmd and "explorer/app.py" in cmd[-1] and "0.0.0.0" in cmd[-1]


def test_image_build_makes_and_checks_every_file_the_browser_needs(dockerfile) -> None:
    runs = " && ".join(args for word, args in dockerfile if word == "RUN")
    assert "pip install -r requirements.txt" in runs, "the project's own install command"
    assert "python -m explorer build-models" in runs, "assets/models baked at build time"
    assert "python deploy/check_image.py" in runs
    assert runs.index("build-models") < runs.index("check_image.py")
    # Every registry state's stored lesion and story view, made from the meshes just baked.
    assert "python -m explorer.render.state_cache" in runs
    assert runs.index("build-models") < runs.index("explorer.render.state_cache")
    # Brotli copies of Streamlit's files made for the image's own Streamlit, then checked fresh.
    assert "python -m explorer.ui.brotli_copies" in runs and "check_image.py --brotli-copies" in runs
    assert runs.index("pip install -r requirements.txt") < runs.index("explorer.ui.brotli_copies") < runs.index(
        "check_image.py")
    assert re.search(r"pip install brotli==[\d.]+ ", runs), "the build-only encoder, pinned"
    assert "pip uninstall -y brotli" in runs, "the app never needs the brotli module"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "assets/states" in ignored, "the image makes its own state files for its own code"
    for needed in ("explorer", "assets", "content", ".streamlit", "requirements.txt", "pyproject.toml",
                   "README.md", "deploy"):
        assert needed not in ignored, f"{needed} is needed in the image"


def test_image_check_passes_on_this_tree() -> None:
    # Without the model check: in the image it runs right after `build-models`; on a working tree
    # the baked assets are stale whenever builder code changed and was not re-baked yet.
    result = subprocess.run([sys.executable, str(ROOT / "deploy" / "check_image.py"), "--no-model"], capture_output=True,
                            text=True, timeout=600, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_check_finds_missing_front_end_files(tmp_path: Path) -> None:
    (tmp_path / "viewer3d.js").write_text('import { a } from "./gone.js";\nimport "./camera.js";\n')
    problems = check_image.frontend_problems(tmp_path)
    assert any("gone.js" in p for p in problems) and any("camera.js" in p for p in problems)
    assert any("chart2d.js" in p for p in problems)


def test_image_check_finds_stale_brotli_copies(tmp_path: Path) -> None:
    import json
    import zlib

    from explorer.ui import brotli_copies
    from explorer.ui.first_load import streamlit_static_dir

    assert check_image.brotli_copy_problems(tmp_path) and "no Brotli copies" in check_image.brotli_copy_problems(
        tmp_path)[0]
    index = next((streamlit_static_dir() / "static" / "js").glob("index.*.js"))
    rel = index.relative_to(streamlit_static_dir()).as_posix()
    body = index.read_bytes()
    (tmp_path / (rel + ".br")).parent.mkdir(parents=True)
    (tmp_path / (rel + ".br")).write_bytes(b"copy")
    entry = {"size": len(body), "crc32": zlib.crc32(body), "br": rel + ".br"}
    (tmp_path / brotli_copies.MANIFEST).write_text(json.dumps({"files": {rel: entry}}))
    assert check_image.brotli_copy_problems(tmp_path) == []
    entry["crc32"] ^= 1  # made from another build of that file
    (tmp_path / brotli_copies.MANIFEST).write_text(json.dumps({"files": {rel: entry}}))
    problems = check_image.brotli_copy_problems(tmp_path)
    assert len(problems) == 1 and rel in problems[0]


def test_image_check_finds_an_icon_font_copy_of_another_font(monkeypatch) -> None:
    from explorer.ui import icon_font

    assert check_image.icon_font_problems() == []
    other = {**icon_font.manifest(), "source_crc32": 1}  # made from another build of the font
    monkeypatch.setattr(icon_font, "manifest", lambda: other)
    problems = check_image.icon_font_problems()
    assert len(problems) == 1 and "another Streamlit font" in problems[0]


def test_compose_runs_replicas_behind_nginx() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert re.search(r"replicas: \$\{LUMBAR_REPLICAS:-\d+\}", compose)
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in compose
    assert "service_healthy" in compose
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in compose
