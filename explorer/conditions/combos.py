"""Every valid combination of a condition's parameters (for tests, benchmarks and teaching links)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from explorer.conditions.base import ConditionSpec


def combinations(spec: ConditionSpec) -> Iterator[dict[str, str]]:
    """Each distinct applicable parameter set once (``side`` is skipped where it does not apply)."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    for values in itertools.product(*(p.values for p in spec.params)):
        params = spec.applicable(dict(zip((p.name for p in spec.params), values, strict=True)))
        key = tuple(sorted(params.items()))
        if key not in seen:
            seen.add(key)
            yield params
