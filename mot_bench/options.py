"""Typed plugin options, declared once: type, default, one-line help, valid bounds, search range.

A plugin points at a dataclass of its options (``Options = ByteTrackOptions``) whose fields are made
with :func:`option`. Everything else reads that one declaration: parsing ``KEY=VALUE`` text
(:func:`parse_options`, types from :func:`typing.get_type_hints`, so ``float | None``, ``list[int]`` and
``Literal[...]`` arrive typed), a plugin's ``config()`` (:func:`options_dict`), ``mot-bench list`` and
``--help`` (:func:`describe`), and the per-tracker split of ``--tracker-opt`` (:func:`split_tracker_options`).

``bounds`` are the values an option accepts (checked, one clear line when violated); ``range`` is the
interval a tuner explores (inside the bounds). An options class may name sets of defaults in a class
variable ``PRESETS`` (``{"demo": {"track_thresh": 0.5, ...}}``) chosen by its ``preset`` field;
options given explicitly override the preset's. A ``dict`` option may also be given key by key:
``PREFIXED = {"base": "base_options"}`` in the options class folds ``base.KEY=VALUE`` items into the
``base_options`` dict (:func:`fold_prefixed`; how the ``reid`` detector passes its base detector's options).

Per-sequence settings (official evaluations that give each sequence its own values, e.g. UCMCTrack's
``run_mot17_val.bat``): an options class that declares a ``per_sequence`` field
(:func:`per_sequence_option`) takes a table ``{sequence: {option: value}}``, named in its class variable
``SEQUENCE_PRESETS`` or read from a JSON file (:func:`load_sequence_table`: every value typed and checked
like a given option, errors naming the file's line). :func:`options_for_sequence` gives one sequence's
options: defaults < ``preset`` < the table's row < options given explicitly. The tracker applies them in
``reset(seq)`` (:meth:`mot_bench.plugins.Tracker.use_sequence_options`), so ``mot-bench run`` and
``mot-bench tune`` see the same per-sequence values.

Ground module: imports nothing of the rest of mot_bench.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import math
import types
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

__all__ = [
    "OptionError",
    "OptionRow",
    "declared_names",
    "fold_prefixed",
    "describe",
    "option",
    "option_names",
    "options_class",
    "options_dict",
    "options_for_sequence",
    "load_sequence_table",
    "per_sequence_option",
    "sequence_presets",
    "sequence_row",
    "parse_bool",
    "parse_options",
    "split_tracker_options",
    "unknown_option",
]

_KEY = "mot_bench"


class OptionError(ValueError):
    """A bad option name or value; the message is one line naming the plugin, option and value."""


def option(default: Any, help: str, *, range: tuple[float, float] | None = None,
           bounds: tuple[float | None, float | None] | None = None, choices: Collection[Any] | None = None) -> Any:
    """A dataclass field with its help, valid ``bounds`` (inclusive; None = open), tuner search ``range``
    (inclusive) and, for plain strings, ``choices`` (prefer ``Literal`` for those)."""
    meta = {_KEY: {"help": help, "range": range, "bounds": bounds, "choices": tuple(choices) if choices else None}}
    if isinstance(default, list | dict | set):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# ------------------------------------------------------------------------------------------ scalars

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


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def type_name(tp: Any) -> str:
    """``float | None``, ``list[int]``, ``'a'|'b'`` as a reader would write them."""
    if tp is type(None):
        return "None"
    if _is_union(tp):
        return " | ".join(type_name(a) for a in get_args(tp))
    origin = get_origin(tp)
    if origin is Literal:
        return "|".join(str(a) for a in get_args(tp))
    if origin in (list, tuple, set, dict):
        args = get_args(tp)
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]" if args else origin.__name__
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", str(tp))


def _finite(x: float) -> float:
    if not math.isfinite(x):
        raise ValueError(f"expected a finite number, got {x}")
    return x


def _sequence_items(value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list: {exc.msg}") from None
        else:
            return [p.strip() for p in text.split(",") if p.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ValueError(f"expected a list (comma-separated or JSON), got {value!r}")


def convert(value: Any, tp: Any) -> Any:
    """``value`` (text from a command line, or a Python/JSON value) as type ``tp``; ValueError if it is not one."""
    if tp is Any or tp is object:
        return value
    if _is_union(tp):
        args = get_args(tp)
        if type(None) in args and (value is None or (isinstance(value, str) and value.strip().lower() in
                                                      ("none", "null"))):
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg)
            except (ValueError, TypeError):
                continue
        raise ValueError(f"expected {type_name(tp)}, got {value!r}")
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        for a in allowed:
            if value == a or (isinstance(value, str) and not isinstance(a, str) and value.strip() == str(a)):
                return a
            if isinstance(value, str) and isinstance(a, str) and value.strip() == a:
                return a
        raise ValueError(f"expected one of {', '.join(map(str, allowed))}, got {value!r}")
    if origin in (list, set):
        (inner,) = get_args(tp) or (Any,)
        return origin(convert(v, inner) for v in _sequence_items(value))
    if origin is tuple:
        args = get_args(tp)
        items = _sequence_items(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(v, args[0]) for v in items)
        if args and len(items) != len(args):
            raise ValueError(f"expected {len(args)} values ({type_name(tp)}), got {len(items)}")
        return tuple(convert(v, a) for v, a in zip(items, args or [Any] * len(items), strict=True))
    if origin is dict or tp is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON object: {exc.msg}") from None
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {value!r}")
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return parse_bool(value)
        raise ValueError(f"expected a boolean, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise ValueError(f"expected an integer, got {value!r}") from None
        raise ValueError(f"expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, int | float):
            return _finite(float(value))
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
            return _finite(number)
        raise ValueError(f"expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError(f"expected text, got {value!r}")
    if isinstance(tp, type):
        return value if isinstance(value, tp) else tp(value)
    return value


# ------------------------------------------------------------------------------------ declarations


def options_class(plugin: Any) -> type | None:
    """The options dataclass a plugin class (or instance) declares, or None (third-party, signature-typed)."""
    cls = getattr(plugin, "Options", None)
    return cls if cls is not None and dataclasses.is_dataclass(cls) else None


def _meta(f: dataclasses.Field) -> dict[str, Any]:
    return f.metadata.get(_KEY, {"help": "", "range": None, "bounds": None, "choices": None})


def declared_names(options_cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(options_cls) if f.init]


def _fields(options_cls: type) -> dict[str, tuple[dataclasses.Field, Any]]:
    hints = get_type_hints(options_cls)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(options_cls) if f.init}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _presets(options_cls: type) -> dict[str, dict[str, Any]]:
    return dict(getattr(options_cls, "PRESETS", None) or {})


def unknown_option(key: str, valid: list[str], what: str) -> OptionError:
    """The one-line error for a name that is not an option, with the closest valid one."""
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return OptionError(f"{what} has no option {key!r}{hint}; valid options: {', '.join(valid) or 'none'}")


def _check_bounds(name: str, value: Any, bounds: tuple | None, what: str) -> None:
    if bounds is None or value is None:
        return
    values = value if isinstance(value, list | tuple | set) else [value]
    lo, hi = bounds
    for v in values:
        if not isinstance(v, int | float) or isinstance(v, bool):
            continue
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise OptionError(f"{what} option {name}={value!r} is outside its valid range {_interval(bounds)}")


def _interval(bounds: tuple | None) -> str:
    if bounds is None:
        return "-"
    lo, hi = bounds
    return f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"


def prefixes(options_cls: type | None) -> dict[str, str]:
    """``{prefix: dict option}`` an options class declares in ``PREFIXED`` (see the module docstring)."""
    return dict(getattr(options_cls, "PREFIXED", None) or {}) if options_cls is not None else {}


def fold_prefixed(options_cls: type, raw: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """``raw`` with each ``prefix.KEY=VALUE`` item moved into its dict option (``PREFIXED``); a key given
    both ways is refused. Values stay as given (text from a command line): the receiver types them."""
    raw = dict(raw or {})
    table = prefixes(options_cls)
    if not table:
        return raw
    out: dict[str, Any] = {}
    folded: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in table and rest:
            folded.setdefault(table[prefix], {})[rest] = value
        else:
            out[key] = value
    for target, items in folded.items():
        given = out.get(target) or {}
        if isinstance(given, str):
            given = convert(given, dict)
        both = sorted(set(given) & set(items))
        if both:
            raise OptionError(f"{what}: {', '.join(both)} given both in {target} and as "
                              f"{next(p for p, t in table.items() if t == target)}.KEY=VALUE")
        out[target] = {**given, **items}
    return out


def parse_options(options_cls: type, raw: Mapping[str, Any] | None, what: str) -> Any:
    """An ``options_cls`` instance from ``raw`` (text or typed values); strict: unknown names, values of
    the wrong type, NaN/inf and values outside the declared bounds are refused with one clear line."""
    raw = fold_prefixed(options_cls, raw, what)
    fields = _fields(options_cls)
    for key in raw:
        if key not in fields:
            raise unknown_option(key, list(fields), what)
    values: dict[str, Any] = {}
    presets = _presets(options_cls)
    if presets and "preset" in fields:
        preset = raw.get("preset", _default(fields["preset"][0]))
        preset = _convert_one("preset", preset, fields["preset"], what)
        if preset is not None and preset not in presets:
            raise OptionError(f"{what} option preset={preset!r}: expected one of {', '.join(presets)}")
        values.update((k, v) for k, v in presets.get(preset, {}).items() if k not in raw)
    values.update(raw)
    out = {}
    for key, value in values.items():
        out[key] = _convert_one(key, value, fields[key], what)
    return options_cls(**out)


def _convert_one(key: str, value: Any, spec: tuple[dataclasses.Field, Any], what: str) -> Any:
    f, tp = spec
    meta = _meta(f)
    try:
        typed = convert(value, tp)
    except (ValueError, TypeError) as exc:
        raise OptionError(f"{what} option {key}={value!r}: {exc}") from None
    if meta["choices"] and typed is not None and typed not in meta["choices"]:
        raise OptionError(f"{what} option {key}={value!r}: expected one of {', '.join(map(str, meta['choices']))}")
    _check_bounds(key, typed, meta["bounds"], what)
    return typed


def options_dict(options: Any) -> dict[str, Any]:
    """The options as a JSON-friendly dict (tuples become lists), in declaration order."""
    return json.loads(json.dumps(dataclasses.asdict(options), default=str))


# ------------------------------------------------------------------------ signature fallback (third party)


def signature_hints(cls: type) -> tuple[dict[str, inspect.Parameter], dict[str, Any], bool]:
    """Keyword parameters of ``cls.__init__`` (without self and ``**kwargs``), their types, and whether it
    takes ``**kwargs``. Types resolve with :func:`typing.get_type_hints`; unresolvable ones count as Any."""
    params = inspect.signature(cls.__init__).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = {k: p for k, p in params.items() if k != "self" and p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    try:
        hints = get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - a third-party annotation we cannot resolve: leave its values alone
        hints = {}
    return named, {k: hints.get(k, Any) for k in named}, accepts_any


def option_names(plugin: Any) -> list[str] | None:
    """Every option a plugin class accepts; None when it takes any keyword (undeclared ``**kwargs``)."""
    opts = options_class(plugin)
    named, _, accepts_any = signature_hints(plugin)
    if opts is not None:
        return [*_fields(opts), *(k for k in named if k not in _fields(opts))]
    return None if accepts_any else list(named)


# ------------------------------------------------------------------------------------------ describe


@dataclasses.dataclass(frozen=True)
class OptionRow:
    name: str
    type: str
    default: Any
    help: str
    range: tuple | None = None
    bounds: tuple | None = None
    choices: tuple | None = None


def describe(plugin: Any) -> list[OptionRow]:
    """One row per option (declared, or from the constructor's signature when there is no declaration)."""
    rows = []
    opts = options_class(plugin)
    declared: set[str] = set()
    if opts is not None:
        for name, (f, tp) in _fields(opts).items():
            meta = _meta(f)
            rows.append(OptionRow(name, type_name(tp), _default(f), meta["help"], meta["range"], meta["bounds"],
                                  meta["choices"]))
            declared.add(name)
    named, hints, _ = signature_hints(plugin)
    for name, p in named.items():
        if name in declared:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        rows.append(OptionRow(name, type_name(hints[name]), default, "(constructor parameter)"))
    return rows


def search_space(plugin: Any) -> dict[str, tuple]:
    """The declared search range of every option that has one: what a tuner may explore."""
    return {row.name: row.range for row in describe(plugin) if row.range is not None}


def presets_of(plugin: Any) -> dict[str, dict[str, Any]]:
    opts = options_class(plugin)
    return _presets(opts) if opts is not None else {}


def format_value(value: Any) -> str:
    """A value as one would type it after ``KEY=``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)


def format_range(r: tuple | None) -> str:
    """``lo..hi``, ``>= lo`` or ``<= hi`` (``-`` when there is none)."""
    if r is None:
        return "-"
    lo, hi = r
    if hi is None:
        return f">= {format_value(lo)}"
    if lo is None:
        return f"<= {format_value(hi)}"
    return f"{format_value(lo)}..{format_value(hi)}"


# ------------------------------------------------------------------------------ per-tracker split


def split_tracker_options(raw: Mapping[str, Any], trackers: Mapping[str, Collection[str] | None],
                          strict: bool = True) -> dict[str, dict[str, Any]]:
    """``{tracker: {option: value}}`` from ``--tracker-opt`` items of a multi-tracker run.

    ``trackers`` maps each tracker of the run to the option names it accepts (None: any). A key
    ``name.option`` goes to that tracker only (``name`` must be in the run); a plain ``option`` goes to
    every tracker that accepts it and is an error only when none does. A prefixed value wins over a
    plain one for its tracker. ``strict=False`` lets a prefixed key name a tracker not in the run.
    """
    out: dict[str, dict[str, Any]] = {name: {} for name in trackers}
    prefixed: list[tuple[str, str, Any]] = []
    for key, value in raw.items():
        prefix, dot, opt = key.partition(".")
        if dot:
            prefixed.append((prefix.strip(), opt.strip(), value))
            continue
        takers = [n for n, names in trackers.items() if names is None or key in names]
        if not takers:
            if len(trackers) == 1:
                (name, names), = trackers.items()
                raise unknown_option(key, list(names or ()), f"tracker {name!r}")
            every = sorted({o for names in trackers.values() if names for o in names})
            close = difflib.get_close_matches(key, every, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            valid = "; ".join(f"{n}: {', '.join(names or ())}" for n, names in trackers.items())
            raise OptionError(f"no tracker of this run has an option {key!r}{hint}; valid options: {valid}")
        for n in takers:
            out[n][key] = value
    for name, opt, value in prefixed:
        if name not in trackers:
            if not strict:
                continue
            raise OptionError(f"tracker option {name}.{opt}: tracker {name!r} is not in this run "
                              f"(trackers: {', '.join(trackers)})")
        names = trackers[name]
        if names is not None and opt not in names:
            raise unknown_option(opt, list(names), f"tracker {name!r}")
        out[name][opt] = value
    return out


# ------------------------------------------------------------------------------ per-sequence settings

SEQUENCE_OPTION = "per_sequence"
# A table may not set the selectors themselves nor what a run reads once, before any sequence (the
# runner's camera-motion request is made per tracker, not per sequence).
NOT_PER_SEQUENCE = frozenset({SEQUENCE_OPTION, "preset", "cmc_method", "gmc_dir", "cmc_downscale"})


def per_sequence_option(default: str | None = None) -> Any:
    """The ``per_sequence`` field of an options class that takes per-sequence settings."""
    return option(default, "per-sequence settings: a table named in this tracker's sequence presets, or a JSON "
                           "file {SEQUENCE: {option: value}}; a row fills the options not given explicitly "
                           "(none: the same options for every sequence)")


def sequence_presets(options_cls: type | None) -> dict[str, dict[str, dict[str, Any]]]:
    """The named per-sequence tables an options class declares (``SEQUENCE_PRESETS``)."""
    return dict(getattr(options_cls, "SEQUENCE_PRESETS", None) or {}) if options_cls is not None else {}


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def load_sequence_table(options_cls: type, spec: str | None, what: str) -> dict[str, dict[str, Any]] | None:
    """The per-sequence table ``spec`` names: None for none, a name of ``SEQUENCE_PRESETS``, else a JSON
    file ``{sequence: {option: value}}``. Every value is typed and checked as if given explicitly; a bad
    file, an unknown option or one a table may not set is an :class:`OptionError` naming the file and line."""
    if spec is None:
        return None
    presets = sequence_presets(options_cls)
    fields = _fields(options_cls)
    if spec in presets:
        raw, where, text = presets[spec], f"{what} sequence preset {spec!r}", None
    else:
        path = Path(spec)
        if not path.is_file():
            names = ", ".join(presets) or "none"
            raise OptionError(f"{what} option {SEQUENCE_OPTION}={spec!r}: neither a sequence preset ({names}) "
                              "nor a file")
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OptionError(f"{path}:{exc.lineno}: {exc.msg}; expected a JSON object "
                              "{SEQUENCE: {option: value}}") from None
        where = str(path)
        if not isinstance(raw, dict):
            raise OptionError(f"{path}:1: a JSON {type(raw).__name__}; expected an object {{SEQUENCE: {{option: "
                              "value}}}}")
    table: dict[str, dict[str, Any]] = {}
    for seq, row in raw.items():
        line = _line_of(text, json.dumps(seq)) if text is not None else None
        at = f"{where}:{line}" if line is not None else where
        if not isinstance(row, dict):
            raise OptionError(f"{at}: sequence {seq!r} has {row!r}; expected an object {{option: value}}")
        typed = {}
        for key, value in row.items():
            if key not in fields:
                raise OptionError(f"{at}: sequence {seq!r}: {unknown_option(key, list(fields), what)}")
            if key in NOT_PER_SEQUENCE:
                raise OptionError(f"{at}: sequence {seq!r} sets {key}, which applies to the whole run; "
                                  "give it as an option instead")
            try:
                typed[key] = _convert_one(key, value, fields[key], what)
            except OptionError as exc:
                raise OptionError(f"{at}: sequence {seq!r}: {exc}") from None
        table[str(seq)] = typed
    return table


def sequence_row(table: Mapping[str, Mapping[str, Any]], seq_name: str) -> str | None:
    """The key of ``table`` for a sequence: its name, else the longest key that is the name up to a '-'
    (``MOT17-02`` for ``MOT17-02-SDP``, as the official tables name MOT17 sequences); None if none fits."""
    if seq_name in table:
        return seq_name
    fits = [k for k in table if seq_name.startswith(k + "-")]
    return max(fits, key=len) if fits else None


def options_for_sequence(options: Any, table: Mapping[str, Mapping[str, Any]] | None, seq_name: str,
                         explicit: Collection[str] = ()) -> Any:
    """``options`` with the table's row for ``seq_name`` applied, options named in ``explicit`` kept."""
    key = None if table is None else sequence_row(table, seq_name)
    if key is None:
        return options
    row = {k: v for k, v in table[key].items() if k not in explicit}
    return dataclasses.replace(options, **row) if row else options
