"""Name -> class registries for detectors and trackers.

Built-ins are listed as ``module:attribute`` so that naming ``sort`` never imports torch;
third parties register through the entry point groups ``mot_bench.detectors`` and
``mot_bench.trackers`` without editing this repository.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any


class UnknownNameError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


class Registry:
    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._targets: dict[str, Any] = dict(builtins)

    def register(self, name: str):
        """Decorator for classes defined at run time (tests, notebooks)."""

        def deco(cls):
            self._targets[name] = cls
            return cls

        return deco

    def _load_entry_points(self) -> None:
        for ep in entry_points(group=self.group):
            self._targets.setdefault(ep.name, ep)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._targets)

    def get(self, name: str) -> type:
        self._load_entry_points()
        if name not in self._targets:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; valid {self.kind}s: {', '.join(self.names())}"
            )
        target = self._targets[name]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
        elif hasattr(target, "load") and not inspect.isclass(target):
            target = target.load()
        self._targets[name] = target
        return target

    def create(self, name: str, options: dict[str, Any] | None = None) -> Any:
        cls = self.get(name)
        return cls(**coerce_options(cls, options or {}, f"{self.kind} {name!r}"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    """Strict: 'False' is false, and anything that is neither true nor false is an error."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected a boolean (true/false/1/0/yes/no/on/off), got {text!r}")


def _convert(text: str, annotation: Any) -> Any:
    ann = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    ann = ann.replace(" ", "")
    if ann.startswith("bool"):
        return parse_bool(text)
    if "|None" in ann and text.strip().lower() == "none":
        return None
    base = ann.split("|")[0]
    if base == "int":
        return int(text)
    if base == "float":
        return float(text)
    return text


def coerce_options(cls: type, options: dict[str, Any], what: str) -> dict[str, Any]:
    """Turn ``k=v`` strings into the types the constructor declares; reject unknown keys."""
    params = inspect.signature(cls.__init__).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    out = {}
    for key, value in options.items():
        if key not in params:
            if accepts_any:
                out[key] = value
                continue
            valid = [k for k in params if k != "self" and params[k].kind is not inspect.Parameter.VAR_KEYWORD]
            raise ValueError(f"{what} has no option {key!r}; valid options: {', '.join(valid)}")
        if isinstance(value, str):
            try:
                value = _convert(value, params[key].annotation)
            except ValueError as exc:
                raise ValueError(f"{what} option {key}={value!r}: {exc}") from None
        out[key] = value
    return out


DETECTORS = Registry(
    "detector",
    "mot_bench.detectors",
    {
        "public": "detectors.public:PublicDetector",
        "oracle": "detectors.oracle:OracleDetector",
        "precomputed": "detectors.precomputed:PrecomputedDetector",
        "fairmot": "detectors.fairmot.detector:FairMOTDetector",
    },
)

TRACKERS = Registry(
    "tracker",
    "mot_bench.trackers",
    {
        "sort": "trackers.sort:SortTracker",
        "bytetrack": "trackers.bytetrack:ByteTracker",
        "ocsort": "trackers.ocsort:OCSortTracker",
        "fairmot": "trackers.fairmot:FairMOTTracker",
    },
)
