"""A loopback TCP proxy that counts the bytes a server sends, as they travel on the wire.

Chrome's DevTools Protocol (Playwright's ``framereceived``) reports a websocket message after the
browser has decompressed it, so with permessage-deflate (``server.enableWebsocketCompression``)
the benchmark's "websocket bytes" are the uncompressed payloads. This proxy sits between the
browser and ``streamlit run`` and counts what the server really wrote to the socket: websocket
frames as sent (compressed payloads plus frame headers) on the connection that asked for
``/_stcore/stream``, and every other response byte (HTTP) on the others. TCP/IP headers are not
counted. Nothing is changed on the way.

    proxy = WireProxy(server_port)      # listens on a free loopback port, in a thread of its own
    page.goto(proxy.url)
    mark = proxy.ws_bytes
    ...                                 # a change
    sent = proxy.ws_bytes - mark        # bytes the server wrote on the websocket meanwhile
    proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

# The websocket's path in Streamlit (the browser's ``new WebSocket(.../_stcore/stream)``).
STREAM_PATH = b"/_stcore/stream"
CHUNK = 65536


class WireProxy:
    """Forward ``127.0.0.1:<port>`` to ``127.0.0.1:<target_port>`` and count the bytes each way."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target_port = target_port
        self.host = host
        self._lock = threading.Lock()
        self._ws = 0
        self._http = 0
        self._up = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.base_events.Server | None = None
        self._sock = socket.socket()
        self._sock.bind((host, 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._run, name=f"wire-proxy-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("wire proxy did not start")

    @property
    def ws_bytes(self) -> int:
        """Bytes the server has written so far on websocket connections (as on the wire)."""
        with self._lock:
            return self._ws

    @property
    def http_bytes(self) -> int:
        """Bytes the server has written so far on the other (HTTP) connections."""
        with self._lock:
            return self._http

    @property
    def up_bytes(self) -> int:
        """Bytes the client has written so far (requests, websocket messages), on every connection."""
        with self._lock:
            return self._up

    def _add(self, websocket: bool, n: int, down: bool = True) -> None:
        with self._lock:
            if not down:
                self._up += n
            elif websocket:
                self._ws += n
            else:
                self._http += n

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, sock=self._sock)
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        # The first bytes from the browser carry the request line: a websocket asks for the stream.
        first = await reader.read(CHUNK)
        websocket = STREAM_PATH in first.split(b"\r\n", 1)[0]
        self._add(websocket, len(first), down=False)
        up_writer.write(first)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, down: bool) -> None:
            try:
                while data := await src.read(CHUNK):
                    self._add(websocket, len(data), down=down)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        # Cancelled by close() while a websocket is still open: end quietly. (asyncio's stream callback
        # calls task.exception() on this handler's task, which raises for a cancelled task and
        # printed a traceback at the end of every benchmark run.)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            # Connections still open (the page's websocket): end their pumps before the loop stops.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> WireProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
