"""``mot-bench check``: compare a run's metrics (and optionally FPS) to a small committed baseline.

A baseline file holds one entry per run label (so one file can cover, say, SORT and ByteTrack on the
same sample), the metrics that matter per sequence and combined, and the tolerances. A change is a
regression only when it goes the wrong way (lower HOTA, more IDSW) by more than the tolerance;
an improvement beyond tolerance is reported and passes, and is a hint to refresh the baseline.

Tolerances: allowed change = max(abs, rel * |baseline value|), in metrics.json units (ratios as
fractions: ``HOTA=0.005`` is half a point; ``IDSW=5%`` is five percent of the baseline count).

``METRIC=auto`` is a noise-aware tolerance: the change is a regression only when the paired bootstrap
interval of (current - baseline) lies wholly on the worse side of zero (:mod:`mot_bench.metrics.bootstrap`:
sequences and blocks of frames resampled, the same draws for both runs). A change confined to a few
stretches of frames passes (in many replicates those stretches are not drawn); a change that holds across
the data fails, however small. It needs the baseline run's per-block statistics, which ``--write-baseline``
stores (in the entry's ``bootstrap``) when an auto tolerance is given, and the current run's scoring
events (``--events``, or its gt where its config says). Assumptions: the same sequences and frame ranges
in both runs; sequences and blocks exchangeable; the percentile interval's level (95 %) as the error rate
of a run that did not change its behaviour.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mot_bench.atomic import atomic_write_json
from mot_bench.metrics.bootstrap import DEFAULT_BLOCK
from mot_bench.metrics.bootstrap import METRICS as BOOTSTRAP_METRICS
from mot_bench.metrics.explain import FRAME_STATS
from mot_bench.metrics.fields import CHECKED, METRIC_FIELDS, default_tolerances
from mot_bench.metrics.fields import resolve as resolve_metric
from mot_bench.reports.format import better, fmt_delta, fmt_value
from mot_bench.reports.runs import RunSummary

FORMAT = "mot-bench-baseline/1"
BASELINE_METRICS = CHECKED  # the fields with a default tolerance (mot_bench.metrics.fields)
AUTO_METRICS = tuple(m for m in CHECKED if m in BOOTSTRAP_METRICS)  # those a bootstrap can give an interval for


class BaselineError(ValueError):
    """A baseline file that is missing or malformed, or an option that cannot be applied: a usage error."""


def parse_tolerance(spec: str) -> tuple[str, dict[str, float]]:
    """``METRIC=VALUE`` (absolute, metrics.json units), ``METRIC=VALUE%`` (relative to the baseline) or
    ``METRIC=auto`` (the paired bootstrap interval decides; see the module's docstring)."""
    name, sep, value = spec.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise BaselineError(f"--tolerance {spec!r}: expected METRIC=VALUE, e.g. HOTA=0.005, IDSW=5% or HOTA=auto")
    try:
        metric = resolve_metric(name.strip())
    except KeyError as exc:
        raise BaselineError(f"--tolerance {spec!r}: {exc.args[0]}") from None
    if metric == "FPS":
        raise BaselineError(f"--tolerance {spec!r}: FPS is checked with --fps-ratio, not a tolerance")
    value = value.strip()
    if value.lower() == "auto":
        if metric not in AUTO_METRICS:
            raise BaselineError(f"--tolerance {spec!r}: auto (bootstrap) tolerances exist for "
                                f"{', '.join(AUTO_METRICS)}")
        return metric, {"abs": 0.0, "rel": 0.0, "auto": 1.0}
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise BaselineError(f"--tolerance {spec!r}: {value!r} is not a number (or a percentage)") from None
    if not math.isfinite(number) or number < 0:
        raise BaselineError(f"--tolerance {spec!r}: a tolerance must be a finite number >= 0")
    return metric, ({"abs": 0.0, "rel": number} if value.endswith("%") else {"abs": number, "rel": 0.0})


def run_key(run: RunSummary) -> str:
    return run.label


def baseline_entry(run: RunSummary) -> dict[str, Any]:
    """What a baseline keeps of one run: identity, hardware, FPS, and the metrics that matter."""
    return {
        "detector": run.detector,
        "tracker": run.tracker,
        "benchmark": run.benchmark or None,
        "split": run.split or None,
        "hardware": run.hardware,
        "fps": run.fps,
        "combined": {m: run.combined[m] for m in BASELINE_METRICS if m in run.combined},
        "per_sequence": {s: {m: v[m] for m in BASELINE_METRICS if m in v} for s, v in sorted(run.per_sequence.items())},
    }


def bootstrap_entry(run: RunSummary, block: int = DEFAULT_BLOCK) -> dict[str, Any]:
    """The run's per-block sufficient statistics, what an auto tolerance pairs the next run with."""
    from mot_bench.reports.explain import run_events

    events = run_events(run)
    if not events.ok:
        raise BaselineError(f"an auto tolerance needs the scoring events of {run.path}: {events.note}")
    seqs = {}
    for name, blocks in sorted(events.blocks(block).items()):
        expl = events.sequences[name]
        seqs[name] = {"first_frame": expl.first_frame, "last_frame": expl.last_frame, "blocks": blocks.tolist()}
    return {"block_frames": block, "columns": list(FRAME_STATS), "sequences": seqs}


def write_baseline(runs: list[RunSummary], path: Path, tolerances: dict[str, dict[str, float]] | None = None) -> dict:
    """Create ``path``, or add/replace these runs' entries in an existing baseline (keeping its tolerances).
    With an auto tolerance each entry also keeps the run's per-block statistics (``bootstrap``)."""
    path = Path(path)
    base = load_baseline(path) if path.exists() else {
        "format": FORMAT,
        "about": "mot-bench check baseline: metrics per run label, per sequence and combined. Tolerances: "
                 "allowed change = max(abs, rel * |baseline|), metrics.json units (ratios are fractions). "
                 "A change is a regression only in the worse direction. Refresh with "
                 "`mot-bench check RUN_DIR --write-baseline FILE`.",
        "tolerances": default_tolerances(),
        "fps_ratio": None,
        "runs": {},
    }
    base["tolerances"].update(tolerances or {})
    auto = any(t.get("auto") for t in base["tolerances"].values())
    for run in runs:
        base["runs"][run_key(run)] = baseline_entry(run)
        if auto:
            base["runs"][run_key(run)]["bootstrap"] = bootstrap_entry(run)
    atomic_write_json(path, base)
    return base


def load_baseline(path: Path) -> dict[str, Any]:
    """Read and validate a baseline; BaselineError names the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BaselineError(f"{path}: baseline file not found (create one with --write-baseline {path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a mot-bench baseline (expected \"format\": \"{FORMAT}\")")
    tol = data.get("tolerances", {})
    if not isinstance(tol, dict):
        raise BaselineError(f"{path}: \"tolerances\" must be an object of METRIC: {{\"abs\": x, \"rel\": y}}")
    for metric, t in tol.items():
        if metric not in METRIC_FIELDS:
            raise BaselineError(f"{path}: tolerances: unknown metric {metric!r}")
        if not isinstance(t, dict) or set(t) - {"abs", "rel", "auto"} \
                or not all(_is_number(v) and v >= 0 for v in t.values()):
            raise BaselineError(f"{path}: tolerances.{metric}: expected {{\"abs\": number >= 0, \"rel\": number >= 0}} "
                                "(and \"auto\": 1 for a bootstrap tolerance)")
        if t.get("auto") and metric not in AUTO_METRICS:
            raise BaselineError(f"{path}: tolerances.{metric}: no auto (bootstrap) tolerance for {metric}")
    fps_ratio = data.get("fps_ratio")
    if fps_ratio is not None and not (_is_number(fps_ratio) and fps_ratio > 0):
        raise BaselineError(f"{path}: \"fps_ratio\" must be null or a number > 0")
    runs = data.get("runs")
    if not isinstance(runs, dict) or not runs:
        raise BaselineError(f"{path}: \"runs\" must be a non-empty object keyed by run label")
    for key, entry in runs.items():
        where = f"{path}: runs.{key}"
        if not isinstance(entry, dict) or not isinstance(entry.get("combined"), dict) \
                or not isinstance(entry.get("per_sequence"), dict):
            raise BaselineError(f"{where}: expected \"combined\" and \"per_sequence\" objects")
        scopes = [("combined", entry["combined"])]
        scopes += [(f"per_sequence.{s}", v) for s, v in entry["per_sequence"].items()]
        for scope, values in scopes:
            if not isinstance(values, dict):
                raise BaselineError(f"{where}.{scope}: expected an object of METRIC: number")
            for metric, value in values.items():
                if metric not in METRIC_FIELDS:
                    raise BaselineError(f"{where}.{scope}: unknown metric {metric!r}")
                if not _is_number(value):
                    raise BaselineError(f"{where}.{scope}.{metric}: expected a number, got {value!r}")
        if entry.get("fps") is not None and not _is_number(entry["fps"]):
            raise BaselineError(f"{where}.fps: expected a number or null")
        if "bootstrap" in entry:
            _check_bootstrap(entry["bootstrap"], f"{where}.bootstrap")
    data.setdefault("tolerances", {})
    return data


def _check_bootstrap(boot: Any, where: str) -> None:
    if not isinstance(boot, dict) or not isinstance(boot.get("sequences"), dict) \
            or not (isinstance(boot.get("block_frames"), int) and boot["block_frames"] >= 1):
        raise BaselineError(f"{where}: expected {{\"block_frames\": int >= 1, \"columns\": [...], "
                            "\"sequences\": {...}}")
    if boot.get("columns") != list(FRAME_STATS):
        raise BaselineError(f"{where}.columns: written by another version of the statistics; re-write the baseline")
    for seq, rec in boot["sequences"].items():
        blocks = rec.get("blocks") if isinstance(rec, dict) else None
        if not isinstance(blocks, list) or not all(isinstance(b, list) and len(b) == len(FRAME_STATS) and
                                                   all(_is_number(v) for v in b) for b in blocks):
            raise BaselineError(f"{where}.sequences.{seq}.blocks: expected rows of {len(FRAME_STATS)} numbers")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class Row:
    scope: str  # "combined" or a sequence name
    metric: str
    baseline: float | None
    current: float | None
    allowed: float
    status: str  # ok | changed | improved | regressed | missing
    interval: tuple[float, float] | None = None  # auto tolerance: the bootstrap interval of current - baseline

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None or self.current is None else self.current - self.baseline


@dataclass
class CheckResult:
    run: str
    key: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(r.status in ("regressed", "missing") for r in self.rows)


def _verdict(metric: str, base: float, cur: float, allowed: float) -> str:
    delta = cur - base
    if delta == 0:
        return "ok"
    if abs(delta) <= allowed + 1e-12:
        return "changed"
    direction = better(metric, delta)
    return "improved" if direction > 0 else "regressed" if direction < 0 else "changed"


def check_run(run: RunSummary, baseline: dict[str, Any], baseline_path: Path,
              overrides: dict[str, dict[str, float]] | None = None, fps_ratio: float | None = None,
              allow_mixed: bool = False) -> CheckResult:
    """Compare ``run`` to its entry in ``baseline`` (matched by label; a one-entry baseline matches any run)."""
    runs = baseline["runs"]
    key = run_key(run)
    result = CheckResult(run=str(run.path), key=key)
    if key not in runs:
        if len(runs) != 1:
            raise BaselineError(f"{baseline_path}: no entry for run label {key!r} "
                                f"(entries: {', '.join(sorted(runs))}); add one with --write-baseline")
        key = result.key = next(iter(runs))
        result.notes.append(f"run label {run.label!r} is not in the baseline; compared with its only entry {key!r}")
    entry = runs[key]
    used = {"detector": run.detector, "tracker": run.tracker, "benchmark": run.benchmark or None,
            "split": run.split or None}
    for part, value in used.items():
        if entry.get(part) and value and entry[part] != value:
            if part in ("benchmark", "split") and not allow_mixed:  # unlike things: a usage error, not a regression
                raise BaselineError(f"{baseline_path}: runs.{key} was recorded on {part} {entry[part]!r}, but "
                                    f"{run.path} ran on {value!r}; compare like with like, or pass --allow-mixed")
            result.notes.append(f"baseline {part} is {entry[part]!r} but this run used {value!r}")
    tolerances = {**default_tolerances(), **baseline.get("tolerances", {}), **(overrides or {})}
    auto = sorted(m for m, t in tolerances.items() if t.get("auto"))
    found = auto_intervals(run, entry, baseline_path, key, auto) if auto else {}
    if auto:
        result.notes.append(f"auto tolerance ({', '.join(auto)}): regression only when the {found['text']} "
                            "of current - baseline excludes zero")
    scopes = [("combined", entry["combined"], run.combined)]
    for seq, values in sorted(entry["per_sequence"].items()):
        scopes.append((seq, values, run.per_sequence.get(seq)))
    for scope, base_values, cur_values in scopes:
        for metric, base in base_values.items():
            tol = tolerances.get(metric, {"abs": 0.0, "rel": 0.0})
            allowed = max(tol.get("abs", 0.0), tol.get("rel", 0.0) * abs(base))
            cur = None if cur_values is None else cur_values.get(metric)
            interval = None
            if tol.get("auto") and cur is not None:
                iv = found["intervals"].get(scope, {}).get(metric)
                if iv is None:
                    raise BaselineError(f"{baseline_path}: runs.{key}.bootstrap has no statistics for {scope}")
                interval = (iv.low, iv.high)
                delta = cur - base
                # the change passes while the interval reaches zero: allowed = distance from delta to that end
                allowed = max(0.0, iv.high - delta if delta < 0 else delta - iv.low)
            if cur is None:
                status = "missing"
            else:
                status = _verdict(metric, base, cur, allowed)
            result.rows.append(Row(scope, metric, base, cur, allowed, status, interval))
    extra = sorted(set(run.per_sequence) - set(entry["per_sequence"]))
    if extra:
        result.notes.append(f"sequences not in the baseline (not checked): {', '.join(extra)}")
    ratio = fps_ratio if fps_ratio is not None else baseline.get("fps_ratio")
    if ratio is not None:
        base_fps = entry.get("fps")
        if base_fps is None:
            raise BaselineError(f"{baseline_path}: runs.{key} has no \"fps\" to compare with --fps-ratio")
        floor = base_fps * ratio
        cur = run.fps
        status = "missing" if cur is None else "regressed" if cur < floor else "changed" if cur != base_fps else "ok"
        result.rows.append(Row("combined", "FPS", base_fps, cur, base_fps - floor, status))
        if entry.get("hardware") and entry["hardware"] != run.hardware:
            result.notes.append(f"FPS baseline was measured on {entry['hardware']}, this run on {run.hardware}")
    return result


def auto_intervals(run: RunSummary, entry: dict[str, Any], baseline_path: Path, key: str,
                   metrics: list[str]) -> dict[str, Any]:
    """Paired bootstrap intervals of (run - baseline entry), combined and per sequence, for ``metrics``."""
    import numpy as np

    from mot_bench.metrics.bootstrap import BootstrapError, Settings, paired_intervals, per_sequence_intervals

    boot = entry.get("bootstrap")
    if boot is None:
        raise BaselineError(f"{baseline_path}: runs.{key} has no bootstrap statistics for an auto tolerance; "
                            "re-write it with --write-baseline ... --tolerance METRIC=auto")
    settings = Settings(block=int(boot["block_frames"]))
    current = bootstrap_entry(run, settings.block)
    base_blocks = {s: np.asarray(r["blocks"], dtype=np.float64).reshape(-1, len(FRAME_STATS))
                   for s, r in boot["sequences"].items()}
    cur_blocks = {s: np.asarray(r["blocks"], dtype=np.float64).reshape(-1, len(FRAME_STATS))
                  for s, r in current["sequences"].items()}
    for s, r in boot["sequences"].items():
        got = current["sequences"].get(s)
        if got is not None and (got["first_frame"], got["last_frame"]) != (r.get("first_frame"), r.get("last_frame")):
            raise BaselineError(f"{baseline_path}: runs.{key}.bootstrap: {s} frames {r.get('first_frame')}.."
                                f"{r.get('last_frame')}, the run scored {got['first_frame']}..{got['last_frame']}")
    try:
        combined = paired_intervals(base_blocks, cur_blocks, settings, metrics)
        per_seq = per_sequence_intervals(base_blocks, cur_blocks, settings, metrics)
    except BootstrapError as exc:
        raise BaselineError(f"{baseline_path}: runs.{key}: {exc}") from None
    from mot_bench.reports.explain import settings_text

    return {"intervals": {"combined": combined, **per_seq}, "text": settings_text(settings)}


STATUS_TEXT = {"ok": "ok", "changed": "within tolerance", "improved": "IMPROVED (passes)",
               "regressed": "REGRESSED", "missing": "MISSING"}


def _cells(r: Row) -> list[str]:
    tol = "-" if r.metric == "FPS" else (fmt_delta(r.metric, r.allowed).lstrip("+") if r.allowed else "0")
    if r.interval is not None:
        tol = f"auto [{fmt_delta(r.metric, r.interval[0])}, {fmt_delta(r.metric, r.interval[1])}]"
    if r.metric == "FPS" and r.baseline:
        tol = f">= {fmt_value('FPS', r.baseline - r.allowed)}"
    unit = " pts" if METRIC_FIELDS[r.metric].percent else ""
    return [r.scope, METRIC_FIELDS[r.metric].title, fmt_value(r.metric, r.baseline), fmt_value(r.metric, r.current),
            (fmt_delta(r.metric, r.delta) + unit) if r.delta is not None else "-", tol, STATUS_TEXT[r.status]]


HEADERS = ["scope", "metric", "baseline", "current", "change", "tolerance", "verdict"]


def moved(result: CheckResult) -> list[Row]:
    """The rows worth showing: anything that changed, and anything missing."""
    return [r for r in result.rows if r.status != "ok" or r.metric == "FPS"]


def text_report(result: CheckResult) -> str:
    rows = [_cells(r) for r in moved(result)]
    checked = len(result.rows)
    verdict = "PASS" if result.passed else "FAIL"
    lines = [f"{verdict}: {result.run} against baseline entry {result.key!r} ({checked} values checked, "
             f"{len(rows)} moved, {sum(r.status in ('regressed', 'missing') for r in result.rows)} failing)"]
    lines += [f"  note: {n}" for n in result.notes]
    if rows:
        widths = [max(len(x) for x in col) for col in zip(HEADERS, *rows, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" if i < 2 or i == 6 else f"{{:>{w}}}" for i, w in enumerate(widths))
        lines.append(fmt.format(*HEADERS).rstrip())
        lines.append(fmt.format(*("-" * w for w in widths)).rstrip())
        lines += [fmt.format(*row).rstrip() for row in rows]
    else:
        lines.append("  every checked value is identical to the baseline")
    return "\n".join(lines) + "\n"


def markdown_report(result: CheckResult) -> str:
    icon = "✅" if result.passed else "❌"
    rows = moved(result)
    lines = [f"### {icon} mot-bench check: `{result.run}` vs baseline `{result.key}`", ""]
    lines += [f"> {n}" for n in result.notes]
    if result.notes:
        lines.append("")
    if rows:
        lines += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    else:
        lines.append(f"All {len(result.rows)} checked values are identical to the baseline.")
    return "\n".join(lines) + "\n\n"
