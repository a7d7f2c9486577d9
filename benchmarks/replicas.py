"""The documented deployment on loopback, for the benchmarks: N ``streamlit run`` replicas behind
Debian's nginx, configured by ``deploy/nginx.conf`` (docs/deploy.md).

As in tests/e2e/test_replicas.py, nginx runs as a plain non-daemon process with a configuration
generated in a temporary folder around the template: only the ``server app:8501 ...;`` line (one
line per replica) and the ``listen`` port change; the cookie hash, websocket headers, timeouts and
gzip are the template's own. Each websocket session is one connection, so it stays on the replica
nginx hashed it to (a new browser without the cookie is hashed on a random id: a class spreads
over the replicas).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks._common import ROOT, Server, free_port

NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    """Debian's nginx (``/usr/sbin`` may be off a non-root PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def render_nginx_conf(template: str, upstreams: list[str], port: int, tmp: Path, *,
                      upstream_header: str | None = None, error_log_level: str = "warn",
                      access_log: bool = False, worker_connections: int = 1024) -> str:
    """A complete nginx.conf for one non-daemon nginx in ``tmp`` around ``deploy/nginx.conf``.

    Only the replica line and the listen port of the template change; everything that makes the
    deployment work (cookie, hash, websocket headers, timeouts, gzip, preload) is the template's
    own. Each replacement must match exactly (else RuntimeError), so a reworded template fails
    here instead of being run half-replaced.

    Parameters
    ----------
    upstream_header : str, optional
        Also add this response header naming the replica that answered (``$upstream_addr``) after
        each of the template's two ``proxy_pass http://lumbar_replicas;`` lines (tests/e2e).
    error_log_level, access_log, worker_connections
        nginx's error log level (in ``tmp/error.log``), an access log in ``tmp/access.log`` or
        none, and its worker's connection limit.
    """
    replicas = "\n".join(f"    server {u} max_fails=1 fail_timeout=10s;" for u in upstreams)
    site, n = re.subn(r"^\s*server app:8501 [^;]*;$", replicas, template, flags=re.M)
    if n != 1:
        raise RuntimeError("deploy/nginx.conf: expected one 'server app:8501 ...;' line")
    site, n = re.subn(r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{port};", site, flags=re.M)
    if n != 1:
        raise RuntimeError("deploy/nginx.conf: expected one 'listen 80;' line")
    if upstream_header is not None:
        site, n = re.subn(r"^(\s*)(proxy_pass http://lumbar_replicas;)$",
                          rf"\g<1>\g<2>\n\g<1>add_header {upstream_header} $upstream_addr always;", site, flags=re.M)
        if n != 2:
            raise RuntimeError("deploy/nginx.conf: expected two 'proxy_pass http://lumbar_replicas;' lines")
    temp = {name: tmp / name for name in ("client", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    access = f"access_log {tmp / 'access.log'};" if access_log else "access_log off;"
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {tmp / 'nginx.pid'};
error_log {tmp / 'error.log'} {error_log_level};
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    {access}
    client_body_temp_path {temp['client']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
{site}
}}
"""


class Replicas:
    """N replicas of ``app`` and nginx in front of them; ``url`` is nginx's, ``servers`` the replicas."""

    def __init__(self, app: str, n: int, log_path: Path | None = None) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("Debian's nginx is not installed: apt-get install nginx")
        self.servers = [Server(app, log_path=log_path.with_suffix(f".replica{i}.log") if log_path else None)
                        for i in range(n)]
        self.tmp = Path(tempfile.mkdtemp(prefix="lumbar-replicas-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = self.tmp / "nginx.conf"
        conf.write_text(render_nginx_conf(NGINX_TEMPLATE.read_text(),
                                          [f"127.0.0.1:{s.port}" for s in self.servers], self.port, self.tmp))
        check = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(self.tmp)], capture_output=True,
                               text=True, timeout=30, check=False)
        if check.returncode != 0:
            self.stop()
            raise RuntimeError(f"nginx rejects the generated configuration: {check.stderr[-500:]}")
        self._nginx_log = (self.tmp / "nginx.out").open("w")
        self.nginx = subprocess.Popen([binary, "-c", str(conf), "-p", str(self.tmp)], stdout=self._nginx_log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pids(self) -> list[int]:
        """The replicas' server processes (nginx not included: its CPU is reported apart)."""
        return [s.proc.pid for s in self.servers]

    def wait_ready(self, timeout_s: float = 600.0) -> float:
        """Every replica healthy, then nginx answering; returns seconds since the first spawn."""
        for s in self.servers:
            s.wait_ready(timeout_s)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.servers[0].t0
            except OSError:
                pass
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start; see {self.tmp / 'error.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        nginx = getattr(self, "nginx", None)
        if nginx is not None and nginx.poll() is None:
            nginx.terminate()
            try:
                nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(timeout=15)
        if getattr(self, "_nginx_log", None) is not None:
            self._nginx_log.close()
        for s in self.servers:
            s.stop()

    def __enter__(self) -> Replicas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
