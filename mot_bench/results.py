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
    RUN/complete/<SEQ>.json  the completion record of a sequence: sha256 and size of its result and
                             timing files, written after both, and the machine that ran it (its
                             timings are that machine's: a Ray run spreads sequences over several)
    RUN/events/              on request (``--events``): the scoring's error events, per-identity table and
                             per-frame statistics of each sequence (:mod:`mot_bench.metrics.explain`)

Every file is written atomically (a temporary ``.NAME.*.tmp`` beside it, then a rename). A resumed run
keeps a sequence only when its completion record matches its files (:meth:`RunFolder.verified_sequences`):
a result or timing file cut short, edited, or left without a record by an earlier crash is redone;
stray temporary files are removed when the folder is opened again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
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
log = logging.getLogger(__name__)


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

    @property
    def complete_dir(self) -> Path:
        return self.path / "complete"

    @property
    def events_dir(self) -> Path:
        return self.path / "events"

    def exists(self) -> bool:
        return self.config_path.is_file()

    # --- writing -----------------------------------------------------------------------------
    def check(self, config: dict[str, Any]) -> None:
        """Refuse to resume a folder made by another configuration (nothing is written)."""
        if self.exists():
            old = _with_new_defaults(_repeatable(self.read_config()), _repeatable(config))
            if old != _repeatable(config):
                raise RunFolderError(
                    f"{self.config_path}: this folder holds a run with a different configuration "
                    f"({_diff(old, _repeatable(config))}); re-run with --overwrite to replace it, "
                    "or choose another --out"
                )

    def start(self, config: dict[str, Any], env: dict[str, Any]) -> None:
        """Create the folder, or check that an existing one was made by the same configuration."""
        self.check(config)
        self.path.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(exist_ok=True)
        self.timing_dir.mkdir(exist_ok=True)
        self.remove_temporary_files()
        atomic_write_json(self.config_path, config)
        atomic_write_json(self.env_path, env)

    def remove_temporary_files(self) -> list[Path]:
        """Delete the ``.NAME.*.tmp`` files an atomic write left behind when its process was killed."""
        stray = [p for d in (self.path, self.results_dir, self.timing_dir, self.complete_dir) if d.is_dir()
                 for p in d.glob(".*.tmp") if p.is_file()]
        for p in stray:
            p.unlink()
        if stray:
            log.warning("%s: removed %d temporary file(s) left by an interrupted run", self.path, len(stray))
        return stray

    def completed_sequences(self) -> set[str]:
        """Sequences with a result and a timing file (what reports read; resuming asks for more:
        :meth:`verified_sequences`)."""
        if not self.results_dir.is_dir():
            return set()
        return {p.stem for p in self.results_dir.glob("*.txt") if (self.timing_dir / f"{p.stem}.csv").is_file()}

    def _files_of(self, seq: str) -> dict[str, Path]:
        return {"results": self.result_path(seq), "timing": self.timing_dir / f"{seq}.csv"}

    def mark_complete(self, seq: str, machine: dict[str, Any] | None = None) -> None:
        """Record that ``seq`` is complete: the hash and size of its result and timing files, and the
        machine that ran it (:func:`mot_bench.timing.machine_stamp`)."""
        record: dict[str, Any] = {kind: _digest(path) for kind, path in self._files_of(seq).items()}
        if machine is not None:
            record["machine"] = machine
        atomic_write_json(self.complete_dir / f"{seq}.json", record)

    def sequence_machines(self) -> dict[str, dict[str, Any]]:
        """Sequence -> the machine its completion record names (records written before machines were
        recorded name none and are left out)."""
        out = {}
        for path in sorted(self.complete_dir.glob("*.json")) if self.complete_dir.is_dir() else []:
            try:
                machine = json.loads(path.read_text(encoding="utf-8")).get("machine")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(machine, dict):
                out[path.stem] = machine
        return out

    def verified_sequences(self) -> set[str]:
        """Sequences a resumed run may keep: a completion record that matches the files. Anything else
        (a file cut short or edited since, files without a record) is reported and will be redone."""
        done = set()
        for seq in sorted(self.completed_sequences()):
            record_path = self.complete_dir / f"{seq}.json"
            try:
                record = json.loads(record_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.warning("%s: %s has no completion record (an earlier crash?): redoing it", self.path, seq)
                continue
            changed = [str(path) for kind, path in self._files_of(seq).items() if record.get(kind) != _digest(path)]
            if changed:
                log.warning("%s does not match its completion record %s (cut short or edited): redoing %s",
                            ", ".join(changed), record_path, seq)
                record_path.unlink()
                continue
            done.add(seq)
        return done

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
        """Frames, FPS and mean milliseconds per stage, warm-up frames excluded (and counted); each
        sequence names the host that timed it, ``combined`` every host (one unless a Ray run spread them)."""
        machines = self.sequence_machines()
        per_seq = {}
        totals = {k: 0.0 for k in (*STAGES, *RUNNER_STAGES, "decode", "total")}
        frames = warm = 0
        for seq in sorted(self.completed_sequences()):
            rows = self.read_timing(seq)
            timed = [r for r in rows if not r["warmup"]]
            seq_tot = {k: sum(r[k] for r in timed) for k in totals}
            per_seq[seq] = _summary(len(timed), len(rows) - len(timed), seq_tot)
            per_seq[seq]["host"] = machines.get(seq, {}).get("host")
            for k in totals:
                totals[k] += seq_tot[k]
            frames += len(timed)
            warm += len(rows) - len(timed)
        combined = _summary(frames, warm, totals)
        combined["hosts"] = sorted({s["host"] for s in per_seq.values() if s["host"] is not None})
        return {"combined": combined, "per_sequence": per_seq}


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


def _digest(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _repeatable(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config that decide the results (not when or where it was launched)."""
    return {k: v for k, v in config.items() if k not in ("created", "command", "resumed")}


def _with_new_defaults(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` plus the plugin options a later mot-bench declared and this run leaves at their defaults.

    A folder written before an option existed has no entry for it; the option's default keeps the old
    behaviour (the rule for every new option), so a run that does not set it repeats the old one and may resume.
    Set by the user (named in ``options.<plugin>_options``), it is a real difference and stays one."""
    out = dict(old)
    for plugin in ("detector", "tracker"):
        old_sec, new_sec = old.get(plugin), new.get(plugin)
        if not isinstance(old_sec, dict) or not isinstance(new_sec, dict) or old_sec.get("name") != new_sec.get("name"):
            continue
        user_set = set((new.get("options") or {}).get(f"{plugin}_options") or {})
        added = {k: v for k, v in new_sec.items() if k not in old_sec and k not in user_set}
        if added:
            out[plugin] = {**old_sec, **added}
    return out


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """A config as dotted keys -> leaf values (lists of records indexed: data.sequences.0.name)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = enumerate(value)
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, sub in items:
        out.update(_leaves(sub, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _diff(a: dict[str, Any], b: dict[str, Any], limit: int = 5) -> str:
    """The differing settings only, as ``key: old -> new`` (at most ``limit``, then a count)."""
    la, lb = _leaves(a), _leaves(b)
    missing = object()
    keys = sorted(k for k in set(la) | set(lb) if la.get(k, missing) != lb.get(k, missing))
    parts = [f"{k}: {la.get(k, '(unset)')!r} -> {lb.get(k, '(unset)')!r}" for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"and {len(keys) - limit} more")
    return "; ".join(parts) or "none"
