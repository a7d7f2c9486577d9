"""Two replicas behind Debian's nginx, configured by deploy/nginx.conf (issue 14, "Past one machine").

Two ``streamlit run explorer/app.py`` replicas and an nginx (a plain, non-daemon process with a
configuration generated from ``deploy/nginx.conf`` in a temporary folder) listen on free loopback
ports. Browser sessions go through nginx; the replica serving one is killed (SIGKILL, as a crash
would), and the session must come back on the other replica with its state (the URL carries it)
and take the next change. Everything started here is stopped here (bounded waits).

The packages (nginx, Chromium) come from ``.ci/run``; nothing is installed by the test.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from app_page import CHART, GRAPH, LOAD_TIMEOUT_MS, wait_for_rerun
from support import free_port, require

# The benchmark's copy of the documented deployment renders the same conf (one place for it).
from benchmarks.replicas import nginx_binary, render_nginx_conf

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
START_TIMEOUT_S = 120.0
QUERY = "condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate"
# A header only the test's configuration adds: which replica answered (to know which one to kill).
UPSTREAM_HEADER = "X-Lumbar-Upstream"
FIRST_SESSION_TIMEOUT_MS = 240_000


def wait_http(url: str, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start; see {log}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@dataclass
class Deployment:
    url: str
    replicas: dict[str, subprocess.Popen]  # "127.0.0.1:port" -> process
    fresh_bundle_status: dict[str, int] = field(default_factory=dict)
    fresh_bundle_bytes: dict[str, bytes] = field(default_factory=dict)
    tmp: Path = Path()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    """Two replicas and nginx in front of them, all on loopback; stopped at the end."""
    binary = nginx_binary()
    require(binary is not None, "Debian's nginx is not installed (apt-get install nginx; .ci/run does)",
            "end-to-end (replicas)")
    assert binary is not None
    tmp = tmp_path_factory.mktemp("replicas")
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        replicas: dict[str, subprocess.Popen] = {}
        for i in range(2):
            port = free_port()
            log_path = ROOT / "test-artifacts" / f"replica-{i}.log"
            log_path.parent.mkdir(exist_ok=True)
            log = log_path.open("w")
            logs.append(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            procs.append(proc)
            replicas[f"127.0.0.1:{port}"] = proc
        for addr, proc in replicas.items():
            wait_http(f"http://{addr}/_stcore/health", proc, f"replica {addr}", ROOT / "test-artifacts")
        deployment = Deployment(url="", replicas=replicas, tmp=tmp)
        # Before any session: every fresh replica serves the Plotly bundle the components load.
        from explorer.frontend.plotly_assets import plotly_url
        for addr in replicas:
            try:
                with urllib.request.urlopen(f"http://{addr}{plotly_url()}", timeout=20) as r:
                    deployment.fresh_bundle_status[addr] = r.status
                    deployment.fresh_bundle_bytes[addr] = r.read()
            except urllib.error.HTTPError as e:
                deployment.fresh_bundle_status[addr] = e.code
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(render_nginx_conf(NGINX_TEMPLATE.read_text(), list(replicas), port, tmp,
                                          upstream_header=UPSTREAM_HEADER, error_log_level="info",
                                          access_log=True, worker_connections=256))
        check = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(tmp)], capture_output=True, text=True,
                               timeout=30, check=False)
        assert check.returncode == 0, f"nginx rejects the generated configuration:\n{check.stderr}"
        nginx_log = (tmp / "nginx.out").open("w")
        logs.append(nginx_log)
        nginx = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp)], stdout=nginx_log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(nginx)
        deployment.url = f"http://127.0.0.1:{port}"
        wait_http(f"{deployment.url}/_stcore/health", nginx, "nginx", tmp / "error.log")
        yield deployment
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs:
            log.close()
        for name in ("error.log", "access.log"):
            if (tmp / name).exists():
                shutil.copy(tmp / name, ROOT / "test-artifacts" / f"replicas-nginx-{name}")


def test_a_fresh_replica_serves_the_plotly_bundle_before_any_session(deployment):
    """Issue 14: plotly.min.js used to be written at run time, so a fresh replica answered 404."""
    from explorer.frontend.plotly_assets import plotly_bundle_path

    committed = plotly_bundle_path().read_bytes()
    assert deployment.fresh_bundle_status and set(deployment.fresh_bundle_status.values()) == {200}
    for addr, body in deployment.fresh_bundle_bytes.items():
        raw = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        assert raw == committed, f"{addr} served something else than the committed bundle"


def test_nginx_sets_the_affinity_cookie_preloads_plotly_and_compresses(deployment):
    from explorer.frontend.plotly_assets import plotly_url

    with urllib.request.urlopen(f"{deployment.url}/?{QUERY}", timeout=20) as r:
        cookie = r.headers.get("Set-Cookie") or ""
        link = r.headers.get("Link") or ""
        first = r.headers.get(UPSTREAM_HEADER)
    match = re.search(r"lumbar_replica=([0-9a-f]{32})", cookie)
    assert match, f"no affinity cookie on the first visit: {cookie!r}"
    assert f"<{plotly_url()}>" in link and "rel=preload" in link and "as=script" in link
    # Every request carrying the cookie reaches the replica that served the page.
    for path in ("/_stcore/health", "/_stcore/host-config", "/", plotly_url()):
        req = urllib.request.Request(f"{deployment.url}{path}", headers={"Cookie": f"lumbar_replica={match.group(1)}"})
        with urllib.request.urlopen(req, timeout=20) as r:
            assert r.headers.get(UPSTREAM_HEADER) == first, path
            assert "lumbar_replica=" not in (r.headers.get("Set-Cookie") or ""), "the cookie is set only once"
    # A forged cookie value is replaced, not used.
    req = urllib.request.Request(f"{deployment.url}/", headers={"Cookie": "lumbar_replica=../../etc"})
    with urllib.request.urlopen(req, timeout=20) as r:
        assert re.search(r"lumbar_replica=[0-9a-f]{32}", r.headers.get("Set-Cookie") or "")
    # Streamlit's own scripts, sent uncompressed by Streamlit, are gzipped by nginx.
    with urllib.request.urlopen(f"{deployment.url}/", timeout=20) as r:
        script = re.search(r'src="(\./static/js/[^"]+\.js)"', r.read().decode())
    assert script, "no script in Streamlit's index.html"
    req = urllib.request.Request(f"{deployment.url}/{script.group(1)[2:]}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=20) as r:
        assert r.headers.get("Content-Encoding") == "gzip"


FIRST_LOAD_BYTES_JS = """() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
    .reduce((sum, e) => sum + (e.transferSize || 0), 0)"""


RENDER_SEQ_JS = f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0)"


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=FIRST_SESSION_TIMEOUT_MS)
    # A replica's first session may wait for the model (rebuilt when the baked assets are stale).
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'lesion-disc')",
                           timeout=FIRST_SESSION_TIMEOUT_MS)
    page.wait_for_function(f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1",
                           timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)


def _lit(page) -> list[str]:
    return page.evaluate(f"""() => (document.querySelector('{GRAPH}')?.data || [])
        .filter(t => t.intensity && t.intensity.length && Math.max(...t.intensity) > 0).map(t => t.meta)""")


def bundle_trace_types() -> set[str]:
    from explorer.frontend.plotly_assets import plotly_bundle_path

    text = plotly_bundle_path().read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', text))


def _served_by(context, url: str) -> str:
    response = context.request.get(f"{url}/_stcore/health", timeout=20_000)
    return response.headers.get(UPSTREAM_HEADER.lower(), "")


def test_a_session_survives_the_loss_of_its_replica_and_takes_the_next_change(deployment, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _open(page, f"{deployment.url}/?{QUERY}")
        served = _served_by(context, deployment.url)
        # Every trace the page draws is of a type the served Plotly bundle holds.
        drawn = set(page.evaluate(f"""() => ['{GRAPH}', '{CHART}'].flatMap(sel =>
            (document.querySelector(sel)?.querySelector('.js-plotly-plot')?.data
             || document.querySelector(sel)?.data || []).map(t => t.type || 'scatter'))"""))
        assert {"mesh3d", "scatter"} <= drawn and drawn <= bundle_trace_types(), drawn
        # The bundle was fetched once, by the preload nginx asked for (not after the first script run).
        plotly = page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('plotly-gl3d')).map(e => e.initiatorType)""")
        print(f"plotly bundle fetched by: {plotly}; first load {page.evaluate(FIRST_LOAD_BYTES_JS)} bytes over HTTP")
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert served in deployment.replicas
        # A change on the first replica.
        sidebar.get_by_text("Foraminal", exact=True).click()
        wait_for_rerun(page)
        page.wait_for_function("() => location.search.includes('zone=foraminal')", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(f"""() => (document.querySelector('{GRAPH}').data || [])
            .some(t => t.meta === 'root-L4-left' && t.intensity && Math.max(...t.intensity) > 0)""",
                               timeout=LOAD_TIMEOUT_MS)

        # The replica that served the session dies.
        victim = deployment.replicas[served]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=15)

        # The browser reconnects (Streamlit retries the websocket), nginx sends it to the survivor,
        # and the new session there rebuilds the state from the URL.
        deadline = time.monotonic() + 60
        other = ""
        while time.monotonic() < deadline:
            other = _served_by(context, deployment.url)
            if other and other != served:
                break
            time.sleep(0.5)
        assert other and other != served, "nginx did not move the session to the other replica"
        page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')?.dataset"
                               ".testConnectionState === 'CONNECTED'", timeout=LOAD_TIMEOUT_MS)
        # Streamlit's front end does not rerun the script after a reconnect: the page still shows
        # the dead replica's output, and the next interaction starts the new session's first run.
        sidebar.get_by_text("Patient's right", exact=True).click()
        page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')?.dataset"
                               ".testScriptState === 'running'", timeout=FIRST_SESSION_TIMEOUT_MS, polling=100)
        wait_for_rerun(page, FIRST_SESSION_TIMEOUT_MS)
        search = page.evaluate("() => location.search")
        # The state from before the kill, carried by the URL, is there on the new replica.
        assert "zone=foraminal" in search and "level=L4-L5" in search and "condition=herniation" in search, search
        assert sidebar.get_by_role("radio", name="Foraminal", exact=True).is_checked()
        page.screenshot(path=str(artifacts_dir / "e2e-replica-recovered.png"))
        # The change that started the new session's first run is taken (issue 14: it was lost while
        # that run seeded every widget from the URL by writing st.session_state; see controls.py,
        # _init_from_url).
        assert "side=right" in search, f"the first change after the reconnect was lost: {search}"
        assert sidebar.get_by_role("radio", name="Patient's right", exact=True).is_checked()
        page.wait_for_function(f"""() => (document.querySelector('{GRAPH}').data || [])
            .some(t => t.meta === 'root-L4-right' && t.intensity && Math.max(...t.intensity) > 0)""",
                               timeout=LOAD_TIMEOUT_MS)
        assert "zone=foraminal" in page.evaluate("() => location.search")
        # And the one after it.
        sidebar.get_by_text("Central", exact=True).click()
        wait_for_rerun(page)
        page.wait_for_function("() => location.search.includes('zone=central')", timeout=20_000)
        assert errors == [], errors
        page.screenshot(path=str(artifacts_dir / "e2e-replica-next-change.png"))
    finally:
        context.close()
