"""The ``mot-bench`` command line: run, eval, list, report, check, train, ablate."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from mot_bench.cli_args import parse_kv, split_names
from mot_bench.data.sequences import BENCHMARKS, SPLITS

# Commands that live with their subject: (module:attribute, one-line help). Imported only when used, so
# `mot-bench --help` and `run` with sort import no torch or matplotlib.
LAZY_COMMANDS = {
    "report": ("mot_bench.reports.commands:report",
               "Write a leaderboard and a self-contained HTML report for run folders."),
    "check": ("mot_bench.reports.commands:check",
              "Check run folders against a committed baseline (CI regression gate)."),
    "tune": ("mot_bench.tune:tune_cmd", "Search a tracker's options on cached detections (Optuna; local or Ray)."),
    "show": ("mot_bench.reports.commands:show",
             "View a run's frames with its boxes and the scoring's errors (HTML viewer, video)."),
}


class RunFailed(click.ClickException):
    """Work that failed although the input was accepted (a Ray task failing on every attempt): exit 1."""

    exit_code = 1


class InputError(click.ClickException):
    """A user-input error (bad file, option, name or folder): one line, exit status 2, like click's own
    usage errors. Status 1 is kept for a regression found by ``check`` (and engines that disagree)."""

    exit_code = 2


# Errors that mean "your input is wrong" wherever a command lets them escape: shown as one line, exit 2.
# Looked up in sys.modules only (an error class whose module was never imported cannot have been raised).
INPUT_ERRORS = (("mot_bench.registry", "UnknownNameError"), ("mot_bench.options", "OptionError"),
                ("mot_bench.data.sequences", "DataError"), ("mot_bench.data.mottext", "MOTFormatError"),
                ("mot_bench.metrics.common", "EvalError"), ("mot_bench.results", "RunFolderError"),
                ("mot_bench.runtime", "RuntimeConfigError"), ("mot_bench.data.frames", "FrameError"),
                ("mot_bench.data.validate", "InputCheckError"))


# A path the command was pointed at that cannot be opened as it must be (an unreadable gt, result, seqinfo or
# det file, a folder where a file belongs): the user's to fix, so one line and exit 2 in every command, never
# a traceback with exit 1 (which `check` users read as a regression).
_PATH_ERRORS = (PermissionError, IsADirectoryError, NotADirectoryError, FileNotFoundError)


def path_error_message(exc: OSError) -> str:
    """``path: what went wrong; what was expected`` for an OSError about one path."""
    reason = {PermissionError: "permission denied; expected a file this user can open (check its permissions)",
              IsADirectoryError: "is a folder; expected a file",
              NotADirectoryError: "a part of this path is a file; expected a folder",
              FileNotFoundError: "no such file or folder; expected it to exist"}
    detail = next((text for cls, text in reason.items() if isinstance(exc, cls)), exc.strerror)
    return f"{exc.filename}: {detail}"


def _input_error_types() -> tuple[type, ...]:
    found = []
    for module, name in INPUT_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


class LazyGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["mot_bench.argv"] = list(args)  # the command as typed, for "re-run ... to resume"
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Every user-input error exits 2 with one line: a plain ClickException (status 1 by default) and
        the project's input error classes, which would otherwise end in a traceback."""
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if type(exc) is click.ClickException:
                exc.exit_code = 2
            raise
        except Exception as exc:
            if isinstance(exc, _input_error_types()):
                raise InputError(str(exc)) from None
            if isinstance(exc, _PATH_ERRORS) and exc.filename is not None:
                raise InputError(path_error_message(exc)) from None
            raise

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list without importing the lazy commands' modules (their one-line help is kept here)."""
        rows = [(name, cmd.get_short_help_str(formatter.width)) for name, cmd in self.commands.items()
                if not cmd.hidden]
        rows += [(name, short) for name, (_, short) in LAZY_COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Benchmark multi-object trackers on MOTChallenge data with official (TrackEval) metrics."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


class RunCommand(click.Command):
    """``run --help`` ends with every tracker's options, read from their declarations (trackers import
    no torch, so this stays fast; detectors' options: ``mot-bench list detectors``)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        from mot_bench.options import describe, format_value
        from mot_bench.registry import TRACKERS

        rows = []
        for name in TRACKERS.names():
            cls = _safe_get(name)
            if cls is not None:
                rows.append((name, ", ".join(f"{r.name}={format_value(r.default)}" for r in describe(cls))))
        with formatter.section("Tracker options (--tracker-opt [TRACKER.]KEY=VALUE; default values shown)"):
            formatter.write_dl(rows)
        formatter.write_paragraph()
        formatter.write_text("Types, defaults, search ranges and help of every detector and tracker option: "
                             "mot-bench list [detectors|trackers] [NAME].")


@main.command(cls=RunCommand)
@click.option("--data", type=click.Path(exists=True, file_okay=False), default=None,
              help="MOTChallenge root (holding MOT17/train/...), a split folder, or one sequence folder. "
                   "Default: the bundled MOT15 TUD-Campus sample.")
@click.option("--benchmark", type=click.Choice(BENCHMARKS, case_sensitive=False), default=None,
              help="Benchmark under --data (MOT15, MOT16, MOT17, MOT20, SportsMOT, DanceTrack): its folders, splits "
                   "and seqmaps, and its official evaluation's scoring rules (mot-bench list benchmarks).")
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True,
              help="train/val/test: every frame; half-train/half-val (MOTChallenge): the first/second half of each "
                   "train sequence (FairMOT/ByteTrack ablation split; the frame ranges are recorded in config.json).")
@click.option("--seqs", default=None, help="Comma-separated sequence names to run (default: all in the split).")
@click.option("--detector", default=None,
              help="Detector name: public, oracle, precomputed, fairmot, or one added by an entry point. Default: "
                   "public; with neither --detector nor --tracker on the bundled sample (the main job), also "
                   "fairmot (the bundled checkpoint) with its own tracker, in a second detector pass.")
@click.option("--det-dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="Folder of per-sequence detections: <SEQ>.txt for public, <SEQ>.npy for precomputed. Without "
                   "--seqs, only the sequences with a file there are run (e.g. the MOT17-XX-SDP ones).")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Model checkpoint for detectors that take one (fairmot).")
@click.option("--detector-opt", multiple=True, metavar="KEY=VALUE",
              help="Detector option, repeatable (e.g. min_score=0.3, conf_thres=0.4); see mot-bench list detectors.")
@click.option("--tracker", "trackers", multiple=True,
              help="Tracker name (sort, bytetrack, fairmot, or an entry point); repeat to run several. "
                   "Default: every motion-only tracker.")
@click.option("--tracker-opt", multiple=True, metavar="[TRACKER.]KEY=VALUE",
              help="Tracker option, repeatable. bytetrack.track_thresh=0.6 sets it for ByteTrack only; a plain "
                   "KEY=VALUE applies to every tracker of the run that has KEY (an error if none has). "
                   "See mot-bench list trackers.")
@click.option("--tracker-config", default=None, type=click.Path(exists=True, dir_okay=False),
              help="JSON tracker options: {TRACKER: {KEY: VALUE}} or a `mot-bench tune` best.json "
                   "({\"tracker\": NAME, \"options\": {...}}); names the tracker(s) when --tracker is not given; "
                   "--tracker-opt overrides it.")
@click.option("--device", default="cpu", show_default=True,
              help="cpu, cuda, cuda:N or mps: where the detector's network runs (CUDA timings are synchronised).")
@click.option("--precision", type=click.Choice(["fp32", "fp16"]), default="fp32", show_default=True,
              help="Network precision (fp16 = float16 autocast, CUDA only).")
@click.option("--channels-last", is_flag=True, help="NHWC memory layout for the detector's network.")
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Torch intra-op threads for the detector (default: torch's own choice).")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Run folder (one tracker) or parent folder (several: one <out>/<tracker> each). "
                   "Default: runs/<bench>-<split>-<det>-<trk>.")
@click.option("--warmup", default=3, show_default=True, type=click.IntRange(min=0),
              help="Frames per sequence timed as warm-up: reported, excluded from FPS.")
@click.option("--no-eval", is_flag=True, help="Write results and timings only; do not score.")
@click.option("--overwrite", is_flag=True, help="Start the run folder afresh instead of resuming it.")
@click.option("--no-progress", is_flag=True, help="Hide the per-sequence progress bars.")
@click.option("--postprocess", "postprocess", multiple=True, metavar="NAME",
              help="Post-process each sequence's results before scoring, repeatable, applied in order: "
                   "interpolate (ByteTrack/OC-SORT linear gap interpolation), gsi (StrongSORT's Gaussian-smoothed "
                   "interpolation). The tracker's own rows stay in results_raw/.")
@click.option("--postprocess-opt", multiple=True, metavar="[NAME.]KEY=VALUE",
              help="Post-processing option, repeatable: interpolate.max_gap=20, interpolate.min_len=25 (ByteTrack's "
                   "script passes 5, OC-SORT's 30), gsi.interval=20, gsi.tau=10; a plain KEY=VALUE goes to every "
                   "named method that has KEY.")
@click.option("--cmc-cache", default=None, metavar="DIR",
              help="Cache of camera-motion warps for trackers that need them (BoT-SORT), one file per sequence, "
                   "method and frame range, reused by later runs. Default: <parent of --out>/.cache/cmc "
                   "(runs/.cache/cmc); 'off' computes them every run.")
@click.option("--engine", type=click.Choice(["fast", "trackeval"]), default="fast", show_default=True,
              help="Scoring engine (fast: TrackEval's numbers bit for bit, vectorised; trackeval: TrackEval itself).")
@click.option("--events", is_flag=True,
              help="Also write the scoring's error events (TP/FP/FN/IDSW/FRAG per box), a per-identity table and "
                   "per-frame statistics to <run>/events/ (what `report` timelines and intervals and `show` read).")
@click.option("--ray-address", default=None, metavar="ADDR|local",
              help="Run the sequences as Ray tasks (each with its one detector pass feeding every tracker): 'local' "
                   "starts a cluster on this machine, ADDR (or 'auto') joins one whose nodes have mot-bench and the "
                   "data at the same paths. Files are written here as a local run writes them; each completion "
                   "record names the machine that ran (and timed) the sequence. pip install 'mot-bench[distributed]'.")
@click.option("--ray-gpus-per-task", default=None, type=click.FloatRange(min=0),
              help="GPUs each sequence task asks (a fraction shares a GPU). Default: 1 with --device cuda, else 0; "
                   "CPUs asked: --threads (default 1).")
@click.option("--ray-retries", default=2, show_default=True, type=click.IntRange(min=0),
              help="Times a failed sequence task (error, lost worker or node) is submitted again; each failure is "
                   "reported.")
def run(data, benchmark, split, seqs, detector, det_dir, weights, detector_opt, trackers, tracker_opt, tracker_config,
        device, precision, channels_last, threads, out, warmup, no_eval, overwrite, no_progress, postprocess,
        postprocess_opt, cmc_cache, engine, events, ray_address, ray_gpus_per_task, ray_retries) -> None:
    """Run a detector and tracker(s) over sequences; write results, timings and scores.

    The detector runs once per frame and feeds every tracker; each tracker gets its own run folder.
    With no arguments (the main job): the bundled MOT15 TUD-Campus sample, public detections feeding
    every motion-only tracker, then FairMOT (the bundled MobileNetV2 checkpoint) on the images feeding
    its own tracker (one detector pass each), and one summary table.
    """
    from mot_bench.registry import TRACKERS
    from mot_bench.runner import RunOptions, SequenceFailures, run_many

    main_job = detector is None and not trackers and not tracker_config and data is None
    detector = detector or "public"
    det_opts = parse_kv(detector_opt, "--detector-opt")
    if det_dir:
        det_opts.setdefault("det_dir", det_dir)
    if weights and not main_job:
        det_opts.setdefault("weights", weights)
    from_file = read_tracker_config(tracker_config) if tracker_config else {}
    names = list(dict.fromkeys(trackers)) or list(from_file) or [
        n for n in TRACKERS.names() if getattr(_safe_get(n), "motion_only", False)
    ]
    stray = [n for n in from_file if n not in names]
    if stray:
        raise click.ClickException(f"--tracker-config {tracker_config} sets options of {', '.join(stray)}, "
                                   f"not among this run's trackers ({', '.join(names)})")
    # The main job's second pass: FairMOT end to end (detector + its own tracker), in <out>/fairmot.
    passes = [(detector, names, det_opts)] + ([("fairmot", ["fairmot"], {"weights": weights} if weights else {})]
                                             if main_job else [])
    results = []
    try:
        per_tracker = tracker_options_by_name(parse_kv(tracker_opt, "--tracker-opt"),
                                              [n for _, trk, _ in passes for n in trk])
        for det_name, trk_names, opts_det in passes:
            pass_out = out if len(passes) == 1 or out is None or det_name == detector else str(Path(out) / trk_names[0])
            opts = RunOptions(
                detector=det_name, trackers=trk_names, data=data, benchmark=benchmark, split=split,
                seqs=split_names(seqs), detector_options=opts_det,
                tracker_options={n: {**from_file.get(n, {}), **per_tracker[n]} for n in trk_names}, device=device,
                precision=precision, channels_last=channels_last, threads=threads, out=pass_out, warmup_frames=warmup,
                evaluate=not no_eval, overwrite=overwrite, progress=not no_progress, eval_engine=engine,
                postprocess=list(postprocess), postprocess_options=parse_kv(postprocess_opt, "--postprocess-opt"),
                cmc_cache=cmc_cache, events=events, ray_address=ray_address, ray_gpus_per_task=ray_gpus_per_task,
                ray_retries=ray_retries,
            )
            results += run_many(opts)
    except SequenceFailures as exc:
        raise RunFailed(str(exc)) from None
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        raise _aborted(locals().get("opts")) from None
    for res in results:
        click.echo(f"{res.tracker}: run folder {res.folder.path}", err=True)
    click.echo(summary_table(results))


def read_tracker_config(path: str) -> dict[str, dict[str, Any]]:
    """``{tracker: {options}}`` from a JSON file of that shape or a ``mot-bench tune`` best.json
    (``{"tracker": NAME, "options": {...}, ...}``)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"--tracker-config {path}: not a JSON file: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("tracker"), str) and isinstance(doc.get("options"), dict):
        return {doc["tracker"]: dict(doc["options"])}
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        return {k: dict(v) for k, v in doc.items()}
    raise click.ClickException(f"--tracker-config {path}: expected {{TRACKER: {{OPTION: VALUE}}}} or a best.json "
                               '({"tracker": NAME, "options": {...}})')


def _aborted(opts: Any) -> click.exceptions.Exit:
    """After Ctrl-C in ``run``: what each run folder kept, and the command that resumes (exit status 130)."""
    import shlex

    from mot_bench.results import RunFolder

    lines = ["Aborted!"]
    if opts is not None:
        for name in opts.trackers:
            folder = RunFolder(opts.out_for(name))
            done = sorted(folder.verified_sequences()) if folder.exists() else []
            lines.append(f"kept in {folder.path}: {len(done)} completed sequence(s)"
                         + (f" ({', '.join(done)})" if done else "") + "; files are complete or absent, "
                         "never half-written")
    argv = click.get_current_context().meta.get("mot_bench.argv") or sys.argv[1:]
    command = shlex.join(["mot-bench", *[a for a in argv if a != "--overwrite"]])
    lines.append(f"re-run to resume (completed sequences are kept, the rest redone): {command}")
    click.echo("\n".join(lines), err=True)
    return click.exceptions.Exit(130)


def tracker_options_by_name(raw: dict[str, str], names: list[str]) -> dict[str, dict[str, str]]:
    """``--tracker-opt`` items split per tracker (:func:`mot_bench.options.split_tracker_options`) and
    checked by building each tracker once, so a bad value fails before any tracker runs."""
    from mot_bench.options import OptionError, option_names, split_tracker_options
    from mot_bench.registry import TRACKERS, UnknownNameError

    try:
        per_tracker = split_tracker_options(raw, {n: option_names(TRACKERS.get(n)) for n in names})
        for name in names:
            TRACKERS.create(name, per_tracker[name])
    except (OptionError, UnknownNameError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    return per_tracker


def _safe_get(name: str) -> Any:
    from mot_bench.registry import TRACKERS

    try:
        return TRACKERS.get(name)
    except ImportError as exc:  # a third-party tracker that does not import must not break the default run
        logging.getLogger(__name__).warning("tracker %s unavailable: %s", name, exc)
        return None


def _cell(name: str, value: Any, digits: int) -> str:
    """A metric as the CLI tables show it: ratios in percent, counts as integers (mot_bench.metrics.fields)."""
    from mot_bench.metrics.fields import METRIC_FIELDS

    if value is None:
        return "-"
    field = METRIC_FIELDS.get(name)
    if field is not None and field.percent:
        return f"{100 * value:.{digits}f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _hardware_cell(res) -> str:
    """The hardware that timed a run: the machine its completion records name (several: how many, as a
    Ray run may spread sequences), else env.json's."""
    machines = {json.dumps(m, sort_keys=True): m for m in res.folder.sequence_machines().values()}
    if len(machines) > 1:
        return f"{len(machines)} machines (complete/<SEQ>.json)"
    env = next(iter(machines.values()), None) or res.folder.read_env()
    return env.get("gpu") or env.get("cpu", "?")


def summary_table(results) -> str:
    from mot_bench.metrics.fields import METRIC_FIELDS, SUMMARY

    titles = [METRIC_FIELDS[m].title for m in SUMMARY]
    head = f"{'run':<28} {'seqs':>4} {'frames':>6} {'FPS':>8} " + " ".join(f"{t:>6}" for t in titles) + "  hardware"
    lines = [head, "-" * len(head)]
    for res in results:
        cfg = res.folder.read_config()
        comb = res.metrics.get("combined", {})
        t = res.timing["combined"]
        fps = "-" if t["fps"] is None else f"{t['fps']:.1f}"
        hw = _hardware_cell(res)
        cells = " ".join(f"{_cell(m, comb.get(m), 1):>6}" for m in SUMMARY)
        lines.append(f"{cfg['label']:<28} {len(res.sequences):>4} {t['frames']:>6} {fps:>8} {cells}  {hw}")
    return "\n".join(lines)


@main.command("eval")
@click.option("--gt-root", required=True, type=click.Path(exists=True, file_okay=False),
              help="MOTChallenge root, split folder or sequence folder with gt/gt.txt and seqinfo.ini.")
@click.option("--benchmark", type=click.Choice(BENCHMARKS, case_sensitive=False), default=None,
              help="Benchmark folder and scoring rules (inferred from the data when omitted; mot-bench list "
                   "benchmarks).")
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True,
              help="Frames to score (val: SportsMOT's and DanceTrack's); half-val scores only the second half of each "
                   "sequence.")
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
@click.option("--events", is_flag=True,
              help="Also write the scoring's error events, per-identity table and per-frame statistics of every "
                   "sequence to RUN/events/ when --results is RUN/results of a run folder (else give --events-dir).")
@click.option("--events-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the events (implies --events).")
def eval_cmd(gt_root, benchmark, split, seqs, results, json_out, engine, compare_engines, workers, events,
             events_dir) -> None:
    """Score existing result files with the official MOTChallenge (TrackEval) metrics."""
    from mot_bench.atomic import atomic_write_json
    from mot_bench.data.sequences import DataError, find_sequences
    from mot_bench.metrics import EvalError, check_eval_dependencies, evaluate

    names = split_names(seqs)
    try:
        if names is None:
            every = find_sequences(gt_root, benchmark, split)
            available = {s.name for s in every}
            files = sorted(p.stem for p in Path(results).glob("*.txt") if p.is_file())
            if not available & set(files):
                raise click.ClickException(f"no <SEQ>.txt in {results} matches a sequence under {gt_root}")
            for note in scope_notes(results, gt_root, files, available):
                click.echo(note, err=True)
            seq_infos = [s for s in every if s.name in set(files)]
        else:
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
    if events or events_dir:
        write_events(seq_infos, Path(results), benchmark, events_dir)
    if other is not None:
        from mot_bench.metrics.compare import engine_diff_table

        table, n_diff = engine_diff_table(metrics, other, engine)
        click.echo(table)
        if n_diff:  # a finding, not an input error: status 1
            click.echo(f"Error: the engines differ in {n_diff} field value(s)", err=True)
            click.get_current_context().exit(1)


def write_events(seq_infos, results: Path, benchmark: str | None, events_dir: str | None) -> None:
    """``eval --events``: explain every sequence (mot_bench.metrics.explain) into the run folder's events/."""
    from mot_bench.metrics.explain import explain_results, write_explanations

    if events_dir is None:
        if results.name != "results" or not (results.parent / "config.json").is_file():
            raise click.ClickException(f"--events: {results} is not the results/ folder of a run folder; give "
                                       "--events-dir DIR")
        events_dir = str(results.parent / "events")
    write_explanations(events_dir, explain_results(seq_infos, results, benchmark))
    click.echo(f"wrote events of {len(seq_infos)} sequence(s) to {events_dir}", err=True)


def scope_notes(results: str, gt_root: str, files: list[str], available: set[str]) -> list[str]:
    """What a COMBINED row without --seqs leaves out, said rather than done silently.

    Not refused: a results folder often holds other .txt files (TrackEval writes pedestrian_summary.txt
    into the folder it scores), and results for part of a benchmark (one detector's MOT17 folders) are
    common; but a misnamed file must not vanish from the average unnoticed."""
    notes = []
    stray = [f"{n}.txt" for n in files if n not in available]
    if stray:
        notes.append(f"note: {len(stray)} file(s) in {results} match no sequence under {gt_root} and are not "
                     f"scored: {_listing(stray)}")
    missing = sorted(available - set(files))
    if missing:
        notes.append(f"note: COMBINED covers {len(available) - len(missing)} of the {len(available)} sequences "
                     f"under {gt_root}; no result file for: {_listing(missing)}")
    if notes:
        notes.append("note: --seqs names the sequences to score (a missing file is then an error)")
    return notes


def _listing(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def metrics_table(metrics: dict[str, Any]) -> str:
    from mot_bench.metrics.fields import TABLE as cols

    rows = [*metrics["per_sequence"].items(), ("COMBINED", metrics["combined"])]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'sequence':<{width}}" + "".join(f"{c:>8}" for c in cols)]
    for name, m in rows:
        cells = [_cell(c, m.get(c), 2) for c in cols]
        lines.append(f"{name:<{width}}" + "".join(f"{c:>8}" for c in cells))
    return "\n".join(lines)


def _parse_dataset(text: str) -> dict:
    """ROOT[:BENCHMARK[:SPLIT[:SEQ,SEQ...[:EVERY]]]] -> dataset spec (a JSON object is accepted too)."""
    if text.lstrip().startswith("{"):
        return json.loads(text)
    parts = text.split(":")
    spec: dict = {"root": parts[0]}
    if len(parts) > 1 and parts[1]:
        spec["benchmark"] = parts[1]
    if len(parts) > 2 and parts[2]:
        spec["split"] = parts[2]
    if len(parts) > 3 and parts[3]:
        spec["seqs"] = [s for s in parts[3].split(",") if s]
    if len(parts) > 4 and parts[4]:
        spec["every"] = int(parts[4])
    return spec


@main.command("train")
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--data", "datasets", multiple=True,
              help="Training data, repeatable: ROOT[:BENCHMARK[:SPLIT[:SEQ,SEQ[:EVERY]]]] "
                   "(e.g. ../shared/data:MOT15:half-train:PETS09-S2L1,TUD-Campus) or a JSON object.")
