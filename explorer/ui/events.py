"""Validation of events sent by the browser components (a click on the 3D view or the body chart).

An event comes from the browser, so it can be anything a visitor (or a script talking to the
websocket) chooses to send: an id that is a list, a dict, a number, ``None`` or a string of
megabytes. Handlers ask :func:`clicked_id` for the id and get either one of the ids they allow
or ``None`` (ignore the click); they never index, hash or compare raw event values themselves.
"""

from __future__ import annotations

import logging
import reprlib
from collections.abc import Collection, Mapping

from explorer.state import shown

# No id in the app is longer than this (structure ids such as "root-L5-left" are ~20 characters);
# anything longer is rejected before it is hashed or looked up.
MAX_ID_CHARS: int = 200

_LOG = logging.getLogger(__name__)

# repr() of a browser value can be unbounded (a list nested thousands deep raises RecursionError,
# a long list builds megabytes before it is cut) and, for an object, can itself raise: the log
# gets a bounded description instead (a few items, a few levels, strings cut).
def _bounded_repr() -> reprlib.Repr:
    bounded = reprlib.Repr()  # Python 3.11 takes no keyword arguments here
    bounded.maxlevel = 3
    bounded.maxlist = bounded.maxtuple = bounded.maxdict = bounded.maxset = bounded.maxfrozenset = 6
    bounded.maxdeque = bounded.maxarray = 6
    bounded.maxstring = MAX_ID_CHARS
    bounded.maxlong = bounded.maxother = 40
    return bounded


_BOUNDED = _bounded_repr()


def described(value: object) -> str:
    """``value`` quoted for a log line: bounded in size and depth, shortened, never raising."""
    try:
        return shown(_BOUNDED.repr(value))
    except Exception:  # noqa: BLE001 - a value that cannot even be described is still only logged
        return f"<a {type(value).__name__}>"


def _field(container: object, key: str) -> object:
    """``container[key]`` or ``container.key`` (component results are attribute dicts), else None."""
    if isinstance(container, Mapping):
        try:
            return container.get(key)
        except Exception:  # a hostile mapping: treat as absent  # noqa: BLE001
            return None
    try:
        return getattr(container, key, None)
    except Exception:  # noqa: BLE001 - an object whose attribute access fails is not an event
        return None


def clicked_id(event: object, allowed: Collection[str], key: str = "clicked", field: str = "id") -> str | None:
    """The id a click event names, if it is one of ``allowed``; otherwise None.

    Parameters
    ----------
    event : object
        The component's value from ``st.session_state`` (a mapping or attribute dict), or None.
    allowed : collection of str
        The ids this handler accepts (e.g. ``STRUCTURES`` or the body-chart area ids).
    key : str
        Name of the event's trigger value inside ``event`` (``"clicked"``).
    field : str
        Name of the id inside that value (``"id"``).

    Returns
    -------
    str or None
        The id, exactly as listed in ``allowed``; None for a missing, malformed or unknown id.
    """
    if event is None:
        return None
    clicked = _field(event, key)
    if clicked is None:
        return None
    if not isinstance(clicked, Mapping):
        _LOG.info("Ignored a %s event that is not an object: %s", key, described(clicked))
        return None
    value = _field(clicked, field)
    # Only a plain, short string can be an id: lists and dicts are unhashable, numbers and bools
    # are never ids, and a huge string is refused before it is hashed.
    if type(value) is not str or len(value) > MAX_ID_CHARS:
        _LOG.info("Ignored a %s event with a malformed id: %s", key, described(value))
        return None
    if value not in allowed:
        _LOG.info("Ignored a %s event with an unknown id: %s", key, shown(value))
        return None
    return value
