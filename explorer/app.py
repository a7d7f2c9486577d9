"""Streamlit entry point: ``streamlit run explorer/app.py``.

Only reads widgets, calls pure functions and shows their results; no domain logic lives here.

The file has two roles. Streamlit runs it as the page script (``__name__ == "__main__"``, once per
rerun of every session; AppTest does the same). ``streamlit run`` also finds the ``st.App`` below by
reading this file's source (``streamlit/web/server/app_discovery.py``, without running it) and then
serves that app with uvicorn, importing this file as a module (``app:app``) before the server
accepts any connection: the one place where code of ours runs at server start. It

* switches off Streamlit's network lookup of this machine's IP addresses (``explorer.ui.offline``),
  which a websocket from another site's page would otherwise trigger before any page has run
  (issue 14);
* warms the process up on a background thread as soon as the server has started (the page's
  modules, the model, the texts: ``explorer.ui.startup``), so the first visitor's page run does
  not wait for them; the server never waits for it, and a failure is only logged;
* makes the browser's first load faster and smaller (``explorer.ui.first_load``): preload hints
  in the page for what the first screen asks for later, and Streamlit's static files gzipped
  once per process.

Only light modules are imported here (the server starts listening after this import).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run explorer/app.py` puts only explorer/ on sys.path; the package needs its parent.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

if __name__ == "__main__":  # a run of the page script
    from explorer.ui.page import main

    main()
else:  # imported by `streamlit run` (or an ASGI server) as the server's app
    import streamlit as st
    from starlette.middleware import Middleware

    from explorer.ui.first_load import FirstLoadMiddleware
    from explorer.ui.offline import keep_streamlit_offline
    from explorer.ui.startup import lifespan

    keep_streamlit_offline()
    app = st.App(__file__, lifespan=lifespan, middleware=[Middleware(FirstLoadMiddleware)])
