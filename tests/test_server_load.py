"""A few sessions driven over the websocket without a browser (benchmarks/server_load.py, bounded).

Only facts that do not depend on timing: every condition change a session sent got its
``script_finished`` (a complete run, not an early stop), no exception reached a page, no session's
websocket was dropped, and the server served several sessions at once. Latency and CPU figures
belong to the benchmark (``python benchmarks/server_load.py``), not here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.server_load import APP, MINIMAL_APP, measure  # noqa: E402 - after the path set-up

SESSIONS = 5
SECONDS = 15.0
INTERVAL_S = 3.0


@pytest.fixture(scope="module")
def summary() -> dict:
    return measure(APP, SESSIONS, SECONDS, INTERVAL_S, linger=1.0)


def test_every_change_finished_its_run(summary: dict) -> None:
    assert summary["sessions"] == SESSIONS
    # Each session changes the condition at least once in 15 s at one change per 3 s.
    assert summary["changes_sent"] >= SESSIONS
    assert summary["changes_finished"] == summary["changes_sent"], summary["errors"]
    assert summary["change_statuses"] == {"FINISHED_SUCCESSFULLY": summary["changes_sent"]}
    # The page loads plus the changes: every run the sessions asked for was seen to finish.
    assert summary["script_runs_finished"] >= summary["changes_sent"] + SESSIONS


def test_no_errors_and_no_exceptions(summary: dict) -> None:
    assert summary["exceptions"] == 0, summary["errors"]
    assert summary["error_count"] == 0, summary["errors"]


def test_each_change_sent_the_page_again(summary: dict) -> None:
    # A change is answered with the new page (the 3D styling, the chart, the texts), not nothing.
    assert summary["bytes_per_change"]["p50"] > 1000


def test_a_change_sends_what_changed_not_the_figures_again(summary: dict) -> None:
    """The 3D view and the body chart send only what changed (explorer.frontend.transport): a
    condition change costs a small part of what the first load sent for them."""
    load, change = summary["bytes_per_load_by_part"], summary["bytes_per_change_by_part"]
    for part, share in (("bidi_component explorer.viewer3d", 0.1), ("bidi_component explorer.chart2d", 0.35)):
        assert part in load and part in change, (sorted(load), sorted(change))
        assert change[part] < share * load[part], (part, change[part], load[part])
    # Counted on the socket too (compressed when the server compresses websocket messages).
    assert summary["wire_bytes_per_change"]["p50"] > 0


def test_the_server_held_the_sessions_open_at_once(summary: dict) -> None:
    fds = summary["fds"]
    # One socket per open session at least (the sessions overlap in time).
    assert fds["peak"] >= fds["before"] + SESSIONS
    assert fds["after_close"] <= fds["peak"]


def test_the_bare_app_is_driven_the_same_way() -> None:
    """The baseline the benchmark compares with answers the same client (its picker key is known)."""
    bare = measure(MINIMAL_APP, 2, 12.0, 2.0, linger=0.0, warm=False)
    assert bare["changes_finished"] == bare["changes_sent"] >= 2
    assert bare["error_count"] == 0 and bare["exceptions"] == 0, bare["errors"]


def test_option_env_name_matches_streamlits_own() -> None:
    """``--set runner.postScriptGC=false`` must reach the server as the variable Streamlit reads
    (its ConfigOption.env_var), or an A/B run would silently measure the same server twice."""
    from streamlit import config

    from benchmarks.server_load import option_env_name

    options = config.get_config_options()
    for name in ("runner.postScriptGC", "server.enableWebsocketCompression", "global.minCachedMessageSize",
                 "global.maxCachedMessageAge", "server.fileWatcherType"):
        assert option_env_name(name) == options[name].env_var, name


def test_the_server_memory_is_sampled(summary: dict) -> None:
    # RSS over the driven phase (bounded memory is what Streamlit's after-run collection was for;
    # .streamlit/config.toml turns that collection off): sampled about once a second.
    rss = summary["rss"]
    assert len(rss["samples"]) >= SECONDS / 2
    assert 0 < rss["start_mb"] <= rss["peak_mb"] and rss["end_mb"] <= rss["peak_mb"]


def test_the_app_config_keeps_reruns_cheap() -> None:
    """The options the 60-session figures rest on (.streamlit/config.toml; see the comments there):
    no full collection after every run (49 of a bare app's 56 ms per rerun), and a browser message
    cache that sends unchanged elements from 200 bytes as references and keeps them for 20 runs."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert config["global"]["minCachedMessageSize"] <= 1000
    assert config["global"]["maxCachedMessageAge"] > 2  # Streamlit's default
    assert config["server"]["enableWebsocketCompression"] is True
