"""The run folder: everything one ``mot-bench run`` produced, written atomically, readable by reports.

Layout (see ../shared/DESIGN.md)::

    RUN/config.json          everything needed to repeat the run
    RUN/env.json             hardware, versions, the run's runtime (device, precision, channels_last,
                             threads, sync policy)
    RUN/results/<SEQ>.txt    MOTChallenge result file (post-processed when the run asked for it)
    RUN/results_raw/<SEQ>.txt  the tracker's own rows, only when the run post-processes them
    RUN/timing/<SEQ>.csv     one row per frame, one column per stage (seconds); when one detector pass
                             fed several trackers, read/preprocess/model/postprocess/decode are the
                             shared detector times and track/write this folder's tracker's own;
                             cmc (camera-motion warps) and track_post (result post-processing) are
                             per-sequence costs shared evenly by its frames
    RUN/metrics.json         TrackEval fields per sequence and combined

A sequence is complete when its result file exists: timing is written first and the result file
last, each atomically, so an interrupted run resumes by skipping exactly the completed sequences.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from mot_bench.atomic import atomic_write_json, atomic_write_text
from mot_bench.timing import STAGES

# Per-sequence costs of the runner's own steps, spread evenly over the sequence's frames: the camera-motion
# warps handed to trackers that need them, and the post-processing of the results.
RUNNER_STAGES = ("cmc", "track_post")
TIMING_COLUMNS = ("frame", "warmup", *STAGES, *RUNNER_STAGES, "decode", "total")
# Columns added after run folders were first written: an older timing file without one reads as 0 s.
LATER_COLUMNS = frozenset({"reid", *RUNNER_STAGES})


class RunFolderError(ValueError):
    pass


class RunFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def env_path(self) -> Path:
        return self.path / "env.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def results_dir(self) -> Path:
        return self.path / "results"

    @property
    def raw_results_dir(self) -> Path:
        return self.path / "results_raw"

    @property
    def timing_dir(self) -> Path:
        return self.path / "timing"

    def exists(self) -> bool:
        return self.config_path.is_file()

    # --- writing -----------------------------------------------------------------------------
    def check(self, config: dict[str, Any]) -> None:
        """Refuse to resume a folder made by another configuration (nothing is written)."""
        if self.exists():
            old = self.read_config()
            if _repeatable(old) != _repeatable(config):
                raise RunFolderError(
                    f"{self.path} holds a run with a different configuration; choose another --out "
                    f"(or delete it) to start a new run. Differences: {_diff(_repeatable(old), _repeatable(config))}"
                )

    def start(self, config: dict[str, Any], env: dict[str, Any]) -> None:
        """Create the folder, or check that an existing one was made by the same configuration."""
        self.check(config)
        self.path.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(exist_ok=True)
        self.timing_dir.mkdir(exist_ok=True)
        atomic_write_json(self.config_path, config)
        atomic_write_json(self.env_path, env)

    def completed_sequences(self) -> set[str]:
        if not self.results_dir.is_dir():
            return set()
        return {p.stem for p in self.results_dir.glob("*.txt") if (self.timing_dir / f"{p.stem}.csv").is_file()}

    def write_timing(self, seq: str, rows: list[dict[str, float]]) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=TIMING_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(k, row.get(k, 0.0)) for k in TIMING_COLUMNS})
        atomic_write_text(self.timing_dir / f"{seq}.csv", buf.getvalue())

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.metrics_path, metrics)

    # --- reading -----------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        return _read_json(self.config_path)

    def read_env(self) -> dict[str, Any]:
        return _read_json(self.env_path) if self.env_path.is_file() else {}

    def read_metrics(self) -> dict[str, Any]:
        return _read_json(self.metrics_path) if self.metrics_path.is_file() else {}

    def result_path(self, seq: str) -> Path:
        return self.results_dir / f"{seq}.txt"

    def raw_result_path(self, seq: str) -> Path:
        """The tracker's rows before post-processing (written only by runs that post-process)."""
        self.raw_results_dir.mkdir(parents=True, exist_ok=True)
        return self.raw_results_dir / f"{seq}.txt"

    def read_timing(self, seq: str) -> list[dict[str, float]]:
        path = self.timing_dir / f"{seq}.csv"
        with open(path, encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            absent = set(TIMING_COLUMNS) - set(reader.fieldnames or [])
            missing = absent - LATER_COLUMNS
            if missing:
                raise RunFolderError(f"{path}:1: missing timing columns {sorted(missing)}")
            rows = []
            for lineno, row in enumerate(reader, start=2):
                try:
                    rows.append({**dict.fromkeys(absent, 0.0), **{k: float(v) for k, v in row.items()}})
                except ValueError as exc:
                    raise RunFolderError(f"{path}:{lineno}: expected numbers: {exc}") from None
        return rows

    def timing_summary(self) -> dict[str, Any]:
        """Frames, FPS and mean milliseconds per stage, warm-up frames excluded (and counted)."""
        per_seq = {}
        totals = {k: 0.0 for k in (*STAGES, *RUNNER_STAGES, "decode", "total")}
        frames = warm = 0
        for seq in sorted(self.completed_sequences()):
            rows = self.read_timing(seq)
            timed = [r for r in rows if not r["warmup"]]
            seq_tot = {k: sum(r[k] for r in timed) for k in totals}
            per_seq[seq] = _summary(len(timed), len(rows) - len(timed), seq_tot)
            for k in totals:
                totals[k] += seq_tot[k]
            frames += len(timed)
            warm += len(rows) - len(timed)
        return {"combined": _summary(frames, warm, totals), "per_sequence": per_seq}


def _summary(frames: int, warmup: int, totals: dict[str, float]) -> dict[str, Any]:
    return {
        "frames": frames,
        "warmup_frames": warmup,
        "fps": frames / totals["total"] if totals["total"] > 0 else None,
        "ms_per_frame": {k: 1000 * v / frames if frames else None for k, v in totals.items()},
        "stage_fps": {k: frames / v if v > 0 else None for k, v in totals.items()
                      if k in STAGES or k in RUNNER_STAGES},
    }


def _fmt(column: str, value: float) -> str:
    return str(int(value)) if column in ("frame", "warmup") else f"{value:.9f}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def _repeatable(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config that decide the results (not when or where it was launched)."""
    return {k: v for k, v in config.items() if k not in ("created", "command", "resumed")}


def _diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return "; ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys) or "none"
