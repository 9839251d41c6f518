"""The ``mot-bench`` command line: run, eval, report, check, train, ablate."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from mot_bench.data.sequences import BENCHMARKS, SPLITS

# Commands that live with their subject; imported only when used (so `run` with sort needs no torch).
LAZY_COMMANDS = {
    "report": "reports.commands:report",
    "check": "reports.commands:check",
    "train": "detectors.fairmot.commands:train",
    "ablate": "detectors.fairmot.commands:ablate",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[name].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Benchmark multi-object trackers on MOTChallenge data with official (TrackEval) metrics."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


def parse_kv(items: tuple[str, ...], what: str) -> dict[str, str]:
    """``k=v`` pairs from repeated options; values stay strings, typed later by the constructor."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=what)
        out[key.strip()] = value.strip()
    return out


def _split_seqs(text: str | None) -> list[str] | None:
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False), default=None,
              help="MOTChallenge root (holding MOT17/train/...), a split folder, or one sequence folder. "
                   "Default: the bundled MOT15 TUD-Campus sample.")
@click.option("--benchmark", type=click.Choice(BENCHMARKS, case_sensitive=False), default=None,
              help="Benchmark folder under --data (MOT15, MOT16, MOT17, MOT20); also picks the scoring rules.")
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True,
              help="train/test: every frame; half-train/half-val: the first/second half of each train sequence "
                   "(FairMOT/ByteTrack ablation split; the frame ranges are recorded in config.json).")
@click.option("--seqs", default=None, help="Comma-separated sequence names to run (default: all in the split).")
@click.option("--detector", default="public", show_default=True,
              help="Detector name: public, oracle, precomputed, fairmot, or one added by an entry point.")
@click.option("--det-dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="Folder of per-sequence detections: <SEQ>.txt for public, <SEQ>.npy for precomputed.")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Model checkpoint for detectors that take one (fairmot).")
@click.option("--detector-opt", multiple=True, metavar="KEY=VALUE",
              help="Detector option, repeatable (e.g. min_score=0.3, conf_thres=0.4).")
@click.option("--tracker", "trackers", multiple=True,
              help="Tracker name (sort, bytetrack, fairmot, or an entry point); repeat to run several. "
                   "Default: every motion-only tracker.")
@click.option("--tracker-opt", multiple=True, metavar="KEY=VALUE",
              help="Tracker option, repeatable (e.g. track_thresh=0.6); applies to every --tracker given.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N (timings are synchronised).")
@click.option("--precision", type=click.Choice(["fp32", "fp16"]), default="fp32", show_default=True,
              help="Network precision (fp16 = autocast on CUDA).")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Run folder (one tracker) or parent folder (several). Default: runs/<bench>-<split>-<det>-<trk>.")
@click.option("--warmup", default=3, show_default=True, type=click.IntRange(min=0),
              help="Frames per sequence timed as warm-up: reported, excluded from FPS.")
@click.option("--no-eval", is_flag=True, help="Write results and timings only; do not score.")
@click.option("--overwrite", is_flag=True, help="Start the run folder afresh instead of resuming it.")
@click.option("--no-progress", is_flag=True, help="Hide the per-sequence progress bars.")
@click.option("--engine", type=click.Choice(["fast", "trackeval"]), default="fast", show_default=True,
              help="Scoring engine (fast: TrackEval's numbers bit for bit, vectorised; trackeval: TrackEval itself).")
