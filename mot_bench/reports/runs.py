"""Run folders as the reports see them: one flat, read-only summary per run, loaded through RunFolder.

Reports never re-run anything: everything here comes from config.json, env.json, metrics.json and
timing/<SEQ>.csv, so a report is as honest as the run folder it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mot_bench.data.benchmarks import canonical_name
from mot_bench.results import RunFolder, RunFolderError
from mot_bench.timing import STAGES


class ReportError(ValueError):
    """A run folder a report cannot read, with the path and what is wrong."""


@dataclass
class RunSummary:
    """Everything a report shows about one run."""

    path: Path
    label: str
    config: dict[str, Any]
    env: dict[str, Any]
    combined: dict[str, Any]
    per_sequence: dict[str, dict[str, Any]]
    timing: dict[str, Any]
    sequences: list[str] = field(default_factory=list)

    benchmark: str = ""  # as its declaration spells it (mot_bench.data.benchmarks), so one scope is one name
    split: str = ""

    def scope(self) -> str:
        n = len(self.sequences)
        return f"{self.benchmark or '?'} {self.split or '?'}, {n} sequence{'s' if n != 1 else ''}"

    @property
    def detector(self) -> str:
        return str(self.config.get("detector", {}).get("name", "?"))

    @property
    def tracker(self) -> str:
        return str(self.config.get("tracker", {}).get("name", "?"))

    @property
    def fps(self) -> float | None:
        return self.timing.get("combined", {}).get("fps")

    def stage_fps(self, stage: str) -> float | None:
        return self.timing.get("combined", {}).get("stage_fps", {}).get(stage)

    def stage_ms(self) -> dict[str, float]:
        """Mean milliseconds per frame for each stage that took any time."""
        ms = self.timing.get("combined", {}).get("ms_per_frame", {})
        return {s: ms[s] for s in STAGES if ms.get(s)}

    @property
    def hardware(self) -> str:
        """GPU name when the run used one, else the CPU, with the device and precision."""
        name = self.env.get("gpu") or self.env.get("cpu") or "unknown hardware"
        device = self.config.get("device") or self.env.get("device") or "?"
        precision = self.config.get("precision") or self.env.get("precision") or ""
        return f"{name} ({device}{', ' + precision if precision else ''})"

    def options(self) -> dict[str, Any]:
        """Detector and tracker options, flattened as ``det.key`` / ``trk.key`` (names excluded)."""
        out: dict[str, Any] = {}
        for prefix, part in (("det", "detector"), ("trk", "tracker")):
            for key, value in sorted((self.config.get(part) or {}).items()):
                if key != "name":
                    out[f"{prefix}.{key}"] = value
        return out

    def frame_timing(self, seq: str) -> list[dict[str, float]]:
        return RunFolder(self.path).read_timing(seq)


def load_run(path: str | Path) -> RunSummary:
    """Read one run folder; raise ReportError naming the folder and the missing or broken file."""
    path = Path(path)
    folder = RunFolder(path)
    if not path.is_dir():
        raise ReportError(f"{path}: no such run folder")
    if not folder.exists():
        raise ReportError(f"{path}: not a run folder (no config.json)")
    try:
        config = folder.read_config()
        env = folder.read_env()
        metrics = folder.read_metrics()
        timing = folder.timing_summary()
    except RunFolderError as exc:
        raise ReportError(str(exc)) from None
    if not metrics:
        raise ReportError(f"{folder.metrics_path}: missing (a run with --no-eval, or interrupted); score it "
                          f"first: {eval_command(path, config)}")
    for key in ("combined", "per_sequence"):
        if not isinstance(metrics.get(key), dict):
            raise ReportError(f"{folder.metrics_path}: expected an object under {key!r}")
    det = (config.get("detector") or {}).get("name", "?")
    trk = (config.get("tracker") or {}).get("name", "?")
    label = str(config.get("label") or f"{det}+{trk}")
    return RunSummary(
        path=path,
        label=label,
        config=config,
        env=env,
        combined=metrics["combined"],
        per_sequence=metrics["per_sequence"],
        timing=timing,
        sequences=sorted(metrics["per_sequence"]),
        benchmark=canonical_name(str(metrics.get("benchmark") or (config.get("data") or {}).get("benchmark") or "")),
        split=str(metrics.get("split") or (config.get("data") or {}).get("split") or ""),
    )


def eval_command(path: Path, config: dict[str, Any]) -> str:
    """The ``mot-bench eval`` command that writes ``path``'s metrics.json from its config."""
    import shlex

    data = config.get("data") or {}
    args = ["mot-bench", "eval", "--gt-root", str(data.get("root", "DATA"))]
    if data.get("benchmark"):
        args += ["--benchmark", str(data["benchmark"])]
    args += ["--split", str(data.get("split") or "train")]
    names = [s["name"] for s in data.get("sequences") or [] if isinstance(s, dict) and "name" in s]
    if names:
        args += ["--seqs", ",".join(names)]
    args += ["--results", str(Path(path) / "results"), "--json", str(Path(path) / "metrics.json")]
    return shlex.join(args)


def check_comparable(runs: list[RunSummary], what: str) -> None:
    """Refuse to rank or compare runs of different benchmarks, splits or sequence sets (``--allow-mixed``)."""
    scopes: dict[tuple, list[RunSummary]] = {}
    for run in runs:
        scopes.setdefault((run.benchmark, run.split, tuple(run.sequences)), []).append(run)
    if len(scopes) > 1:
        detail = "; ".join(f"{', '.join(str(r.path) for r in group)}: {group[0].scope()}"
                           + (f" ({', '.join(key[2])})" if len(key[2]) <= 3 else "")
                           for key, group in scopes.items())
        raise ReportError(f"cannot {what} runs of different benchmarks, splits or sequence sets ({detail}); "
                          "pass --allow-mixed to do it anyway (benchmark and split are shown per run)")


def load_runs(paths: list[str | Path]) -> list[RunSummary]:
    """Load several runs, making labels unique (a repeated label gets the folder name appended)."""
    runs = [load_run(p) for p in paths]
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    for run in runs:
        if seen[run.label] > 1:
            run.label = f"{run.label} [{run.path.name}]"
    return runs