@click.option("--out", help="Experiment folder (checkpoints, train_log.jsonl, train_config.json).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=JSON",
              help="Override any training option, e.g. --set lr=5e-4 --set lr_step=[5] --set head=anchor_based.")
@click.option("--resume", is_flag=True, help="Continue from OUT/model_last.pth (weights, optimiser, epoch).")
@click.option("--load-model", help="Start from a checkpoint (official FairMOT/CenterNet); mismatches are skipped "
                                   "and reported.")
def train(config, datasets, out, overrides, resume, load_model) -> None:
    """Train FairMOT (anchor-free, or the anchor-based ablation head) on MOTChallenge folders.

    CONFIG is a JSON file of options (see mot_bench/detectors/fairmot/training/trainer.py TrainConfig;
    docs/training.md).
    Multi-GPU: torchrun --nproc_per_node N -m mot_bench.cli train CONFIG.
    """
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig
    from mot_bench.detectors.fairmot.training.trainer import train as run_training

    data = json.loads(Path(config).read_text(encoding="utf-8")) if config else {}
    if datasets:
        data["datasets"] = [_parse_dataset(d) for d in datasets]
    if out:
        data["out"] = out
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        try:
            data[key] = json.loads(value)
        except json.JSONDecodeError:
            data[key] = value
    if resume:
        data["resume"] = True
    if load_model:
        data["load_model"] = load_model
    try:
        cfg = TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not cfg.datasets:
        raise click.UsageError("no training data: give --data or 'datasets' in CONFIG")
    summary = run_training(cfg)
    last = summary["epochs"][-1] if summary["epochs"] else {}
    click.echo(f"trained {len(summary['epochs'])} epoch(s) on {summary['images']} images, nID={summary['num_ids']}; "
               f"last epoch loss {last.get('loss', float('nan')):.4f}; checkpoint {summary['checkpoint']}",
               file=sys.stderr)


