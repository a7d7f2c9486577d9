"""YAML for hand-written files (content texts, clinical cases): safe, and bounded.

PyYAML's safe loader still accepts anchors and aliases, so an alias bomb (``&a [..]``,
``&b [*a, *a, ..]``, ...) loads as a few shared lists and then expands exponentially as soon as a
value is turned into text (a title took minutes and all the memory); and deep nesting (``[[[[...``)
hits Python's recursion limit inside PyYAML's composer. Hand-written files never need either, so
:class:`StrictLoader` refuses both while composing, in one pass.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_DEPTH: int = 20


class RefusedYAML(yaml.composer.ComposerError):
    """Valid YAML that these files must not use (an anchor, an alias, or nesting too deep)."""


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases, and nested at most :data:`MAX_YAML_DEPTH` deep.

    Breaches raise :class:`RefusedYAML` (a ``yaml.YAMLError``) whose ``problem`` says what is not
    allowed.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise RefusedYAML(
                None, None, "anchors and aliases (&name, *name) are not allowed; write each value out",
                event.start_mark)
        depth = getattr(self, "_depth", 0)
        if depth >= MAX_YAML_DEPTH:
            raise RefusedYAML(
                None, None, f"values are nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth


def load_strict(text: str) -> Any:
    """Parse ``text`` with :class:`StrictLoader` (raises ``yaml.YAMLError`` on any problem)."""
    return yaml.load(text, Loader=StrictLoader)  # a SafeLoader, stricter still
