"""Tracking-only throughput of SORT, ByteTrack, OC-SORT, BoT-SORT and the newer trackers, optionally against the
official code.

Detections are read and grouped per frame before the clock starts; only the trackers' per-frame
update is timed (``time.perf_counter`` around each call; CPU work, nothing to synchronise). Datasets:

* ``mot15-frcnn``: MOT15 train, SORT's Faster R-CNN detections (``detections/MOT15/SORT_FRCNN``),
  every frame. SORT with its defaults; ByteTrack with ``tools/demo_track.py``'s defaults and the
  sequence frame rate; OC-SORT and BoT-SORT with the options they use on MOT17 below (there is no
  official configuration of either for these detections), BoT-SORT without camera motion
  (``cmc_method`` none on both sides: there are no GMC files for MOT15).
* ``mot17-yolox``: the 7 MOT17 half-val sequences (frames N//2+2..N) with ByteTrack's
  ``yolox_x_ablation`` detections (``detections/MOT17/YOLOX_X_ablation``). ByteTrack with
  ``tools/track.py``'s options as its evaluator applies them (track_thresh 0.6, match_thresh 0.9,
  min_box_area 100, frame rate 30, track_buffer 14 for MOT17-05 and 25 for MOT17-13, else 30).
  SORT (which has no score threshold of its own) gets the boxes scoring above 0.6, ByteTrack's
  high-score set: our choice, there is no official SORT configuration for these detections.
  OC-SORT as OC_SORT's ``mot_evaluator.py::evaluate_ocsort`` runs it (det_thresh 0.6, IoU 0.3,
  delta_t 3, inertia 0.2, max_age 30, min_hits 3, output filter w*h > 100 and w/h <= 1.6), on the
  rows scoring >= 0.1 (YOLOX's ``test_conf``), frames left empty skipped as the evaluator skips them.
  BoT-SORT without re-ID as BoT-SORT's ``tools/track.py`` runs it (``--eval val`` defaults: 0.6 /
  0.1 / new track 0.7, buffer 30, match 0.8, frame rate 30, ablation, output filter w*h > 10 and
  w/h <= 1.6) on the rows scoring >= 0.09 (its detector confidence), with the official camera-motion
  files (``cmc_method`` file; ours reads ``gmc/BoT-SORT/MOT17_ablation`` under ``--data``).
  TrackTrack as its ``run.py`` drives it on MOT17 (det 0.6, init 0.7, match 0.7, lost tracks kept twice the
  frame rate, output filter w*h > 100 and w/h <= 1.6) on the rows scoring >= 0.1 (its detector confidence),
  without embeddings or a looser-NMS set, with its own GMC files (``DIR/TrackTrack/3. Tracker/trackers/cmc``;
  without ``--official-dir`` ours reads BoT-SORT's under ``--data``, other estimates for 04/05/09); on MOT15
  without camera motion.
* ``mot20-yolox``: MOT20-01, every frame (429, about 58 boxes a frame: the crowded case), the YOLOX-X detections
  of ``detections/MOT20/YOLOX_X_UCMCTrack``. Every tracker with its official MOT20 settings, ours through its
  ``mot20`` preset: ByteTrack as the README's MOT20 command runs ``tools/track.py`` (``--match_thresh 0.7
  --mot20``: no score fusion; track_thresh 0.6, buffer 30 at frame rate 30, min_box_area 100, every row);
  OC-SORT as GET_STARTED.md's MOT20 command (``--track_thresh 0.4 --mot20``: det_thresh 0.4; rows >= 0.1);
  BoT-SORT as ``tools/track.py --default-parameters --benchmark MOT20`` without re-ID (mot20 on, match_thresh
  0.7, the full-sequence GMC file ``GMC-MOT20-01.txt``, rows >= 0.09); SORT, which has no MOT20 setting, on the
  rows scoring above 0.6 as on MOT17. These are the settings of tests/fixtures/mot20 (whose PROVENANCE.md
  gives file and line of each); ours reads the GMC file from ``--gmc-dir`` (default: that folder). Only these
  four are wired with MOT20 settings; naming another tracker on this dataset is refused.

BoostTrack (``boosttrack``: the README's BoostTrack command) and BoostTrack++ without re-ID (``boosttrackpp``
with ``with_reid`` off; the benchmark has no embeddings), as ``main.py`` runs them: MOT17 settings
(det_thresh 0.6, the per-sequence lost-track table), the rows scoring >= 0.1 (YOLOX's ``test_conf``), frames
left empty skipped, ``main.py``'s output filter (w*h > 10, w/h <= 1.6) inside the timed call. Camera motion:
on ``mot17-yolox`` BoT-SORT's GMC warps, which the official ``ECC`` class reads from its own cache format
(``cache/MOT17-XX-FRCNN.json``, written before the clock starts; ours reads the GMC files); on
``mot15-frcnn`` none (``--no_cmc``). The official code runs in this process under numpy 2, whose float32-scalar
arithmetic differs from the numpy 1.24 it was written for, so its rows are compared at the written precision
(0.1 px, ids) and a few may differ; bit-identity under numpy 1.24 is checked with the fixtures
(tests/fixtures/boosttrack/PROVENANCE.md) and does not decide the exit code here.

``--official-dir DIR`` times the official implementations interleaved with ours on the same
pre-parsed arrays: per repeat and per sequence, ours and the official one run back to back (the
order alternates), so the per-repeat ratio official/ours sees the same machine load; the median
over repeats is reported. Every output row (ids, boxes to the bit, scores) of both is compared
as well. DIR must hold, unmodified (their code is not part of this project and is never copied in):
    DIR/TrackTrack/3. Tracker/trackers/{tracker,track,utils,kalman_filter,cmc}.py and cmc/GMC-MOT17-*.txt
                                         kamkyu94/TrackTrack @ eac4df28 (needs lap; cython_bbox or the shim)

    DIR/sort.py                          abewley/sort @ 2236dff ``sort.py`` (needs filterpy)
    DIR/yolox/tracker/{byte_tracker,basetrack,kalman_filter,matching}.py
                                         ifzhang/ByteTrack @ d1bf019 (needs lap, cython_bbox)
    DIR/OC_SORT/trackers/ocsort_tracker/{ocsort,association,kalmanfilter}.py
                                         noahcao/OC_SORT @ 8462e7e (needs filterpy, lap)
    DIR/BoT-SORT/tracker/{bot_sort,matching,kalman_filter,gmc,basetrack}.py
                                         NirAharon/BoT-SORT @ 2519854 (needs lap, cython_bbox, cv2)
    DIR/BoT-SORT/tracker/GMC_files/MOT17_ablation/GMC-MOT17-*.txt
                                         the GMC files (``gmc.py`` opens them from this relative
                                         path; a link to ``gmc/BoT-SORT/MOT17_ablation`` will do)
    DIR/BoT-SORT/tracker/GMC_files/MOTChallenge/GMC-MOT20-01.txt
                                         for mot20-yolox (a link to tests/fixtures/mot20/GMC-MOT20-01.txt)
    DIR/BoostTrack/{default_settings.py,tracker/{boost_track,assoc,kalmanfilter,ecc,embedding}.py}
                                         vukasin-stanojevic/BoostTrack @ 3c391f43 (needs lap, scipy, cv2;
                                         its ``tracker`` package is imported under another name, BoT-SORT's
                                         has the same one; torchreid and its FastReID adaptor are stubbed)
    DIR/HybridSORT/trackers/hybrid_sort_tracker/{hybrid_sort,association,kalmanfilter_score_new}.py
                                         ymzis69/HybridSORT @ 396f8d30 (needs numpy < 1.24, scipy, lap,
                                         filterpy: see below)

Hybrid-SORT's official code fails under numpy 2 (it assigns a one-element array into a float row, which
numpy 1 allowed) and its arithmetic is numpy 1's, so it runs in a worker process started with
``--official-python PY`` (an interpreter with numpy < 1.24, scipy, lap and filterpy; this script, run by that
interpreter with ``--hybridsort-worker DIR``, is the worker). The worker holds each sequence's input arrays,
sent once before the clock starts, and on request runs one sequence, timing only its update calls (with
``time.perf_counter``, as here) and sending back the total and, on the first repeat, its rows; the parent
alternates the order of ours and the worker per sequence and repeat, as for the others. Hybrid-SORT is fed
as ``evaluate_hybrid_sort`` feeds it (the README's MOT17-val exp: det_thresh 0.6, IoU 0.25, height-modulated
IoU, delta_t 3, inertia 0.05, BYTE and TCM on; (N, 5) float32 rows scoring >= 0.1, scale 1; frames without
rows passed as ``None``, which the tracker returns from at once; the evaluator's filter w*h > 100 and
w/h <= 1.6 inside the timed call) on both datasets (there is no official configuration for MOT15).

The official code is driven as the PROVENANCE.md files of ``tests/fixtures/{ocsort,botsort}``
describe: float32 (x1, y1, x2, y2, score) arrays as YOLOX hands them over, image size equal to the
original (scale 1), the evaluators' output filters inside the timed call (as ours filter in
``update``). Each official BoT-SORT is built with DIR/BoT-SORT as the working directory (its GMC
class opens the file there, one row per update) and is, like ours, updated on every frame, also
on a frame without detections (``tools/track.py`` skips those; only MOT15 KITTI-13 has any).

Shims applied in this process only (the official files are not edited): ``np.float`` and
``np.float_`` (removed in numpy 2) are aliased to ``float`` and ``np.float64``; ``torch``
(imported but unused by ``byte_tracker.py``), ``skimage`` and the plotting modules ``sort.py``
imports for its display mode are stubbed when absent; ``fast_reid`` (BoT-SORT's re-ID encoder,
unused without re-ID) is stubbed; without ``cython_bbox`` its ``bbox_overlaps`` is replaced by
:func:`mot_bench.trackers.common.matching.bbox_ious` (same arithmetic) and the run says so. OC-SORT's folder
is imported as the package ``official_ocsort_tracker`` (its upstream name ``trackers`` is ours).
BoT-SORT's ``new_track_thresh`` is handed over as ``np.float64(0.7)``: the official code ran under
numpy < 1.24, where its ``track.score < 0.7`` (a float32 scalar against a Python float) compares in
float64, as ours does; numpy 2 compares in float32 and would start tracks for scores of exactly
float32(0.7) (194 more output rows on MOT17 half-val), a numpy-version effect, not the tracker's.
ByteTrack's ``det_thresh`` (track_thresh + 0.1, used only in that same new-track comparison) is made
``np.float64`` after construction for the same reason (its ``matching.py`` needs numpy < 1.24 as well).

UCMCTrack (``--trackers ucmctrack``, ``mot17-yolox`` only: it needs each sequence's camera parameters) runs
with its official MOT17 validation settings (ours: the default per-sequence table; the official side reads
``run_mot17_val.bat`` itself) and the GMC files (ours: ``gmc/BoT-SORT/MOT17_ablation``; the official side its
full-sequence ``gmc/mot17``, the same rows). The official code wants ``DIR/UCMCTrack/{tracker,detector}/``
(corfyi/UCMCTrack @ 7851a49, needs filterpy and lap), ``DIR/UCMCTrack/cam_para/MOT17/``,
``DIR/UCMCTrack/gmc/mot17/`` and ``DIR/UCMCTrack/run_mot17_val.bat`` (a checkout of the repository), imported
as ``official_ucmc_tracker``/``official_ucmc_detector`` (``tracker`` is also BoT-SORT's package name). Its
detector maps every row of the detection file to the ground plane when it loads the file
(``Detector.load``, ``Mapper.mapto`` per row); that mapping of the frame's rows is inside its timed call here,
as ours maps inside ``update``, followed by ``get_dets``' threshold, ``UCMCTrack.update`` and
``run_ucmc``'s output loop. It is fed x, y, x2 - x, y2 - y of our boxes (so both sides map the same
numbers) and frame numbers of the sequence (its GMC rows are looked up by frame). Without
``--official-dir`` ours reads the camera files of ``tests/fixtures/ucmctrack/cam_para``.

    python benchmarks/bench_trackers.py [--dataset mot15-frcnn|mot17-yolox|mot20-yolox] [--repeat N]
        [--trackers sort,bytetrack,ocsort,botsort,hybridsort,boosttrack,boosttrackpp,ucmctrack]
        [--official-dir /tmp/official_trackers] [--official-python /path/to/numpy1/python]
        [--blas-threads 1]

OpenBLAS may spin threads for tiny matrix solves; ``--blas-threads 1`` (set before numpy loads)
shows the effect on a busy machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("mot15-frcnn", "mot17-yolox", "mot20-yolox")
TRACKER_NAMES = ("sort", "bytetrack", "ocsort", "botsort", "hybridsort", "tracktrack")
WORKER_TRACKERS = ("hybridsort",)  # official code that runs under numpy < 1.24, in a worker process
MOT17_ONLY = ("ucmctrack",)  # need per-sequence inputs that exist for MOT17 only; named with --trackers
BOOSTTRACK_NAMES = ("boosttrack", "boosttrackpp")  # compared at the written precision (see the docstring)
TRACKER_NAMES = (*TRACKER_NAMES, *BOOSTTRACK_NAMES)
MOT20_TRACKERS = ("sort", "bytetrack", "ocsort", "botsort")  # official MOT20 settings wired (mot20-yolox)
# yolox/evaluators/mot_evaluator.py: per-sequence track_buffer overrides (MOT17 names without the detector).
BYTETRACK_MOT17_BUFFER = {"MOT17-05": 14, "MOT17-06": 14, "MOT17-13": 25, "MOT17-14": 25}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    ap.add_argument("--dataset", choices=DATASETS, default="mot15-frcnn")
    ap.add_argument("--repeat", type=int, default=5, help="passes over the data; medians are reported")
    ap.add_argument("--trackers", default=None,
                    help="default: all but hybridsort (its official code needs --official-python); on mot20-yolox "
                         "the trackers whose MOT20 settings are wired: " + ",".join(MOT20_TRACKERS))
    ap.add_argument("--official-dir", type=Path, default=None, help="folder with the official code (see above)")
    ap.add_argument("--official-python", type=Path, default=None,
                    help="interpreter with numpy < 1.24 for the official Hybrid-SORT (see above)")
    ap.add_argument("--blas-threads", type=int, default=None, help="OPENBLAS/OMP threads (before numpy loads)")
    ap.add_argument("--gmc-dir", type=Path, default=REPO / "tests" / "fixtures" / "mot20",
                    help="mot20-yolox: folder of BoT-SORT's GMC-MOT20-01.txt for ours")
    return ap.parse_args(argv)


# -- the data -----------------------------------------------------------------------------------


def _load(args: argparse.Namespace):
    """[(seq, frame ids, [Detections])] for the dataset, parsed before any clock starts."""
    from mot_bench.data.sequences import find_sequences
    from mot_bench.detectors.public import PublicDetector
    from mot_bench.types import Frame

    if args.dataset == "mot15-frcnn":
        det_dir = args.data / "detections" / "MOT15" / "SORT_FRCNN"
        seqs = find_sequences(args.data, "MOT15", "train")
    elif args.dataset == "mot20-yolox":
        det_dir = args.data / "detections" / "MOT20" / "YOLOX_X_UCMCTrack"
        seqs = find_sequences(args.data, "MOT20", "train")
    else:
        det_dir = args.data / "detections" / "MOT17" / "YOLOX_X_ablation"
        seqs = find_sequences(args.data, "MOT17", "train")
    if not det_dir.is_dir():
        raise SystemExit(f"error: {det_dir} not found (pass --data)")
    det = PublicDetector(det_dir=str(det_dir))
    seqs = [s for s in seqs if det.det_file(s).is_file()]
    out = []
    for seq in seqs:
        det.reset(seq)
        if args.dataset in ("mot15-frcnn", "mot20-yolox"):
            fids = list(seq.frame_ids)
        else:
            fids = list(range(seq.num_frames // 2 + 2, seq.num_frames + 1))
        out.append((seq, fids, [det(Frame(seq, f)) for f in fids]))
    return out


def _seq_base(name: str) -> str:
    return "-".join(name.split("-")[:2])


def _at_least(thresh: float):
    """Rows whose score, in float32 as the detector's tensor holds it, is >= thresh (float32 too)."""
    import numpy as np

    return lambda d: d.scores.astype(np.float32) >= np.float32(thresh)


