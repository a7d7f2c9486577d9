"""Fuzzers for everything that comes from outside: links, command lines, content and asset files, browser events.

Bounded, seeded runs in the normal test run (``python -m pytest tests/fuzz``); a longer run for the
benchmark with ``python tests/fuzz --long`` (see ``tests/fuzz/__main__.py``).
"""
