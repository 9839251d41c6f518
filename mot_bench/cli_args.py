"""Parsing of repeated command-line values, shared by every command (``run``, ``eval``, ``tune``, ...)."""

from __future__ import annotations

import click


def parse_kv(items: tuple[str, ...], what: str) -> dict[str, str]:
    """``k=v`` pairs from repeated options; values stay strings, typed later by the declarations."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=what)
        out[key.strip()] = value.strip()
    return out


def split_names(text: str | None) -> list[str] | None:
    """A comma-separated list (e.g. ``--seqs A,B``); None when not given."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None