def _ours(name: str, args: argparse.Namespace, seq):
    """Our tracker for one sequence, with the dataset's options, and the detections it is fed
    (a row mask, applied to the official side's input as well)."""
    from mot_bench.registry import TRACKERS

    dataset = args.dataset
    if dataset == "mot20-yolox":  # the official MOT20 settings: each tracker's mot20 preset (module docstring)
        mot20 = {"sort": ({}, lambda d: d.scores > 0.6), "bytetrack": ({"preset": "mot20"}, None),
                 "ocsort": ({"preset": "mot20"}, _at_least(0.1)),
                 "botsort": ({"preset": "mot20", "cmc_method": "file", "gmc_dir": str(args.gmc_dir)}, _at_least(0.09))}
        options, select = mot20.get(name, ({}, None))
        return TRACKERS.create(name, options), select
    if name == "sort":
        tracker = TRACKERS.create("sort")
        select = None if dataset == "mot15-frcnn" else (lambda d: d.scores > 0.6)
        return tracker, select
    if name == "bytetrack":
        if dataset == "mot15-frcnn":
            return TRACKERS.create("bytetrack", {"preset": "demo"}), None  # tools/demo_track.py defaults
        opts = {
            "track_thresh": 0.6,
            "match_thresh": 0.9,
            "track_buffer": BYTETRACK_MOT17_BUFFER.get(_seq_base(seq.name), 30),
            "min_box_area": 100.0,
            "frame_rate": 30.0,
        }
        return TRACKERS.create("bytetrack", opts), None
    if name == "ocsort":  # our defaults are evaluate_ocsort's options; YOLOX's test_conf 0.1
        return TRACKERS.create("ocsort"), _at_least(0.1)
    if name == "ucmctrack":  # our defaults are run_mot17_val.bat's per-sequence table, with --cmc
        cams = (args.official_dir / "UCMCTrack" / "cam_para" / "MOT17" if args.official_dir is not None
                else REPO / "tests" / "fixtures" / "ucmctrack" / "cam_para")
        return TRACKERS.create("ucmctrack", {"cam_dir": str(cams), "gmc_dir": str(args.data / "gmc" / "BoT-SORT" /
                                                                                   "MOT17_ablation")}), None
    if name == "botsort":  # our defaults are tools/track.py's; its detector confidence 0.09
        if dataset == "mot15-frcnn":
            opts = {"cmc_method": "none"}
        else:
            opts = {"cmc_method": "file", "gmc_dir": str(args.data / "gmc" / "BoT-SORT" / "MOT17_ablation")}
        return TRACKERS.create("botsort", opts), _at_least(0.09)
    if name in BOOSTTRACK_NAMES:
        return _ours_boosttrack(name, args), _at_least(0.1)
    if name == "hybridsort":  # our defaults are the MOT17-val exp's; YOLOX's test_conf 0.1
        return TRACKERS.create("hybridsort"), _at_least(0.1)
    if name == "tracktrack":  # our defaults are run.py's MOT17 ones; its detector confidence 0.1
        opts = {"cmc_method": "none"} if dataset == "mot15-frcnn" else {"gmc_dir": str(_tracktrack_gmc(args))}
        return TRACKERS.create("tracktrack", opts), _at_least(0.1)
    return TRACKERS.create(name), None


