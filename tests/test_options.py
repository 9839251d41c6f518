"""Typed plugin options: one declaration per plugin feeds parsing, config(), `mot-bench list` and --help."""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import pytest

from mot_bench.options import (
    OptionError,
    describe,
    option,
    option_names,
    options_class,
    parse_options,
    split_tracker_options,
)
from mot_bench.plugins import Tracker
from mot_bench.registry import DETECTORS, TRACKERS


@dataclasses.dataclass
class _Opts:
    thresh: float = option(0.5, "a threshold", range=(0.1, 0.9), bounds=(0.0, 1.0))
    maybe: Optional[float] = option(None, "Optional[float]")  # noqa: UP045 - the old spelling must work too
    either: None | float = option(1.0, "None | float")
    ids: list[int] = option([1, 2], "list[int]")
    pair: tuple[float, float] = option((0.0, 1.0), "tuple[float, float]")
    mode: Literal["fast", "exact"] = option("fast", "Literal")
    flag: bool = option(False, "bool")
    count: int = option(3, "int", bounds=(0, None))
    text: str | None = option(None, "str | None")


def test_text_values_arrive_typed():
    o = parse_options(_Opts, {"thresh": "0.6", "maybe": "0.25", "either": "none", "ids": "3, 4,5",
                              "pair": "[0.5, 2]", "mode": "exact", "flag": "False", "count": "7", "text": "none"},
                      "plugin 'x'")
    assert o == _Opts(thresh=0.6, maybe=0.25, either=None, ids=[3, 4, 5], pair=(0.5, 2.0), mode="exact", flag=False,
                      count=7, text=None)
    assert type(o.ids[0]) is int and type(o.pair[1]) is float
    assert parse_options(_Opts, {"ids": "[7]", "maybe": "None", "either": "2"}, "p").ids == [7]
    # Typed values (Python, JSON configs) pass through the same checks.
    assert parse_options(_Opts, {"thresh": 1, "count": 2.0, "ids": (1,)}, "p") == _Opts(thresh=1.0, count=2, ids=[1])
    # Defaults are fresh per instance.
    a, b = parse_options(_Opts, {}, "p"), parse_options(_Opts, {}, "p")
    a.ids.append(9)
    assert b.ids == [1, 2]


@pytest.mark.parametrize("key, value, message", [
    ("thresh", "nan", "thresh='nan': expected a finite number"),
    ("thresh", "inf", "expected a finite number"),
    ("thresh", "1.5", "plugin 'x' option thresh=1.5 is outside its valid range [0.0, 1.0]"),
    ("count", "-1", "count=-1 is outside its valid range [0, inf]"),
    ("count", "2.5", "count='2.5': expected an integer"),
    ("count", True, "expected an integer"),
    ("flag", "maybe", "expected a boolean"),
    ("mode", "slow", "mode='slow': expected one of fast, exact"),
    ("ids", "1,x", "ids='1,x': expected an integer, got 'x'"),
    ("pair", "1,2,3", "expected 2 values"),
    ("maybe", "abc", "maybe='abc': expected float | None, got 'abc'"),
    ("thres", "0.1", "plugin 'x' has no option 'thres' (did you mean 'thresh'?); valid options: thresh, maybe, "),
])
def test_bad_values_are_refused_in_one_line(key, value, message):
    with pytest.raises(OptionError) as info:
        parse_options(_Opts, {key: value}, "plugin 'x'")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_presets_give_defaults_that_explicit_options_override():
    @dataclasses.dataclass
    class P:
        preset: Literal["std", "demo"] = option("std", "named defaults")
        a: float = option(0.6, "a")
        b: float = option(0.9, "b")
        PRESETS = {"std": {}, "demo": {"a": 0.5, "b": 0.8}}

    assert parse_options(P, {"preset": "demo"}, "p") == P("demo", 0.5, 0.8)
    assert parse_options(P, {"preset": "demo", "a": "0.55"}, "p") == P("demo", 0.55, 0.8)
    assert parse_options(P, {}, "p") == P("std", 0.6, 0.9)
    with pytest.raises(OptionError, match="preset='x': expected one of std, demo"):
        parse_options(P, {"preset": "x"}, "p")