@main.command("list")
@click.argument("kind", required=False, type=click.Choice(["detectors", "trackers", "benchmarks"]))
@click.argument("name", required=False)
def list_cmd(kind: str | None, name: str | None) -> None:
    """Every detector and tracker with its options: type, default, search range (trackers), valid values
    and help, all read from the plugins' option declarations; the benchmarks from their declarations.

    \b
    mot-bench list                      every plugin
    mot-bench list trackers             every tracker
    mot-bench list trackers bytetrack   one tracker
    mot-bench list benchmarks           layouts, splits and official scoring settings
    """
    if kind == "benchmarks":
        click.echo(benchmarks_table(name))
        return
    from mot_bench.registry import DETECTORS, TRACKERS

    registries = {"detectors": DETECTORS, "trackers": TRACKERS}
    kinds = [kind] if kind else list(registries)
    if name and not kind:
        raise click.UsageError("name a kind first: mot-bench list detectors NAME or mot-bench list trackers NAME")
    blocks = []
    for k in kinds:
        reg = registries[k]
        tables = []
        for n in [name] if name else reg.names():
            try:
                cls = reg.get(n)
            except KeyError as exc:
                raise click.ClickException(str(exc)) from None
            except ImportError as exc:
                tables.append(f"{n}  (unavailable: {exc})")
                continue
            tables.append(plugin_table(n, cls))
        blocks.append(f"{k}:\n\n" + "\n\n".join(tables))
    click.echo("\n\n".join(blocks))