def _tracktrack_gmc(args: argparse.Namespace) -> Path:
    """TrackTrack's own GMC files (DIR/TrackTrack/3. Tracker/trackers/cmc) when the official code is given, else
    BoT-SORT's half-val files under --data (the same for 02/10/11/13; other estimates for 04/05/09)."""
    if args.official_dir is not None:
        return args.official_dir / "TrackTrack" / "3. Tracker" / "trackers" / "cmc"
    return args.data / "gmc" / "BoT-SORT" / "MOT17_ablation"


# -- the official code ----------------------------------------------------------------------------


def _import_official(official_dir: Path, names: list[str]) -> tuple[dict[str, types.ModuleType], list[str]]:
    """Import the official modules of ``names`` (``sort``, ``yolox.tracker.byte_tracker``,
    OC-SORT's ``ocsort``, BoT-SORT's ``tracker.bot_sort``) with the shims listed above."""
    import numpy as np

    notes = []
    if not hasattr(np, "float"):
        np.float = float  # numpy >= 1.24 removed the alias the official code uses
        notes.append("np.float aliased to float")
    if {"botsort", "tracktrack"} & set(names) and not hasattr(np, "float_"):
        np.float_ = np.float64  # numpy 2 removed it; BoT-SORT's gmc.py builds its warp with it
        notes.append("np.float_ aliased to np.float64")
    for mod in ("torch", "torch.nn", "torch.nn.functional", "skimage", "skimage.io"):
        try:
            importlib.import_module(mod)
        except ImportError:
            sys.modules[mod] = types.ModuleType(mod)
            notes.append(f"{mod} stubbed (unused on the timed path)")
    if "skimage" in sys.modules and not hasattr(sys.modules["skimage"], "io"):
        sys.modules["skimage"].io = sys.modules.get("skimage.io", types.ModuleType("skimage.io"))
    try:
        import matplotlib

        matplotlib.use("Agg")  # sort.py selects TkAgg for its display mode; pyplot is never used here
        matplotlib.use = lambda *a, **k: None
    except ImportError:
        for mod in ("matplotlib", "matplotlib.pyplot", "matplotlib.patches"):
            sys.modules[mod] = types.ModuleType(mod)
        sys.modules["matplotlib"].use = lambda *a, **k: None
        notes.append("matplotlib stubbed")
    try:
        import cython_bbox  # noqa: F401
    except ImportError:
        from mot_bench.trackers.common.matching import bbox_ious

        sys.modules["cython_bbox"] = types.SimpleNamespace(bbox_overlaps=bbox_ious)
        notes.append("cython_bbox missing: bbox_overlaps = mot_bench.trackers.common.matching.bbox_ious")
    sys.path.insert(0, str(official_dir))
    mods: dict[str, types.ModuleType] = {}
    where = {}
    if "sort" in names:
        mods["sort"] = importlib.import_module("sort")
        where["sort"] = (official_dir, "sort.py")
    if "bytetrack" in names:
        mods["bytetrack"] = importlib.import_module("yolox.tracker.byte_tracker")
        where["bytetrack"] = (official_dir, "yolox/tracker/byte_tracker.py")
    if "ocsort" in names:
        # upstream's package is ``trackers.ocsort_tracker``; ``trackers`` is this project's package, so the
        # folder is imported under another name (its relative imports resolve inside it)
        folder = official_dir / "OC_SORT" / "trackers" / "ocsort_tracker"
        pkg = types.ModuleType("official_ocsort_tracker")
        pkg.__path__ = [str(folder)]
        sys.modules[pkg.__name__] = pkg
        mods["ocsort"] = importlib.import_module("official_ocsort_tracker.ocsort")
        where["ocsort"] = (folder, "OC_SORT/trackers/ocsort_tracker/ocsort.py")
    if "botsort" in names:
        reid = types.ModuleType("fast_reid.fast_reid_interfece")
        reid.FastReIDInterface = None  # only built with --with-reid
        sys.modules.setdefault("fast_reid", types.ModuleType("fast_reid"))
        sys.modules["fast_reid.fast_reid_interfece"] = reid
        notes.append("fast_reid stubbed (re-ID off)")
        notes.append("BoT-SORT new_track_thresh passed as np.float64(0.7): numpy < 1.24's float64 comparison")
        sys.path.insert(0, str(official_dir / "BoT-SORT"))
        mods["botsort"] = importlib.import_module("tracker.bot_sort")
        where["botsort"] = (official_dir / "BoT-SORT", "BoT-SORT/tracker/bot_sort.py")
    if "tracktrack" in names:
        # its modules import each other as ``trackers.*`` (a folder without __init__.py); another installed
        # ``trackers`` (roboflow's) would win, so the name points at the official folder while they load
        folder = official_dir / "TrackTrack" / "3. Tracker" / "trackers"
        saved = {k: v for k, v in sys.modules.items() if k == "trackers" or k.startswith("trackers.")}
        for k in saved:
            del sys.modules[k]
        pkg = types.ModuleType("trackers")
        pkg.__path__ = [str(folder)]
        sys.modules["trackers"] = pkg
        try:
            mods["tracktrack"] = importlib.import_module("trackers.tracker")
        finally:
            for k in [k for k in sys.modules if k == "trackers" or k.startswith("trackers.")]:
                sys.modules[f"official_tracktrack{k[len('trackers'):]}"] = sys.modules.pop(k)
            sys.modules.update(saved)
        where["tracktrack"] = (folder, "TrackTrack/3. Tracker/trackers/tracker.py")
        notes.append("TrackTrack det_thr passed as np.float64(0.6): numpy < 1.24's float64 comparison")
    if "ucmctrack" in names:
        # upstream's packages are ``tracker`` (also BoT-SORT's) and ``detector``: imported under other names
        for alias, folder in (("official_ucmc_tracker", "tracker"), ("official_ucmc_detector", "detector")):
            pkg = types.ModuleType(alias)
            pkg.__path__ = [str(official_dir / "UCMCTrack" / folder)]
            sys.modules[alias] = pkg
        mods["ucmctrack"] = importlib.import_module("official_ucmc_tracker.ucmc")
        mods["ucmctrack"].kalman = importlib.import_module("official_ucmc_tracker.kalman")
        mods["ucmctrack"].detector = importlib.import_module("official_ucmc_detector.detector")
        where["ucmctrack"] = (official_dir / "UCMCTrack", "UCMCTrack/tracker/ucmc.py")
    if any(n in BOOSTTRACK_NAMES for n in names):
        mods["boosttrack"] = _import_official_boosttrack(official_dir)
        where["boosttrack"] = (official_dir / "BoostTrack", "BoostTrack/tracker/boost_track.py")
        notes.append("torchreid and BoostTrack's FastReID adaptor stubbed (re-ID off)")
    for name, mod in mods.items():
        root, rel = where[name]
        if not Path(mod.__file__).resolve().is_relative_to(root.resolve()):
            raise SystemExit(f"error: {rel} not imported from {official_dir} (got {mod.__file__})")
    return mods, notes


