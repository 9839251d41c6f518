"""The ``report`` and ``check`` click commands; the ``mot-bench`` group registers them with ``add_command``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mot_bench.reports.check import (
    BaselineError,
    check_run,
    load_baseline,
    markdown_report,
    parse_tolerance,
    text_report,
    write_baseline,
)
from mot_bench.reports.runs import ReportError, check_comparable, load_run, load_runs

DEFAULT_REPLICATES = 1000  # mot_bench.metrics.bootstrap's defaults, repeated so --help imports no numpy
DEFAULT_BLOCK = 30


class UsageProblem(click.ClickException):
    """A usage error (bad input, missing file): exit status 2, as click uses for bad options."""

    exit_code = 2


def _metric_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from mot_bench.reports.leaderboard import resolve_metric  # pandas: imported when a command runs, not for --help

    try:
        return resolve_metric(value)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0]) from None


@click.command("report")
@click.argument("runs", nargs=-1, required=True, metavar="RUN_DIR...", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("report"), show_default=True,
              help="Folder for leaderboard.csv, leaderboard.md, leaderboard_per_sequence.csv and index.html "
                   "(plus comparison.csv/.md with --base or a manifest). Created if missing; files are replaced.")
@click.option("--sort-by", default="HOTA", show_default=True, callback=_metric_option, metavar="METRIC",
              help="Metric that orders the leaderboard, best first (direction-aware: lower IDSW/FP/FN ranks "
                   "higher). A TrackEval field or its short name: HOTA, DetA, AssA, MOTA, IDF1, IDSW, FP, FN, "
                   "MT, ML, FPS ...")
@click.option("--base", type=click.Path(path_type=Path), default=None, metavar="RUN_DIR",
              help="Compare every other run against this one: adds a table of deltas (coloured better/worse) "
                   "with the options that differ from the base as columns. The base need not be repeated "
                   "among RUN_DIR.")
@click.option("--no-plots", is_flag=True,
              help="Skip the matplotlib figures (faster): tables, CSV and Markdown only; the HTML says so.")
@click.option("--allow-mixed", is_flag=True,
              help="Rank or compare runs of different benchmarks, splits or sequence sets (refused otherwise, "
                   "exit 2); the benchmark and split columns tell them apart.")
@click.option("--no-events", is_flag=True,
              help="Leave out what the scoring's events add: identity timelines, per-identity changes against "
                   "--base, and bootstrap intervals (vs the best run, vs the base).")
@click.option("--data", type=click.Path(exists=True, file_okay=False), default=None, metavar="ROOT",
              help="Where the runs' gt lives when it moved since the run (for runs without current events/).")
@click.option("--replicates", type=click.IntRange(min=2), default=DEFAULT_REPLICATES, show_default=True,
              help="Bootstrap replicates of every interval.")
@click.option("--block-frames", type=click.IntRange(min=1), default=DEFAULT_BLOCK, show_default=True,
              help="Bootstrap block length in frames (consecutive frames resampled together).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed (same seed, same intervals).")
def report(runs: tuple[Path, ...], out: Path, sort_by: str, base: Path | None, no_plots: bool,
           allow_mixed: bool, no_events: bool, data: Path | None, replicates: int, block_frames: int,
           seed: int) -> None:
    """Write a leaderboard and a self-contained HTML report for run folders.

    RUN_DIR is a folder written by `mot-bench run` (and scored). Instead of run folders you may
    pass one ablation manifest (JSON written by `mot-bench ablate`) to compare its variants with
    its base run, the manifest's axes becoming columns. Nothing is re-run: the report reads
    config.json, env.json, metrics.json and timing/ only.
    """
    from mot_bench.metrics.bootstrap import Settings
    from mot_bench.reports.compare import read_manifest, write_comparison  # matplotlib: only when a report is written
    from mot_bench.reports.report import write_report

    extra = {"explain": not no_events, "data": data, "bootstrap": Settings(replicates, block_frames, seed)}
    manifests = [p for p in runs if p.is_file()]
    try:
        if manifests:
            if len(runs) != 1 or base is not None:
                raise UsageProblem(f"{manifests[0]}: an ablation manifest must be the only argument (without --base)")
            base_dir, variants = read_manifest(manifests[0])
            files = write_comparison(base_dir, variants, out, sort_by=sort_by, figures=not no_plots, **extra)["files"]
        elif base is not None:
            others = [p for p in runs if p.resolve() != base.resolve()]
            if not others:
                raise UsageProblem("--base needs at least one other RUN_DIR to compare with")
            if not allow_mixed:
                check_comparable(load_runs([base, *others]), "compare")
            files = write_comparison(base, [(p, {}) for p in others], out, sort_by=sort_by,
                                     figures=not no_plots, **extra)["files"]
        else:
            loaded = load_runs(list(runs))
            if not allow_mixed:
                check_comparable(loaded, "rank")
            files = write_report(loaded, out, sort_by=sort_by, figures=not no_plots, **extra)
    except ReportError as exc:
        raise UsageProblem(str(exc)) from None
    for path in files.values():
        click.echo(f"wrote {path}")


@click.command("check")
@click.argument("runs", nargs=-1, required=True, metavar="RUN_DIR...", type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Baseline JSON to compare against (made with --write-baseline). Each run is matched to the "
                   "baseline entry with its label; a baseline with a single entry matches any run.")
@click.option("--write-baseline", "write_to", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE",
              help="Instead of checking, record these runs' combined and per-sequence metrics (and FPS, "
                   "hardware) in FILE, with default tolerances (0.5 points for ratios such as HOTA/MOTA/IDF1; "
                   "max(2, 2%) for IDSW/Frag/FP/FN; max(1, 2%) for MT/ML). An existing FILE keeps its other "
                   "entries and tolerances. Small JSON meant to be committed.")
@click.option("--tolerance", "tolerances", multiple=True, metavar="METRIC=VALUE",
              help="Allowed change in the worse direction, overriding the baseline's. VALUE is absolute in "
                   "metrics.json units (ratios are fractions: HOTA=0.005 is half a point) or relative with a "
                   "% sign (IDSW=10%). Repeatable. With --write-baseline it is stored in the file.")
@click.option("--fps-ratio", type=click.FloatRange(min=0, min_open=True), default=None, metavar="R",
              help="Also fail when FPS < baseline FPS * R (e.g. 0.8 allows a 20% slowdown). Off unless given "
                   "here or set as \"fps_ratio\" in the baseline; only meaningful on the baseline's hardware.")
@click.option("--allow-mixed", is_flag=True,
              help="Compare a run with a baseline entry of another benchmark or split (refused otherwise, exit 2).")
def check(runs: tuple[Path, ...], baseline: Path | None, write_to: Path | None, tolerances: tuple[str, ...],
          fps_ratio: float | None, allow_mixed: bool) -> None:
    """Fail (exit 1) when a run's metrics got worse than a stored baseline.

    Compares combined and per-sequence HOTA, DetA, AssA, LocA, MOTA, MOTP, IDF1, IDSW, Frag, MT, ML,
    FP and FN. Prints what moved and by how much; improvements beyond tolerance are reported and
    pass. Exit status: 0 all within tolerance, 1 regression, 2 usage error (missing or malformed
    baseline, unknown metric, missing run folder). When $GITHUB_STEP_SUMMARY is set, a Markdown
    summary is appended to that file.
    """
    if (baseline is None) == (write_to is None):
        raise UsageProblem("give exactly one of --baseline FILE (to check) or --write-baseline FILE (to record)")
    try:
        overrides = dict(parse_tolerance(t) for t in tolerances)
        loaded = load_runs(list(runs))
        if write_to is not None:
            if fps_ratio is not None:
                raise UsageProblem("--fps-ratio applies when checking; edit \"fps_ratio\" in the baseline to store one")
            data = write_baseline(loaded, write_to, overrides)
            click.echo(f"wrote {write_to} (entries: {', '.join(sorted(data['runs']))})")
            return
        assert baseline is not None
        data = load_baseline(baseline)
        results = [check_run(run, data, baseline, overrides, fps_ratio, allow_mixed) for run in loaded]
    except (BaselineError, ReportError) as exc:
        raise UsageProblem(str(exc)) from None
    for res in results:
        click.echo(text_report(res))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write("".join(markdown_report(r) for r in results))
    if not all(r.passed for r in results):
        click.get_current_context().exit(1)


@click.command("show")
@click.argument("run", metavar="RUN_DIR", type=click.Path(path_type=Path))
@click.option("--seq", default=None, help="Sequence to show (needed when the run has several).")
@click.option("--compare", type=click.Path(path_type=Path), default=None, metavar="RUN2",
              help="A second run folder on the same sequence: its panel beside the first, frame by frame.")
@click.option("--frames", default=None, metavar="A:B",
              help="Frames to show, inclusive, in the sequence's own numbering (default: every frame the run "
                   "scored; A: or :B leave one end open).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML viewer to write (default: show-<SEQ>.html; with --video and no --out, no HTML).")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a video of the same frames: .mp4 (MPEG-4 Part 2, what opencv-python's FFmpeg can "
                   "encode; VLC/ffplay play it, browsers may not) or .avi (Motion JPEG).")
@click.option("--max-width", type=click.IntRange(min=64), default=960, show_default=True,
              help="Width in pixels each run's panel is drawn at (frames larger than this are reduced).")
@click.option("--quality", type=click.IntRange(1, 100), default=70, show_default=True,
              help="JPEG quality of the frames embedded in the HTML.")
@click.option("--trail", type=click.IntRange(min=0), default=30, show_default=True,
              help="Frames of past positions drawn behind each predicted box.")
@click.option("--data", type=click.Path(exists=True, file_okay=False), default=None, metavar="ROOT",
              help="Where the sequence's images and gt live, when they moved since the run.")
def show(run: Path, seq: str | None, compare: Path | None, frames: str | None, out: Path | None,
         video: Path | None, max_width: int, quality: int, trail: int, data: Path | None) -> None:
    """Look at a run's frames: predicted boxes coloured by id with trails, the gt, and the scoring's own
    errors of each frame (missed, false, switched, fragmented), as one self-contained HTML viewer with a
    scrubber and/or a video. Sequences without images are drawn on a neutral canvas of their size."""
    from mot_bench.data.frames import FrameError
    from mot_bench.data.sequences import DataError
    from mot_bench.metrics.common import EvalError
    from mot_bench.reports.viewer import show as write_viewer

    try:
        first = load_run(run)
        second = load_run(compare) if compare is not None else None
        if seq is None:
            if len(first.sequences) != 1:
                raise UsageProblem(f"{run} holds {len(first.sequences)} sequences ({', '.join(first.sequences)}); "
                                   "choose one with --seq")
            seq = first.sequences[0]
        html_out = out if out is not None or video is not None else Path(f"show-{seq}.html")
        files = write_viewer(first, seq, second, frames, html_out, video, max_width, quality, trail, data)
    except (ReportError, DataError, EvalError, FrameError) as exc:
        raise UsageProblem(str(exc)) from None
    for path in files.values():
        click.echo(f"wrote {path}")
