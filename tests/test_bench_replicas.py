"""The benchmark's copy of the documented deployment (benchmarks/replicas.py): its nginx
configuration is deploy/nginx.conf with only the replica lines and the port replaced, and Debian's
nginx accepts it. (Driving it is the benchmark's job: ``server_load.py --replicas 2``.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.replicas import NGINX_TEMPLATE, nginx_binary, render_nginx_conf  # noqa: E402


def test_only_the_replicas_and_the_port_change(tmp_path: Path) -> None:
    template = NGINX_TEMPLATE.read_text()
    conf = render_nginx_conf(template, ["127.0.0.1:1111", "127.0.0.1:2222"], 3333, tmp_path)
    assert "server 127.0.0.1:1111 max_fails=1 fail_timeout=10s;" in conf
    assert "server 127.0.0.1:2222 max_fails=1 fail_timeout=10s;" in conf
    assert "listen 127.0.0.1:3333;" in conf
    directives = [line.strip() for line in conf.splitlines() if not line.strip().startswith("#")]
    assert not any(d.startswith("server app:8501") for d in directives)
    assert "listen 80;" not in directives
    # What makes the deployment work is the template's own, unchanged.
    for line in ("hash $lumbar_affinity consistent;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_read_timeout 1h;", "gzip on;"):
        assert line in template and line in conf, line


def test_a_template_without_the_replica_line_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="server app:8501"):
        render_nginx_conf("server { listen 80; }", ["127.0.0.1:1"], 2, tmp_path)


def test_debians_nginx_accepts_it(tmp_path: Path) -> None:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("Debian's nginx is not installed (apt-get install nginx; .ci/run does)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(NGINX_TEMPLATE.read_text(), ["127.0.0.1:1111", "127.0.0.1:2222"], 3333,
                                      tmp_path))
    check = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True,
                           timeout=30, check=False)
    assert check.returncode == 0, check.stderr


def test_the_e2e_options_name_the_replica_and_keep_logs(tmp_path: Path) -> None:
    """What tests/e2e/test_replicas.py needs from the same function: a header naming the replica
    after both proxy_pass lines, an access log and a chosen error-log level."""
    conf = render_nginx_conf(NGINX_TEMPLATE.read_text(), ["127.0.0.1:1111"], 3333, tmp_path,
                             upstream_header="X-Lumbar-Upstream", error_log_level="info", access_log=True,
                             worker_connections=256)
    assert conf.count("add_header X-Lumbar-Upstream $upstream_addr always;") == 2
    assert f"access_log {tmp_path / 'access.log'};" in conf
    assert f"error_log {tmp_path / 'error.log'} info;" in conf
    assert "worker_connections 256;" in conf
    plain = render_nginx_conf(NGINX_TEMPLATE.read_text(), ["127.0.0.1:1111"], 3333, tmp_path)
    assert "X-Lumbar-Upstream" not in plain and "access_log off;" in plain
    binary = nginx_binary()
    if binary is not None:
        (tmp_path / "nginx.conf").write_text(conf)
        check = subprocess.run([binary, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                               capture_output=True, text=True, timeout=30, check=False)
        assert check.returncode == 0, check.stderr
