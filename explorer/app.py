"""Streamlit entry point: ``streamlit run explorer/app.py``.

Only reads widgets, calls pure functions and shows their results; no domain logic lives here.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run explorer/app.py` puts only explorer/ on sys.path; the package needs its parent.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

from explorer.ui.page import main  # noqa: E402 - needs the sys.path entry above

main()