class _Official:
    """Drives one official tracker: ``prepare`` (untimed) turns our Detections into its input,
    ``reset`` starts a sequence, ``update`` is the timed call, ``rows`` the comparable output."""


class _OfficialSort(_Official):
    """abewley/sort's ``Sort`` fed [x1, y1, x2, y2, score] float64 rows, as its own main loop does."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def prepare(self, dets) -> object:
        import numpy as np

        return np.concatenate([dets.tlbr.astype(np.float64), dets.scores.astype(np.float64)[:, None]], axis=1)

    def reset(self, seq) -> None:
        self.module.KalmanBoxTracker.count = 0  # its main never resets it; ours numbers from 1 per sequence
        self.tracker = self.module.Sort(max_age=1, min_hits=3, iou_threshold=0.3)

    def update(self, arr):
        return self.tracker.update(arr)

    @staticmethod
    def rows(out) -> list[tuple]:
        return [(int(r[4]), r[:4].tobytes(), None) for r in out]


class _OfficialByteTrack(_Official):
    """ifzhang/ByteTrack's ``BYTETracker`` fed (N, 5) float32 [x1, y1, x2, y2, score] at scale 1,
    followed by its evaluator's output filter (part of the timed call, as ours filters in ``update``)."""

    def __init__(self, module: types.ModuleType, dataset: str) -> None:
        self.module = module
        self.dataset = dataset

    def prepare(self, dets) -> object:
        import numpy as np

        return np.concatenate([dets.tlbr, dets.scores[:, None]], axis=1).astype(np.float32)

    def reset(self, seq) -> None:
        import numpy as np

        if self.dataset == "mot15-frcnn":  # tools/demo_track.py defaults, the sequence's frame rate
            opts = dict(track_thresh=0.5, match_thresh=0.8, track_buffer=30, mot20=False, min_box_area=10)
            fps = seq.fps
        elif self.dataset == "mot20-yolox":  # tools/track.py --match_thresh 0.7 --mot20, BYTETracker(args) at 30 fps
            opts = dict(track_thresh=0.6, match_thresh=0.7, track_buffer=30, mot20=True, min_box_area=100)
            fps = 30
        else:  # tools/track.py, with mot_evaluator.py's per-sequence buffer
            buf = BYTETRACK_MOT17_BUFFER.get(_seq_base(seq.name), 30)
            opts = dict(track_thresh=0.6, match_thresh=0.9, track_buffer=buf, mot20=False, min_box_area=100)
            fps = 30
        self.module.BaseTrack._count = 0
        self.args = types.SimpleNamespace(**opts)
        self.tracker = self.module.BYTETracker(self.args, frame_rate=fps)
        # numpy < 1.24's comparison of the float32 score with det_thresh (module docstring)
        self.tracker.det_thresh = np.float64(self.tracker.det_thresh)
        self.info = (seq.height, seq.width)

    def update(self, arr):
        online = self.tracker.update(arr, self.info, self.info)
        out = []
        for t in online:
            tlwh = t.tlwh
            vertical = tlwh[2] / tlwh[3] > 1.6
            if tlwh[2] * tlwh[3] > self.args.min_box_area and not vertical:
                out.append((tlwh, t.track_id, t.score))
        return out

    @staticmethod
    def rows(out) -> list[tuple]:
        rows = []
        for tlwh, tid, score in out:
            tlbr = tlwh.copy()
            tlbr[2:] += tlbr[:2]  # the official ``tlbr`` property
            rows.append((int(tid), tlbr.tobytes(), float(score)))
        return rows


