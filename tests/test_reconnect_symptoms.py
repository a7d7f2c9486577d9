"""Issue 14: symptoms marked before a replica died survive the browser's reconnect to another replica.

The marks are not in the link; the reconnected browser sends them with the new session's first run.
A write to st.session_state before the lists are drawn (``setdefault(key, [])``) used to win over them.
"""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "explorer" / "app.py")
TIMEOUT_S = 120
LINK = {"mode": "symptoms", "audience": "student"}


def _first_run() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in LINK.items():
        at.query_params[key] = value
    return at.run()


def test_marked_symptoms_survive_a_reconnect_to_another_replica() -> None:
    first = _first_run()
    assert not first.exception, [e.value for e in first.exception]
    left = first.multiselect(key="marked_left")
    area = left.options[0]
    left.select(area).run()
    assert first.multiselect(key="marked_left").value == [area]
    sent = first._tree.get_widget_states()  # noqa: SLF001  (no public way to replay one session's widgets)

    again = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in LINK.items():
        again.query_params[key] = value
    again._run(sent)  # noqa: SLF001
    assert not again.exception, [e.value for e in again.exception]
    assert again.multiselect(key="marked_left").value == [area]