def run(data, benchmark, split, seqs, detector, det_dir, weights, detector_opt, trackers, tracker_opt, device,
        precision, out, warmup, no_eval, overwrite, no_progress, engine) -> None:
    """Run a detector and tracker(s) over sequences; write results, timings and scores.

    With no arguments: the bundled MOT15 TUD-Campus sample, public detections, every motion-only
    tracker, and a summary table.
    """
    from mot_bench.registry import TRACKERS
    from mot_bench.runner import RunOptions
    from mot_bench.runner import run as run_one

    det_opts = parse_kv(detector_opt, "--detector-opt")
    if det_dir:
        det_opts.setdefault("det_dir", det_dir)
    if weights:
        det_opts.setdefault("weights", weights)
    trk_opts = parse_kv(tracker_opt, "--tracker-opt")
    names = list(trackers) or [n for n in TRACKERS.names() if getattr(_safe_get(n), "motion_only", False)]
    results = []
    for name in names:
        opts = RunOptions(
            detector=detector, tracker=name, data=data, benchmark=benchmark, split=split, seqs=_split_seqs(seqs),
            detector_options=det_opts, tracker_options=trk_opts, device=device, precision=precision,
            out=None if out is None else (out if len(names) == 1 else str(Path(out) / name)),
            warmup_frames=warmup, evaluate=not no_eval, overwrite=overwrite, progress=not no_progress,
            eval_engine=engine,
        )
        try:
            res = run_one(opts)
        except (ValueError, FileNotFoundError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from None
        results.append(res)
        click.echo(f"{name}: run folder {res.folder.path}", err=True)
    click.echo(summary_table(results))


def _safe_get(name: str) -> Any:
    from mot_bench.registry import TRACKERS

    try:
        return TRACKERS.get(name)
    except ImportError as exc:  # a third-party tracker that does not import must not break the default run
        logging.getLogger(__name__).warning("tracker %s unavailable: %s", name, exc)
        return None


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def summary_table(results) -> str:
    head = f"{'run':<28} {'seqs':>4} {'frames':>6} {'FPS':>8} {'HOTA':>6} {'MOTA':>6} {'IDF1':>6} {'IDSW':>5} " \
           f"{'FP':>6} {'FN':>6}  hardware"
    lines = [head, "-" * len(head)]
    for res in results:
        cfg = res.folder.read_config()
        comb = res.metrics.get("combined", {})
        t = res.timing["combined"]
        fps = "-" if t["fps"] is None else f"{t['fps']:.1f}"
        env = res.folder.read_env()
        hw = env.get("gpu") or env.get("cpu", "?")
        lines.append(
            f"{cfg['label']:<28} {len(res.sequences):>4} {t['frames']:>6} {fps:>8} {_pct(comb.get('HOTA')):>6} "
            f"{_pct(comb.get('MOTA')):>6} {_pct(comb.get('IDF1')):>6} {comb.get('IDSW', '-'):>5} "
            f"{comb.get('CLR_FP', '-'):>6} {comb.get('CLR_FN', '-'):>6}  {hw}"
        )
    return "\n".join(lines)


@main.command("eval")
@click.option("--gt-root", required=True, type=click.Path(exists=True, file_okay=False),
              help="MOTChallenge root, split folder or sequence folder with gt/gt.txt and seqinfo.ini.")
@click.option("--benchmark", type=click.Choice(BENCHMARKS, case_sensitive=False), default=None,
              help="Benchmark folder and scoring rules (inferred from the data when omitted).")
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True,
              help="Frames to score; half-val scores only the second half of each sequence.")
@click.option("--seqs", default=None, help="Comma-separated sequences (default: every <SEQ>.txt in --results).")
@click.option("--results", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of the tracker's <SEQ>.txt result files (MOTChallenge format).")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False),
              help="Also write the metrics (TrackEval field names) to this JSON file.")
@click.option("--engine", type=click.Choice(["fast", "trackeval"]), default="fast", show_default=True,
              help="Scoring engine: fast (vectorised, TrackEval's numbers bit for bit) or trackeval (TrackEval).")
@click.option("--compare-engines", is_flag=True,
              help="Score with both engines and print a per-field difference table (all zeros expected).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes scoring sequences in parallel.")
def eval_cmd(gt_root, benchmark, split, seqs, results, json_out, engine, compare_engines, workers) -> None:
    """Score existing result files with the official MOTChallenge (TrackEval) metrics."""
    from mot_bench.atomic import atomic_write_json
    from mot_bench.data.sequences import DataError, find_sequences
    from mot_bench.metrics import EvalError, check_eval_dependencies, evaluate

    names = _split_seqs(seqs)
    try:
        if names is None:
            available = {s.name for s in find_sequences(gt_root, benchmark, split)}
            names = sorted(p.stem for p in Path(results).glob("*.txt") if p.stem in available)
            if not names:
                raise click.ClickException(f"no <SEQ>.txt in {results} matches a sequence under {gt_root}")
        seq_infos = find_sequences(gt_root, benchmark, split, names)
        if engine == "trackeval" or compare_engines:
            check_eval_dependencies()
        metrics = evaluate(seq_infos, results, benchmark, num_workers=workers, engine=engine)
        other = None
        if compare_engines:
            other = evaluate(seq_infos, results, benchmark, num_workers=workers,
                             engine="trackeval" if engine == "fast" else "fast")
    except (DataError, EvalError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    metrics["split"] = split
    if json_out:
        atomic_write_json(json_out, metrics)
    click.echo(metrics_table(metrics))
    if other is not None:
        from mot_bench.metrics.compare import engine_diff_table

        table, n_diff = engine_diff_table(metrics, other, engine)
        click.echo(table)
        if n_diff:
            raise click.ClickException(f"the engines differ in {n_diff} field value(s)")


def metrics_table(metrics: dict[str, Any]) -> str:
    cols = ("HOTA", "DetA", "AssA", "MOTA", "MOTP", "IDF1", "IDSW", "CLR_FP", "CLR_FN", "MT", "ML", "Frag")
    rows = [*metrics["per_sequence"].items(), ("COMBINED", metrics["combined"])]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'sequence':<{width}}" + "".join(f"{c:>8}" for c in cols)]
    for name, m in rows:
        cells = [f"{100 * m[c]:.2f}" if isinstance(m.get(c), float) else str(m.get(c, "-")) for c in cols]
        lines.append(f"{name:<{width}}" + "".join(f"{c:>8}" for c in cells))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