class _OfficialOCSort(_Official):
    """noahcao/OC_SORT's ``OCSort`` as ``evaluate_ocsort`` drives it: (N, 5) float32 rows (YOLOX's
    objectness x class confidence 1.0 is the file score), img_info = img_size (scale 1), frames without
    rows skipped, then the evaluator's filter (w*h > 100, not w/h > 1.6)."""

    def __init__(self, module: types.ModuleType, dataset: str = "mot17-yolox") -> None:
        self.module = module
        self.det_thresh = 0.4 if dataset == "mot20-yolox" else 0.6  # MOT20: --track_thresh 0.4

    def prepare(self, dets) -> object:
        import numpy as np

        return np.concatenate([dets.tlbr, dets.scores[:, None]], axis=1).astype(np.float32)

    def reset(self, seq) -> None:
        # utils/args.py defaults; the constructor resets KalmanBoxTracker.count
        self.tracker = self.module.OCSort(det_thresh=self.det_thresh, iou_threshold=0.3, asso_func="iou", delta_t=3,
                                          inertia=0.2)
        self.info = (seq.height, seq.width)

    def update(self, arr):
        if len(arr) == 0:  # the evaluator: ``if outputs[0] is not None``
            return []
        out = []
        for t in self.tracker.update(arr, self.info, self.info):
            tlwh = [t[0], t[1], t[2] - t[0], t[3] - t[1]]
            vertical = tlwh[2] / tlwh[3] > 1.6
            if tlwh[2] * tlwh[3] > 100 and not vertical:
                out.append(t)
        return out

    @staticmethod
    def rows(out) -> list[tuple]:
        return [(int(r[4]), r[:4].tobytes(), None) for r in out]


class _OfficialBoTSORT(_Official):
    """NirAharon/BoT-SORT's ``BoTSORT`` (no re-ID) as ``tools/track.py`` drives it: (N, 5) float32 rows,
    frame rate 30, its ``--eval val`` defaults, then its filter (w*h > 10, not w/h > 1.6). Called on every
    frame, an empty one included (see the module docstring)."""

    def __init__(self, module: types.ModuleType, dataset: str, root: Path) -> None:
        self.module = module
        self.cmc = "none" if dataset == "mot15-frcnn" else "file"
        # MOT20: tools/track.py sets mot20 for MOT20 sequences, --default-parameters match_thresh 0.7; the train
        # split is not the ablation, so gmc.py opens GMC_files/MOTChallenge/GMC-<seq>.txt (full sequence)
        self.mot20 = dataset == "mot20-yolox"
        self.root = root
        self.tracker = None

    def prepare(self, dets) -> object:
        import numpy as np

        return np.concatenate([dets.tlbr, dets.scores[:, None]], axis=1).astype(np.float32)

    def reset(self, seq) -> None:
        import numpy as np

        if self.tracker is not None and hasattr(self.tracker.gmc, "gmcFile"):
            self.tracker.gmc.gmcFile.close()
        # new_track_thresh as np.float64: the official code ran under numpy < 1.24 (it needs ``np.float``),
        # where ``track.score < 0.7`` (a float32 scalar) compares in float64; numpy 2 compares in float32, so
        # a score of float32(0.7) would start a track. Its only use is that comparison (bot_sort.py:407).
        self.args = types.SimpleNamespace(
            track_high_thresh=0.6, track_low_thresh=0.1, new_track_thresh=np.float64(0.7), track_buffer=30,
            match_thresh=0.7 if self.mot20 else 0.8,
            proximity_thresh=0.5, appearance_thresh=0.25, aspect_ratio_thresh=1.6, min_box_area=10,
            cmc_method=self.cmc, with_reid=False, mot20=self.mot20, ablation=not self.mot20, name=seq.name)
        cwd = os.getcwd()
        os.chdir(self.root)  # gmc.py opens tracker/GMC_files/MOT17_ablation/GMC-<seq>.txt from here
        try:
            self.tracker = self.module.BoTSORT(self.args, frame_rate=30)  # resets BaseTrack._count
        finally:
            os.chdir(cwd)

    def update(self, arr):
        out = []
        for t in self.tracker.update(arr, None):
            tlwh = t.tlwh
            vertical = tlwh[2] / tlwh[3] > self.args.aspect_ratio_thresh
            if tlwh[2] * tlwh[3] > self.args.min_box_area and not vertical:
                out.append((tlwh, t.track_id, t.score))
        return out

    rows = staticmethod(_OfficialByteTrack.rows)


class _OfficialUCMCTrack(_Official):
    """corfyi/UCMCTrack's ``UCMCTrack`` as ``util/run_ucmc.py`` drives it for ``run_mot17_val.bat``: the
    frame's rows mapped to the ground (``Mapper.mapto``, what ``Detector.load`` does per row), ``get_dets``'
    class and ``conf_thresh`` filter, ``update(dets, frame_id)`` with cmc from the GMC file, then the
    confirmed tracks matched in the frame (the writer without ``--hp``)."""

    def __init__(self, module: types.ModuleType, root: Path) -> None:
        import shlex

        self.module = module
        self.root = root
        self.settings = {}
        for line in (root / "run_mot17_val.bat").read_text(encoding="utf-8").splitlines():
            words = shlex.split(line)
            if "--seq" in words:
                self.settings[words[words.index("--seq") + 1]] = words[2:]

    def prepare(self, dets) -> object:
        det_mod = self.module.detector
        out = []
        for i, (box, score) in enumerate(zip(dets.tlbr.tolist(), dets.scores.tolist(), strict=True)):
            d = det_mod.Detection(i, box[0], box[1], box[2] - box[0], box[3] - box[1], score, 0)
            out.append(d)
        return (dets.tlbr, out)

    def reset(self, seq) -> None:
        import argparse

        base = _seq_base(seq.name)
        ap = argparse.ArgumentParser()  # run_ucmc.make_args' options and defaults, for the batch file's line
        for flag, default in (("--seq", ""), ("--fps", 30.0), ("--wx", 0.1), ("--wy", 0.1), ("--vmax", 0.5),
                              ("--a", 10.0), ("--cdt", 30.0), ("--high_score", 0.6), ("--conf_thresh", 0.5)):
            ap.add_argument(flag, type=type(default), default=default)
        ap.add_argument("--cmc", action="store_true")
        ap.add_argument("--hp", action="store_true")
        self.args = ap.parse_args(self.settings[base])
        det_mod = self.module.detector
        holder = det_mod.Detector()
        holder.mapper = det_mod.Mapper(str(self.root / "cam_para" / "MOT17" / f"{seq.name}.txt"), "MOT17")
        holder.gmc = det_mod.GMCLoader(str(self.root / "gmc" / "mot17" / f"GMC-{base}.txt"))
        self.mapper = holder.mapper
        self.module.kalman.KalmanTracker.count = 1  # a fresh python per sequence in the batch file
        a = self.args
        self.tracker = self.module.UCMCTrack(a.a, a.a, a.wx, a.wy, a.vmax, a.cdt, a.fps, "MOT17", a.high_score,
                                             a.cmc, holder)
        self.frame_id = seq.num_frames // 2 + 1  # the mot17-yolox frames start at N//2+2

    def update(self, prepared):
        tlbr, dets = prepared
        self.frame_id += 1
        for d in dets:  # Detector.load maps every row of the file
            d.y, d.R = self.mapper.mapto([d.bb_left, d.bb_top, d.bb_width, d.bb_height])
        dets = [d for d in dets if d.det_class == 0 and d.conf >= self.args.conf_thresh]  # get_dets
        self.tracker.update(dets, self.frame_id)
        out = []
        for i in self.tracker.confirmed_idx:
            t = self.tracker.trackers[i]
            if t.detidx < 0 or t.detidx >= len(dets):
                continue
            d = dets[t.detidx]
            out.append((t.id, tlbr[d.id], d.conf))
        return out

    @staticmethod
    def rows(out) -> list[tuple]:
        import numpy as np

        return [(int(tid), np.asarray(box, np.float64).tobytes(), float(score)) for tid, box, score in out]


