"""The MOT20-01 block of docs/leaderboard.md: run trackers with their official MOT20 settings and (re)write their rows.

Each tracker runs through ``mot-bench run``'s runner on MOT20-01 (429 frames, about 58 boxes a frame) with the
YOLOX-X detections of ``detections/MOT20/YOLOX_X_UCMCTrack`` (every row handed over), with its ``mot20`` preset
(the values its official script uses for MOT20; the tracker's defaults, said so in the row, when it declares
none), is scored by the runner (TrackEval's fields; the MOT20 gt rule) and timed per frame; the row gets HOTA,
DetA, AssA, MOTA, IDF1, IDSW, FP, FN and the tracker-only FPS (the ``track`` column, warm-up excluded), with the
date and the CPU. Rows of trackers not run are kept, so adding a tracker to the block is one command::

    python benchmarks/board_mot20.py --tracker NEW_TRACKER [--tracker-opt NEW_TRACKER.KEY=VALUE]

and ``python benchmarks/board_mot20.py`` re-runs every tracker with a ``mot20`` preset that needs no re-ID
embeddings with it (the detection file has none), plus SORT (no MOT20 setting of its own: its defaults, every
box). Camera-motion trackers get their official GMC files: BoT-SORT's ``GMC-MOT20-01.txt`` is in
tests/fixtures/mot20 (``gmc_dir`` set here unless given); a tracker that needs an input not given (another
tracker's GMC files, images) is named with the reason and skipped, the other rows are written, exit 1. Run
folders: ``--out`` (default ``runs/mot20-01``) ``/<tracker>``; an existing folder is resumed, ``--overwrite``
redoes it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- mot20-01 rows: benchmarks/board_mot20.py -->", "<!-- /mot20-01 rows -->"
HEADER = ("| tracker | settings | HOTA | DetA | AssA | MOTA | IDF1 | IDSW | FP | FN | FPS track | measured |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
# Options a tracker needs besides its preset to run as its official script does (files the script reads).
EXTRA = {"botsort": {"gmc_dir": str(REPO / "tests" / "fixtures" / "mot20")}}
NO_PRESET_BUT_RUN = ("sort",)  # motion trackers without a MOT20 setting, run with their defaults


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    ap.add_argument("--tracker", action="append", default=[], help="tracker to (re)run; repeat (default: all)")
    ap.add_argument("--tracker-opt", action="append", default=[], metavar="TRACKER.KEY=VALUE",
                    help="extra option of one tracker (recorded in its row's settings)")
    ap.add_argument("--min-score", type=float, default=None,
                    help="hand over only boxes scoring >= this (public min_score; the row and folder say so)")
    ap.add_argument("--out", type=Path, default=Path("runs/mot20-01"))
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "leaderboard.md")
    ap.add_argument("--overwrite", action="store_true")
    return ap.parse_args(argv)


def default_trackers() -> list[str]:
    """Trackers with a ``mot20`` preset that run on boxes alone with it (no re-ID embeddings: the detection
    file has none), and the motion trackers without a MOT20 setting listed above."""
    from mot_bench.options import presets_of
    from mot_bench.registry import TRACKERS

    names = []
    for name in TRACKERS.names():
        if name in NO_PRESET_BUT_RUN:
            names.append(name)
        elif "mot20" in presets_of(TRACKERS.get(name)):
            tracker = TRACKERS.create(name, settings_for(name, {})[0])
            if not getattr(tracker, "needs_embeddings", False):
                names.append(name)
    return names


def settings_for(name: str, given: dict[str, str]) -> tuple[dict[str, str], str]:
    """The tracker's options for MOT20 and how the row describes them."""
    from mot_bench.options import presets_of
    from mot_bench.registry import TRACKERS

    has_preset = "mot20" in presets_of(TRACKERS.get(name))
    options = {**({"preset": "mot20"} if has_preset else {}), **EXTRA.get(name, {}), **given}
    shown = [f"{k}={v}" for k, v in options.items() if k != "gmc_dir"]
    if "gmc_dir" in options:
        shown.append(f"GMC file {Path(options['gmc_dir']).name}/GMC-MOT20-01.txt")
    described = ", ".join(shown) if shown else "defaults"
    return options, described if has_preset or given else f"{described} (no MOT20 setting)"


def run_one(name: str, options: dict[str, str], args: argparse.Namespace, folder: str) -> dict[str, str]:
    from mot_bench.runner import RunOptions, run
    from mot_bench.timing import hardware_stamp

    det_opts = {"det_dir": str(args.data / "detections" / "MOT20" / "YOLOX_X_UCMCTrack")}
    if args.min_score is not None:
        det_opts["min_score"] = args.min_score
    res = run(RunOptions(detector="public", detector_options=det_opts, tracker=name,
                         tracker_options={name: options}, data=str(args.data), benchmark="MOT20", seqs=["MOT20-01"],
                         out=str(args.out / folder), overwrite=args.overwrite, progress=False))
    m = res.metrics["combined"]
    track_ms = res.timing["combined"]["ms_per_frame"]["track"]
    cpu = hardware_stamp("cpu")["cpu"]
    pct = {k: f"{100 * m[k]:.1f}" for k in ("HOTA", "DetA", "AssA", "MOTA", "IDF1")}
    return {**pct, "IDSW": str(int(m["IDSW"])), "FP": str(int(m["CLR_FP"])), "FN": str(int(m["CLR_FN"])),
            "FPS": f"{1000 / track_ms:.0f}" if track_ms else "-",
            "when": f"{time.strftime('%Y-%m-%d')}, {cpu} ({res.timing['combined']['frames']} frames)"}


def write_rows(doc: Path, rows: dict[str, str]) -> None:
    """Replace the rows of the trackers given (by their first cell), keep the others, sort by HOTA."""
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {doc} has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    block, tail = rest.split(END, 1)
    kept = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        kept[cells[0]] = line.strip()
    kept.update(rows)

    def hota(line: str) -> float:
        cell = line.strip().strip("|").split("|")[2].strip().strip("*")
        return float(cell) if re.fullmatch(r"[0-9.]+", cell) else -1.0

    body = "".join(line + "\n" for line in sorted(kept.values(), key=hota, reverse=True))
    from mot_bench.atomic import atomic_write_text

    atomic_write_text(doc, head + BEGIN + "\n" + HEADER + body + END + tail)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sys.path.insert(0, str(REPO))
    names = args.tracker or default_trackers()
    given: dict[str, dict[str, str]] = {n: {} for n in names}
    for item in args.tracker_opt:
        key, _, value = item.partition("=")
        tracker, _, option = key.partition(".")
        if tracker not in given or not option or not _:
            raise SystemExit(f"error: --tracker-opt {item!r}: expected TRACKER.KEY=VALUE for a tracker being run")
        given[tracker][option] = value
    rows, failed = {}, []
    for name in names:
        options, described = settings_for(name, given[name])
        label, folder = name, name
        if args.min_score is not None:
            label, folder = f"{name} (boxes >= {args.min_score:g})", f"{name}-min{args.min_score:g}"
        try:
            r = run_one(name, options, args, folder)
        except (ValueError, FileNotFoundError, RuntimeError) as exc:  # one tracker's missing input: say so, go on
            print(f"error: {name} not run: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        rows[label] = (f"| {label} | {described} | {r['HOTA']} | {r['DetA']} | {r['AssA']} | {r['MOTA']} | "
                       f"{r['IDF1']} | {r['IDSW']} | {r['FP']} | {r['FN']} | {r['FPS']} | {r['when']} |")
        print(rows[label])
    if rows:
        write_rows(args.doc, rows)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
