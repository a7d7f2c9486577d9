"""The benchmark's counting proxy (benchmarks/wire_proxy.py): bytes pass through unchanged, and
what the server writes is counted on the websocket connection apart from plain HTTP."""

from __future__ import annotations

import socket
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.wire_proxy import WireProxy  # noqa: E402 - after the path set-up

# Reply sizes the fake server sends: deliberately different, so a mix-up shows.
STREAM_REPLY = bytes(range(256)) * 300  # 76,800 bytes, not text
HTTP_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        request = self.request.recv(65536)
        self.request.sendall(STREAM_REPLY if b"/_stcore/stream" in request else HTTP_REPLY)


def _ask(port: int, request: bytes, expect: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        got = b""
        while len(got) < expect:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_counts_what_the_server_wrote_per_kind_and_changes_nothing() -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with WireProxy(server.server_address[1]) as proxy:
            assert proxy.ws_bytes == 0 and proxy.http_bytes == 0
            stream_request = b"GET /_stcore/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
            got = _ask(proxy.port, stream_request, len(STREAM_REPLY))
            assert got == STREAM_REPLY
            page = _ask(proxy.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", len(HTTP_REPLY))
            assert page == HTTP_REPLY
            # The counters move when the bytes pass; give the proxy's thread a moment to finish.
            for _ in range(200):
                if proxy.ws_bytes == len(STREAM_REPLY) and proxy.http_bytes == len(HTTP_REPLY):
                    break
                threading.Event().wait(0.01)
            assert proxy.ws_bytes == len(STREAM_REPLY)
            assert proxy.http_bytes == len(HTTP_REPLY)
            assert proxy.connections == 2
            assert proxy.up_bytes == len(stream_request) + len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        server.shutdown()
        server.server_close()


def test_closing_with_a_connection_still_open_is_quiet() -> None:
    """A benchmark ends with the page's websocket still open: close() must not print a traceback."""
    code = f"""
import socket, socketserver, sys, threading, time
sys.path.insert(0, {str(ROOT)!r})
from benchmarks.wire_proxy import WireProxy

class Hold(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        time.sleep(5)  # an upstream that keeps the connection open

server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Hold)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
proxy = WireProxy(server.server_address[1])
client = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
client.sendall(b"GET /_stcore/stream HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
time.sleep(0.3)
proxy.close()
print("closed")
"""
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "closed", out.stderr
    assert "Traceback" not in out.stderr and "Exception in callback" not in out.stderr, out.stderr