# -- BoostTrack (its own section: the official code's ``tracker`` package shares BoT-SORT's name) -----------


def _ours_boosttrack(name: str, args: argparse.Namespace):
    from mot_bench.registry import TRACKERS

    opts: dict = {"with_reid": False}
    if args.dataset == "mot15-frcnn":
        opts["cmc_method"] = "none"
    else:
        opts.update(cmc_method="file", gmc_dir=str(args.data / "gmc" / "BoT-SORT" / "MOT17_ablation"))
    return TRACKERS.create(name, opts)


def _import_official_boosttrack(official_dir: Path) -> types.ModuleType:
    """BoostTrack's ``tracker.boost_track``, imported while ``tracker`` names its own folder; the modules are
    then kept as ``official_boosttrack.*`` and any other ``tracker`` package (BoT-SORT's) put back."""
    root = official_dir / "BoostTrack"
    for mod in ("torchreid", "external", "external.adaptors", "external.adaptors.fastreid_adaptor"):
        if mod not in sys.modules:
            stub = types.ModuleType(mod)
            stub.__path__ = []
            sys.modules[mod] = stub
    sys.modules["external.adaptors.fastreid_adaptor"].FastReID = None
    saved = {k: v for k, v in sys.modules.items() if k == "tracker" or k.startswith("tracker.")}
    for k in saved:
        del sys.modules[k]
    pkg = types.ModuleType("tracker")
    pkg.__path__ = [str(root / "tracker")]
    sys.modules["tracker"] = pkg
    sys.path.insert(0, str(root))  # default_settings.py
    try:
        module = importlib.import_module("tracker.boost_track")
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if k == "tracker" or k.startswith("tracker.")]:
            sys.modules["official_boosttrack" + k[len("tracker"):]] = sys.modules.pop(k)
        sys.modules.update(saved)
    return module


class _OfficialBoostTrack(_Official):
    """vukasin-stanojevic/BoostTrack's ``BoostTrack`` as ``main.py`` drives it: (N, 5) float32 rows, an input
    shape equal to the image's (scale 1), frames without rows skipped, then ``utils.filter_targets`` (w*h > 10,
    not w/h > 1.6). Camera motion from its ECC cache, holding BoT-SORT's GMC warps (mot17-yolox)."""

    def __init__(self, module: types.ModuleType, name: str, dataset: str, data: Path) -> None:
        import tempfile

        self.module = module
        self.plus_plus = name == "boosttrackpp"
        self.dataset = dataset
        self.data = data
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-boosttrack-"))  # ./cache of the official ECC

    def prepare(self, dets) -> object:
        import numpy as np

        return np.concatenate([dets.tlbr, dets.scores[:, None]], axis=1).astype(np.float32)

    def _settings(self) -> None:
        import default_settings as ds  # the module boost_track.py imported

        ds.GeneralSettings.values.update(dataset="mot17", use_embedding=False, use_ecc=self.dataset != "mot15-frcnn",
                                         test_dataset=False)
        ds.BoostTrackSettings.values["s_sim_corr"] = False
        for key in ("use_rich_s", "use_sb", "use_vt"):
            ds.BoostTrackPlusPlusSettings.values[key] = self.plus_plus

    def reset(self, seq) -> None:
        import json

        import numpy as np

        from mot_bench.trackers.common import cmc

        self._settings()
        video = seq.name.replace("-SDP", "-FRCNN") if seq.name.startswith("MOT17-") else seq.name
        if self.dataset != "mot15-frcnn":  # BoT-SORT's warps in the official ECC cache, k-th half-val frame
            warps = cmc.file_warps(self.data / "gmc" / "BoT-SORT" / "MOT17_ablation", seq)
            first = seq.length // 2 + 2
            cache = {f"{video}:{k}-{k}": np.vstack([warps[first + k - 1], [[0, 0, 1.0]]]).tolist()
                     for k in range(2, seq.length - first + 2)}
            (self.workdir / "cache").mkdir(exist_ok=True)
            (self.workdir / "cache" / f"{video}.json").write_text(json.dumps(cache))
        self.module.KalmanBoxTracker.count = 0
        cwd = os.getcwd()
        os.chdir(self.workdir)
        try:
            self.tracker = self.module.BoostTrack(video_name=video)
        finally:
            os.chdir(cwd)
        self.video = video
        self.k = 0
        self.image = np.zeros((seq.height, seq.width, 3), np.uint8)
        self.shape = types.SimpleNamespace(shape=(1, 3, seq.height, seq.width))

    def update(self, arr):
        if len(arr) == 0:  # main.py: pred is None -> the frame is skipped
            return []
        self.k += 1
        out = []
        for t in self.tracker.update(arr, self.shape, self.image, f"{self.video}:{self.k}"):
            tlwh = [t[0], t[1], t[2] - t[0], t[3] - t[1]]
            if tlwh[2] * tlwh[3] > 10 and not tlwh[2] / tlwh[3] > 1.6:
                out.append(t)
        return out

    @staticmethod
    def rows(out) -> list[tuple]:
        return [(int(r[4]), tuple(round(float(v), 1) for v in (r[0], r[1], r[2] - r[0], r[3] - r[1])),
                 round(float(r[5]), 2)) for r in out]


class _WorkerOfficial(_Official):
    """An official tracker running in the ``--official-python`` worker process (see the module docstring):
    ``prepare`` builds its input arrays here, ``run`` has the worker time one whole sequence."""

    def __init__(self, worker: _Worker, name: str) -> None:
        self.worker = worker
        self.name = name

    def prepare(self, dets) -> object:
        import numpy as np

        arr = np.concatenate([dets.tlbr, dets.scores[:, None]], axis=1).astype(np.float32)
        return arr if len(arr) else None  # the evaluator hands the tracker None when YOLOX kept nothing

    def run(self, seq, inputs: list, keep_outputs: bool) -> tuple[float, list | None]:
        return self.worker.run(self.name, seq, inputs, keep_outputs)

    @staticmethod
    def rows(out) -> list[tuple]:
        return out  # the worker sends comparable rows