def test_undeclared_third_party_constructor_is_typed_from_its_annotations():
    """Before: annotations were matched as strings, so these reached the plugin as raw text."""

    class ThirdParty(Tracker):
        name = "third_party"

        def __init__(self, a: Optional[float] = None, b: None | float = None, c: list[int] | None = None,  # noqa: UP045
                     d: int = 1) -> None:
            self.a, self.b, self.c, self.d = a, b, c, d

    TRACKERS.register("third_party")(ThirdParty)
    trk = TRACKERS.create("third_party", {"a": "0.5", "b": "2", "c": "1,2", "d": "3"})
    assert (trk.a, trk.b, trk.c, trk.d) == (0.5, 2.0, [1, 2], 3)
    assert TRACKERS.create("third_party", {"a": "none"}).a is None
    with pytest.raises(OptionError, match="has no option 'e'"):
        TRACKERS.create("third_party", {"e": "1"})
    assert option_names(ThirdParty) == ["a", "b", "c", "d"]
    assert [r.name for r in describe(ThirdParty)] == ["a", "b", "c", "d"]
    assert ThirdParty().config() == {"name": "third_party"}


@pytest.mark.parametrize("name", ["sort", "bytetrack", "fairmot"])
def test_every_tracker_config_comes_from_its_declaration(name):
    cls = TRACKERS.get(name)
    decl = options_class(cls)
    assert decl is not None and "config" not in vars(cls)
    fields = [f.name for f in dataclasses.fields(decl)]
    trk = TRACKERS.create(name)
    assert list(trk.config()) == ["name", *fields]
    assert trk.config() == {"name": name, **dataclasses.asdict(decl())}
    # Each option shows up (typed) in config() and as an attribute; every declared option has help.
    for row in describe(cls):
        assert row.help and row.type
        if row.range is not None:  # a tuner's search range lies inside the valid values
            lo, hi = row.bounds or (None, None)
            assert (lo is None or row.range[0] >= lo) and (hi is None or row.range[1] <= hi), row
            assert row.range[0] < row.range[1]
    numeric = [r for r in describe(cls) if r.type in ("int", "float")]
    assert numeric and all(r.range is not None for r in numeric)  # every numeric tracker option can be tuned
    row = numeric[0]
    value = row.range[1]
    trk = TRACKERS.create(name, {row.name: str(value)})
    assert trk.config()[row.name] == value and getattr(trk, row.name) == value


@pytest.mark.parametrize("name", ["public", "oracle", "precomputed"])
def test_detector_config_comes_from_its_declaration(name, tmp_path):
    cls = DETECTORS.get(name)
    decl = options_class(cls)
    assert decl is not None and "config" not in vars(cls)
    det = DETECTORS.create(name, {"det_dir": str(tmp_path)} if name == "precomputed" else {})
    assert list(det.config()) == ["name", *(f.name for f in dataclasses.fields(decl))]


def test_split_tracker_options_per_tracker():
    trackers = {"bytetrack": ["track_thresh", "track_buffer"], "sort": ["max_age"], "fairmot": ["track_buffer"]}
    out = split_tracker_options({"track_buffer": "20", "bytetrack.track_buffer": "40", "max_age": "3",
                                 "bytetrack.track_thresh": "0.6"}, trackers)
    assert out == {"bytetrack": {"track_buffer": "40", "track_thresh": "0.6"}, "sort": {"max_age": "3"},
                   "fairmot": {"track_buffer": "20"}}
    assert split_tracker_options({}, trackers) == {"bytetrack": {}, "sort": {}, "fairmot": {}}
    with pytest.raises(OptionError, match="no tracker of this run has an option 'max_agee' "
                                          "\\(did you mean 'max_age'\\?\\)"):
        split_tracker_options({"max_agee": "3"}, trackers)
    with pytest.raises(OptionError, match="tracker 'ocsort' is not in this run"):
        split_tracker_options({"ocsort.delta_t": "3"}, trackers)
    with pytest.raises(OptionError, match="tracker 'sort' has no option 'track_thresh'"):
        split_tracker_options({"sort.track_thresh": "0.6"}, trackers)
    # A tracker that takes any keyword (undeclared **kwargs) takes every plain option.
    assert split_tracker_options({"x": "1"}, {"any": None, "sort": ["max_age"]}) == {"any": {"x": "1"}, "sort": {}}
