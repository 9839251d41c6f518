"""Name -> class registries for detectors and trackers.

Built-ins are listed as ``module:attribute`` so that naming ``sort`` never imports torch;
third parties register through the entry point groups ``mot_bench.detectors`` and
``mot_bench.trackers`` without editing this repository.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any

from mot_bench.options import (
    OptionError,
    convert,
    declared_names,
    option_names,
    options_class,
    parse_bool,
    prefixes,
    signature_hints,
    unknown_option,
)

__all__ = ["DETECTORS", "TRACKERS", "OptionError", "Registry", "UnknownNameError", "coerce_options", "parse_bool"]


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

    def snapshot(self) -> dict[str, Any]:
        """The current name -> target table, for :meth:`restore` (tests that register classes)."""
        return dict(self._targets)

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Put back a table taken by :meth:`snapshot`: names registered since then are gone."""
        self._targets = dict(snapshot)

    def _load_entry_points(self) -> None:
        for ep in entry_points(group=self.group):
            self._targets.setdefault(ep.name, ep)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._targets)

    def get(self, name: str) -> type:
        self._load_entry_points()
        if name not in self._targets:
            close = difflib.get_close_matches(str(name), self.names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{hint}; valid {self.kind}s: {', '.join(self.names())}"
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


def coerce_options(cls: type, options: dict[str, Any], what: str) -> dict[str, Any]:
    """Check ``k=v`` option names against what ``cls`` accepts and type those its declaration does not.

    Declared options (``cls.Options``) are passed on as given: the plugin's constructor parses them
    (:func:`mot_bench.options.parse_options`). Keyword parameters of the constructor outside the
    declaration (third-party plugins, or parameters another layer owns) are typed here from the
    constructor's annotations (``typing.get_type_hints``). Unknown names are refused, with the closest match.
    """
    named, hints, accepts_any = signature_hints(cls)
    decl_cls = options_class(cls)
    own = set(declared_names(decl_cls)) if decl_cls is not None else set()
    prefixed = set(prefixes(decl_cls))  # ``base.KEY=VALUE``: folded into a dict option by the plugin
    out = {}
    for key, value in options.items():
        if key in own or key.partition(".")[0] in prefixed:
            out[key] = value
            continue
        if key not in named:
            if accepts_any and decl_cls is None:
                out[key] = value
                continue
            raise unknown_option(key, option_names(cls) or list(named), what)
        try:
            out[key] = convert(value, hints[key])
        except (ValueError, TypeError) as exc:
            raise OptionError(f"{what} option {key}={value!r}: {exc}") from None
    return out


DETECTORS = Registry(
    "detector",
    "mot_bench.detectors",
    {
        "public": "mot_bench.detectors.public:PublicDetector",
        "oracle": "mot_bench.detectors.oracle:OracleDetector",
        "precomputed": "mot_bench.detectors.precomputed:PrecomputedDetector",
        "fairmot": "mot_bench.detectors.fairmot.detector:FairMOTDetector",
        "reid": "mot_bench.detectors.reid.detector:ReIDDetector",
    },
)

TRACKERS = Registry(
    "tracker",
    "mot_bench.trackers",
    {
        "sort": "mot_bench.trackers.sort:SortTracker",
        "bytetrack": "mot_bench.trackers.bytetrack:ByteTracker",
        "ocsort": "mot_bench.trackers.ocsort:OCSortTracker",
        "fairmot": "mot_bench.trackers.fairmot:FairMOTTracker",
        "botsort": "mot_bench.trackers.botsort:BoTSORT",
        "deepsort": "mot_bench.trackers.deepsort:DeepSortTracker",
        "strongsort": "mot_bench.trackers.strongsort:StrongSortTracker",
        "deepocsort": "mot_bench.trackers.deepocsort:DeepOCSortTracker",
        "ucmctrack": "mot_bench.trackers.ucmctrack:UCMCTracker",
        "boosttrack": "mot_bench.trackers.boosttrack:BoostTrackTracker",
        "boosttrackplus": "mot_bench.trackers.boosttrack:BoostTrackPlusTracker",
        "boosttrackpp": "mot_bench.trackers.boosttrack:BoostTrackPPTracker",
        "hybridsort": "mot_bench.trackers.hybridsort:HybridSORT",
        "hybridsort_reid": "mot_bench.trackers.hybridsort:HybridSORTReID",
        "tracktrack": "mot_bench.trackers.tracktrack:TrackTrack",
    },
)
