"""Keep the Streamlit server from asking the network for this machine's addresses.

Streamlit 1.67 checks the Origin of a websocket from another site against a list that includes
this machine's internal and external IP addresses, and finds them by asking the network
(``streamlit/web/server/server_util.py``, ``is_url_from_allowed_origins`` ->
``streamlit/net_util.py``: a UDP "connect" to 8.8.8.8 and an HTTP request to
checkip.amazonaws.com, 1 s timeout, on the server's event loop; a failed lookup is not cached, so
every such websocket repeats it). The check is reached only for an origin that is not the app's
own host, localhost, 127.0.0.1, 0.0.0.0 or a manually set ``browser.serverAddress``, and no
configuration option skips the lookups for it (``server.enableCORS = false`` would, by accepting
every origin).

Answering "unknown" for both keeps that check closed (the foreign origin is refused) and on the
machine. ``explorer/app.py`` calls :func:`keep_streamlit_offline` when ``streamlit run`` imports it
as the server's ASGI app, before the server accepts a connection; ``explorer.ui.page`` does the same
on the first page run (for servers started another way, such as AppTest).
"""

from __future__ import annotations


def keep_streamlit_offline() -> None:
    """Make Streamlit's IP lookups answer "unknown" without touching the network (idempotent)."""
    from streamlit import net_util

    net_util.get_external_ip = lambda: None
    net_util.get_internal_ip = lambda: None