class _Worker:
    """The ``--official-python`` process: sequences' inputs are sent once (untimed), runs on request."""

    def __init__(self, python: Path, official_dir: Path) -> None:
        import subprocess

        self.proc = subprocess.Popen([str(python), str(Path(__file__).resolve()), "--hybridsort-worker",
                                      str(official_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.sent: set[tuple[str, str]] = set()
        self.numpy = self._call(("version",))

    def _call(self, msg: tuple):
        import pickle

        pickle.dump(msg, self.proc.stdin)
        self.proc.stdin.flush()
        try:
            return pickle.load(self.proc.stdout)
        except EOFError:
            raise SystemExit(f"error: the official worker ({self.proc.args[0]}) stopped (see above)") from None

    def run(self, name: str, seq, inputs: list, keep_outputs: bool) -> tuple[float, list | None]:
        if (name, seq.name) not in self.sent:
            # raw float32 bytes: a numpy 2 pickle does not load under numpy 1
            raw = [None if a is None else (a.shape, a.tobytes()) for a in inputs]
            self._call(("load", name, seq.name, (seq.height, seq.width), raw))
            self.sent.add((name, seq.name))
        return self._call(("run", name, seq.name, keep_outputs))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def _hybridsort_worker(official_dir: str) -> None:
    """The worker's loop (run by the numpy < 1.24 interpreter): imports the official Hybrid-SORT under another
    package name (upstream's is ``trackers``), builds it per sequence as ``evaluate_hybrid_sort`` does with the
    MOT17-val exp's arguments, and times its update calls plus the evaluator's filter."""
    import pickle
    import time

    import numpy as np

    folder = Path(official_dir) / "HybridSORT" / "trackers" / "hybrid_sort_tracker"
    pkg = types.ModuleType("official_hybrid_sort_tracker")
    pkg.__path__ = [str(folder)]
    sys.modules[pkg.__name__] = pkg
    module = importlib.import_module("official_hybrid_sort_tracker.hybrid_sort")
    if not Path(module.__file__).resolve().is_relative_to(folder.resolve()):
        raise SystemExit(f"error: hybrid_sort.py not imported from {folder}")
    args = types.SimpleNamespace(track_thresh=0.6, TCM_first_step=True, TCM_byte_step=True,
                                 TCM_first_step_weight=1.0, TCM_byte_step_weight=1.0)
    inputs: dict[tuple[str, str], tuple] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            msg = pickle.load(stdin)
        except EOFError:
            return
        reply: object = None
        if msg[0] == "version":
            reply = np.__version__
        elif msg[0] == "load":
            arrays = [None if a is None else np.frombuffer(a[1], dtype=np.float32).reshape(a[0]).copy()
                      for a in msg[4]]
            inputs[(msg[1], msg[2])] = (msg[3], arrays)
        elif msg[0] == "run":
            info, arrays = inputs[(msg[1], msg[2])]
            keep = msg[3]
            tracker = module.Hybrid_Sort(args, det_thresh=0.6, iou_threshold=0.25, asso_func="Height_Modulated_IoU",
                                         delta_t=3, inertia=0.05, use_byte=True)
            total, outputs = 0.0, []
            for arr in arrays:
                t0 = time.perf_counter()
                kept = []
                for t in tracker.update(arr, info, info):
                    tlwh = [t[0], t[1], t[2] - t[0], t[3] - t[1]]
                    if tlwh[2] * tlwh[3] > 100 and not tlwh[2] / tlwh[3] > 1.6:
                        kept.append(t)
                total += time.perf_counter() - t0
                if keep:
                    outputs.append([(int(r[4]), r[:4].tobytes(), None) for r in kept])
            reply = (total, outputs if keep else None)
        pickle.dump(reply, stdout)
        stdout.flush()


class _OfficialTrackTrack(_Official):
    """kamkyu94/TrackTrack's ``Tracker`` as ``run.py``'s ``track()`` drives it on MOT17 val: (N, 6) float32 rows
    (x1, y1, x2, y2, score, class 0) given as both detection sets (no looser-NMS run here, so no deleted
    detections), ``update_without_detections`` on a frame without rows, then its filter (not w/h > 1.6 on MOT,
    w*h > 100). Its GMC file is read one row per frame from the first timed frame: a full-sequence file is
    handed over from the row of that frame (a copy in memory, the official file untouched); MOT15 has no GMC
    files, so it reads identity rows."""

    def __init__(self, module: types.ModuleType, dataset: str, gmc_dir: Path) -> None:
        self.module = module
        self.dataset = dataset
        self.gmc_dir = gmc_dir

    def prepare(self, dets) -> object:
        import numpy as np

        if not len(dets):
            return None
        return np.concatenate([dets.tlbr, dets.scores[:, None], np.zeros((len(dets), 1))], axis=1).astype(np.float32)

    def reset(self, seq) -> None:
        import io

        import numpy as np

        self.args = types.SimpleNamespace(
            min_len=3, min_box_area=100.0, max_time_lost=int(seq.fps) * 2, penalty_p=0.20, penalty_q=0.40,
            reduce_step=0.05, tai_thr=0.55, det_thr=np.float64(0.6), init_thr=0.7, match_thr=0.7,
            data_path="MOT/")  # run.py filters w/h > 1.6 on MOT data (and ours by default)
        if self.dataset == "mot17-yolox":
            path = self.gmc_dir / f"GMC-{_seq_base(seq.name)}.txt"
            lines = path.read_text().splitlines(keepends=True)
            first = len(lines) - (seq.num_frames - seq.num_frames // 2 - 1)  # the first timed frame's row
            text = "".join(lines[first:])
        else:
            text = "0\t1\t0\t0\t0\t1\t0\t\n" * (seq.num_frames + 1)
        cmc_class = self.module.CMC
        reader = cmc_class.__new__(cmc_class)  # its __init__ opens ./trackers/cmc/GMC-<seq>.txt
        reader.gmcFile = io.StringIO(text)
        self.module.CMC = lambda vid_name: reader
        try:
            self.tracker = self.module.Tracker(self.args, seq.name)
        finally:
            self.module.CMC = cmc_class

    def update(self, arr):
        tracks = self.tracker.update(arr, arr) if arr is not None else self.tracker.update_without_detections()
        out = []
        for t in tracks:
            x1, y1, w, h = t.x1y1wh
            if self.args.data_path and w / h > 1.6:
                continue
            if w * h > self.args.min_box_area:
                out.append((t.x1y1x2y2, t.track_id, t.score))
        return out

    @staticmethod
    def rows(out) -> list[tuple]:
        import numpy as np

        return [(int(i), np.asarray(b, np.float64).tobytes(), float(s)) for b, i, s in out]


def _our_rows(name: str, tracks) -> list[tuple]:
    import numpy as np

    if name in BOOSTTRACK_NAMES:  # the official writer's precision
        return [(int(i), tuple(round(float(v), 1) for v in (b[0], b[1], b[2] - b[0], b[3] - b[1])),
                 round(float(s), 2)) for b, i, s in zip(tracks.tlbr, tracks.ids, tracks.scores, strict=True)]
    if name in ("sort", "ocsort", "hybridsort"):  # SORT reports confidence 1; the others' evaluators write no score
        return [(int(i), np.asarray(b, np.float64).tobytes(), None)
                for b, i in zip(tracks.tlbr, tracks.ids, strict=True)]
    return [(int(i), np.asarray(b, np.float64).tobytes(), float(s))
            for b, i, s in zip(tracks.tlbr, tracks.ids, tracks.scores, strict=True)]


# -- the timing loop ------------------------------------------------------------------------------


def _time_sequence(tracker, seq, inputs, keep_outputs: bool):
    """Total seconds of the update calls over one sequence (and the outputs, if asked)."""
    import time

    from mot_bench.types import Frame

    if isinstance(tracker, _WorkerOfficial):
        return tracker.run(seq, inputs, keep_outputs)
    tracker.reset(seq)
    outputs = [] if keep_outputs else None
    total = 0.0
    if isinstance(tracker, _Official):
        for arr in inputs:
            t0 = time.perf_counter()
            out = tracker.update(arr)
            total += time.perf_counter() - t0
            if keep_outputs:
                outputs.append(out)
    else:
        for fid, dets in inputs:
            frame = Frame(seq, fid)
            t0 = time.perf_counter()
            out = tracker.update(dets, frame)
            total += time.perf_counter() - t0
            if keep_outputs:
                outputs.append(out)
    return total, outputs


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.blas_threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    sys.path.insert(0, str(REPO))

    from mot_bench.timing import hardware_stamp

    data = _load(args)
    if args.trackers is None:
        args.trackers = ",".join(MOT20_TRACKERS if args.dataset == "mot20-yolox" else
                                 (n for n in TRACKER_NAMES if n not in WORKER_TRACKERS))
    names = [n for n in args.trackers.split(",") if n]
    if args.dataset == "mot20-yolox" and any(n not in MOT20_TRACKERS for n in names):
        raise SystemExit(f"error: no MOT20 setting wired for {', '.join(n for n in names if n not in MOT20_TRACKERS)}"
                         f" on --dataset mot20-yolox (wired: {', '.join(MOT20_TRACKERS)})")
    official_mods = None
    worker = None
    notes: list[str] = []
    if args.dataset != "mot17-yolox" and any(n in MOT17_ONLY for n in names):
        raise SystemExit(f"error: {', '.join(n for n in names if n in MOT17_ONLY)} run on --dataset mot17-yolox only")
    if args.official_dir is not None:
        for name in names:
            if name not in TRACKER_NAMES + MOT17_ONLY:
                raise SystemExit(f"error: no official implementation wired for {name!r}")
        in_process = [n for n in names if n not in WORKER_TRACKERS]
        mods, notes = _import_official(args.official_dir, in_process) if in_process else ({}, [])
        if any(n in WORKER_TRACKERS for n in names):
            if args.official_python is None:
                raise SystemExit("error: the official Hybrid-SORT needs --official-python (numpy < 1.24)")
            worker = _Worker(args.official_python, args.official_dir)
            notes.append(f"official Hybrid-SORT in a worker process: {args.official_python}, numpy {worker.numpy}")
        makers = {"hybridsort": lambda: _WorkerOfficial(worker, "hybridsort"),
                  "sort": lambda: _OfficialSort(mods["sort"]),
                  "bytetrack": lambda: _OfficialByteTrack(mods["bytetrack"], args.dataset),
                  "ocsort": lambda: _OfficialOCSort(mods["ocsort"], args.dataset),
                  "botsort": lambda: _OfficialBoTSORT(mods["botsort"], args.dataset, args.official_dir / "BoT-SORT"),
                  "ucmctrack": lambda: _OfficialUCMCTrack(mods["ucmctrack"], args.official_dir / "UCMCTrack"),
                  "tracktrack": lambda: _OfficialTrackTrack(mods["tracktrack"], args.dataset, _tracktrack_gmc(args)),
                  **{n: (lambda n=n: _OfficialBoostTrack(mods["boosttrack"], n, args.dataset, args.data))
                     for n in BOOSTTRACK_NAMES}}
        official_mods = {n: makers[n] for n in names}

    # Per tracker and sequence: our inputs (frame id, Detections) and the official arrays, built now.
    plans = {}
    for name in names:
        per_seq = []
        for seq, fids, dets in data:
            ours, select = _ours(name, args, seq)
            fed = [d if select is None else d.select(select(d)) for d in dets]
            off = official_mods[name]() if official_mods else None
            per_seq.append((seq, ours, list(zip(fids, fed, strict=True)),
                            off, [off.prepare(d) for d in fed] if off else None))
        plans[name] = per_seq

    n_frames = sum(len(fids) for _, fids, _ in data)
    hw = hardware_stamp("cpu")
    print(f"# {hw['cpu']} ({hw['cpu_count']} logical CPUs), python {hw['python']}, numpy {hw['numpy']}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"# {args.dataset}: {len(data)} sequences, {n_frames} frames, "
          f"{sum(len(d) for _, _, dets in data for d in dets)} detections parsed; repeats {args.repeat}")
    for name in names:
        fed = sum(len(d) for _, _, inp, _, _ in plans[name] for _, d in inp)
        print(f"# {name}: {fed} detections fed")
    for note in notes:
        print(f"# official shim: {note}")

    ours_t = {n: [] for n in names}
    off_t = {n: [] for n in names}
    equal = {}
    for rep in range(max(1, args.repeat)):
        for name in names:
            tot_ours = tot_off = 0.0
            for k, (seq, ours, inp, off, off_inp) in enumerate(plans[name]):
                first = rep == 0
                runs = [("ours", ours, inp)] + ([("official", off, off_inp)] if off else [])
                if (rep + k) % 2:
                    runs.reverse()
                outs = {}
                for who, trk, feed in runs:
                    dt, outs[who] = _time_sequence(trk, seq, feed, keep_outputs=first)
                    if who == "ours":
                        tot_ours += dt
                    else:
                        tot_off += dt
                if first and off:
                    a = [_our_rows(name, o) for o in outs["ours"]]
                    b = [off.rows(o) for o in outs["official"]]
                    same = a == b
                    equal.setdefault(name, [0, 0, []])
                    equal[name][0] += sum(len(r) for r in a)
                    equal[name][1] += sum(len(r) for r in b)
                    if not same:
                        equal[name][2].append(seq.name)
                        if name in BOOSTTRACK_NAMES:  # how many frames differ at the written precision
                            n_diff = sum(x != y for x, y in zip(a, b, strict=True))
                            equal[name][2][-1] += f" ({n_diff} of {len(a)} frames)"
            ours_t[name].append(tot_ours)
            if official_mods:
                off_t[name].append(tot_off)

    if official_mods:
        print(f"{'tracker':10s} {'ours ms/frame':>14s} {'official ms/frame':>18s} {'official/ours':>14s} "
              f"{'(min..max)':>12s}")
    else:
        print(f"{'tracker':10s} {'ours ms/frame':>14s}")
    for name in names:
        ours_ms = 1000 * statistics.median(ours_t[name]) / n_frames
        if official_mods:
            off_ms = 1000 * statistics.median(off_t[name]) / n_frames
            ratios = [o / u for o, u in zip(off_t[name], ours_t[name], strict=True)]
            print(f"{name:10s} {ours_ms:14.3f} {off_ms:18.3f} {statistics.median(ratios):14.2f} "
                  f"{min(ratios):5.2f}..{max(ratios):5.2f}")
        else:
            print(f"{name:10s} {ours_ms:14.3f}")
    for name, (n_ours, n_off, bad) in equal.items():
        verdict = "identical" if not bad else f"DIFFERENT in {', '.join(bad)}"
        if name in BOOSTTRACK_NAMES:
            verdict += " at 0.1 px (official code under numpy 2 here; numpy 1.24: see the docstring)"
        print(f"# outputs {name}: ours {n_ours} rows, official {n_off} rows: {verdict}")
    if worker is not None:
        worker.close()
    return 1 if any(bad for n, (_, _, bad) in equal.items() if n not in BOOSTTRACK_NAMES) else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hybridsort-worker"]:
        _hybridsort_worker(sys.argv[2])
        raise SystemExit(0)
    raise SystemExit(main())