def benchmarks_table(name: str | None = None) -> str:
    """The benchmark declarations (mot_bench.data.benchmarks): what each is, where its data is looked for,
    what its official evaluation passes to TrackEval, and where each setting was read."""
    from mot_bench.data.benchmarks import DECLARATIONS, BenchmarkError, get_benchmark

    try:
        benches = [get_benchmark(name)] if name else list(DECLARATIONS.values())
    except BenchmarkError as exc:
        raise click.ClickException(str(exc)) from None
    blocks = []
    for b in benches:
        splits = ", ".join(f"{s.name} ({s.folder}/{'' if s.frames == 'all' else ' ' + s.frames})" for s in b.splits)
        rule = (f"scored: int(column 7) != 0 and class 1; distractors: {', '.join(b.distractors)}" if b.class_rule
                else "scored: int(column 7) != 0 (no classes)")
        lines = [f"{b.name}  {b.description}",
                 f"  splits: {splits}",
                 f"  folders under --data: {', '.join(f'{f}/<split>' for f in b.folders)}, "
                 f"{b.kit_benchmark}-<split>, <split>",
                 f"  seqmap (beside the split folder): {', '.join(b.seqmaps) or '-'}",
                 f"  TrackEval: BENCHMARK={b.kit_benchmark!r} DO_PREPROC={b.do_preproc}; {rule}",
                 f"  gt ids from {b.first_gt_id}; frame rate: seqinfo.ini, else {b.default_fps:g}; images "
                 f"img1/{'0' * (b.image_digits - 1)}1.jpg"]
        lines += [f"  source: {s}" for s in b.sources]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def plugin_table(name: str, cls: type) -> str:
    """One plugin's options as a text table, from :func:`mot_bench.options.describe`."""
    from mot_bench.options import describe, format_range, format_value, presets_of

    summary = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
    lines = [f"{name}  {summary}".rstrip()]
    rows = [("option", "type", "default", "search range", "valid", "help")]
    for r in describe(cls):
        rows.append((r.name, r.type, format_value(r.default), format_range(r.range), format_range(r.bounds), r.help))
    if len(rows) == 1:
        lines.append("  (no options)")
    else:
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    for preset, values in presets_of(cls).items():
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in values.items()) or "the defaults above"
        lines.append(f"  preset {preset}: {shown}")
    from mot_bench.options import options_class, sequence_presets

    for table, rows in sequence_presets(options_class(cls)).items():  # per-sequence settings (per_sequence=NAME)
        shown = "; ".join(f"{seq} ({', '.join(f'{k}={format_value(v)}' for k, v in row.items())})"
                          for seq, row in rows.items())
        lines.append(f"  sequence preset {table}: {shown}")
    return "\n".join(lines)


@main.command("ablate")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", help="Ablation folder (default: the config's 'out').")
@click.option("--parallel", type=int, default=None, help="Variants trained/run at once in separate processes.")
def ablate_cmd(config, out, parallel) -> None:
    """Train, run and score a grid of FairMOT variants; write comparison.csv/.md/HTML against the base.

    CONFIG (JSON): {"out", "base": {options}, "axes": {option: [values]}, "eval": {"data", "benchmark",
    "split", "seqs", "device", "precision", "channels_last"}, "parallel"}. See docs/training.md.
    """
    from mot_bench.sweep import ablate as run_ablation
    from mot_bench.sweep import load_config

    try:
        cfg = load_config(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if out:
        cfg["out"] = out
    table = run_ablation(cfg, parallel)
    click.echo(Path(table["files"]["comparison_md"]).read_text(encoding="utf-8"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
