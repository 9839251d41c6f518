"""Benchmarks as data: one declaration per benchmark, read by data loading, validation, the gt rule,
both scoring engines and the reports.

A :class:`Benchmark` says where its sequences live (its folder under ``--data``, its splits and their
folders, the seqmap its official evaluation reads), how its gt is written (MOT15's 10-column 3D rows,
or MOT16/17/20's class and visibility columns; the first track id; image file names; where the frame
rate comes from) and what its official evaluation passes to TrackEval (``BENCHMARK``,
``SPLIT_TO_EVAL``, ``DO_PREPROC``), from which follow the gt rows that count and the classes whose
matches are removed as distractors. Nothing else in the package names a benchmark: adding one is adding
a declaration to :data:`DECLARATIONS` (docs/architecture.md, "Benchmarks").

The MOTChallenge rule (TrackEval 1.3.0, ``trackeval/datasets/mot_challenge_2d_box.py``, the same lines in
the copies SportsMOT and DanceTrack ship): with ``DO_PREPROC`` and a ``BENCHMARK`` other than ``MOT15``,
tracker boxes matched (IoU >= 0.5, Hungarian) to a gt box of a distractor class are removed
(``person_on_vehicle``, ``static_person``, ``distractor``, ``reflection``, and ``non_mot_vehicle`` when
``BENCHMARK == 'MOT20'``), and only gt rows with a non-zero consider flag (column 7, truncated to int)
and class ``pedestrian`` (1) are scored; otherwise (``MOT15``, or ``DO_PREPROC`` off) every gt row with a
non-zero column 7 is scored and nothing is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["BENCHMARKS", "CLASS_IDS", "DECLARATIONS", "DEFAULT_BENCHMARK", "SPLITS", "Benchmark",
           "BenchmarkError", "Split", "canonical_name", "declared", "get_benchmark"]

# TrackEval's MotChallenge2DBox class table (mot_challenge_2d_box.py: class_name_to_class_id)
CLASS_IDS = {"pedestrian": 1, "person_on_vehicle": 2, "car": 3, "bicycle": 4, "motorbike": 5, "non_mot_vehicle": 6,
             "static_person": 7, "distractor": 8, "occluder": 9, "occluder_on_ground": 10, "occluder_full": 11,
             "reflection": 12, "crowd": 13}
MOT_DISTRACTORS = ("person_on_vehicle", "static_person", "distractor", "reflection")


class BenchmarkError(ValueError):
    """An unknown benchmark or split name (the message lists the valid ones)."""


@dataclass(frozen=True)
class Split:
    """A split as ``--split`` names it: the folder holding its sequences and the frames it takes.

    ``frames``: ``all``, or ``first-half`` / ``second-half`` of each sequence as ByteTrack's
    ``convert_mot17_to_coco.py`` cuts them (N frames: 1..N//2+1 and N//2+2..N).
    """

    name: str
    folder: str
    frames: str = "all"
    public_gt: bool = True  # test splits keep their gt on the benchmark's server

    def frame_range(self, length: int) -> tuple[int, int]:
        """First and last frame (1-based, inclusive) of this split of a ``length``-frame sequence."""
        mid = length // 2  # 0-based index of the last half-train image, as ByteTrack
        if self.frames == "first-half":
            return 1, mid + 1
        if self.frames == "second-half":
            return mid + 2, length
        return 1, length


MOT_SPLITS = (Split("train", "train"), Split("test", "test", public_gt=False),
              Split("half-train", "train", "first-half"), Split("half-val", "train", "second-half"))
TRAIN_VAL_TEST = (Split("train", "train"), Split("val", "val"), Split("test", "test", public_gt=False))


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: layout, gt format and the official evaluation's TrackEval settings.

    Layout: the sequences of split ``S`` are looked for under ``--data`` in ``<folder>/<S.folder>``,
    ``<folder>-<S.folder>`` (for each of ``folders``), ``<kit_name>-<S.folder>`` (TrackEval's own
    layout), then ``<S.folder>`` and ``--data`` itself. ``seqmaps`` are paths relative to that split
    folder (``{kit}``: ``kit_benchmark``, ``{split}``: the split's folder); the first that exists lists
    the split's sequences, read as TrackEval reads it (a header line, then one name per line).
    """

    name: str
    description: str
    folders: tuple[str, ...]
    splits: tuple[Split, ...]
    seqmaps: tuple[str, ...]
    gt_format: str  # "mot15": frame,id,x,y,w,h,active,X,Y,Z; "mot16": frame,id,x,y,w,h,consider,class,visibility
    kit_benchmark: str  # TrackEval's BENCHMARK as the official evaluation passes it
    do_preproc: bool  # TrackEval's DO_PREPROC as the official evaluation passes it
    distractors: tuple[str, ...]
    first_gt_id: int  # the dataset's first track id (MOT: 1, SportsMOT: 0); both are scored alike
    default_fps: float  # frame rate when seqinfo.ini has no frameRate (or there is no seqinfo.ini)
    image_digits: int = 6  # img1/000001.jpg (6) or img1/00000001.jpg (8)
    sequence_names: str = ""  # regex of the benchmark's sequence names, for inferring the benchmark
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)  # where each setting was read (file:line)

    @property
    def class_rule(self) -> bool:
        """Whether scoring uses classes (distractor removal, pedestrians only): TrackEval's
        ``self.do_preproc and self.benchmark != 'MOT15'``."""
        return self.do_preproc and self.kit_benchmark != "MOT15"

    @property
    def gt_has_classes(self) -> bool:
        return self.gt_format == "mot16"

    @property
    def distractor_ids(self) -> tuple[int, ...]:
        return tuple(CLASS_IDS[n] for n in self.distractors)

    @property
    def split_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.splits)

    def split(self, name: str) -> Split:
        for s in self.splits:
            if s.name == name:
                return s
        raise BenchmarkError(f"unknown split {name!r} for {self.name}; its splits: {', '.join(self.split_names)}")

    def split_folders(self, split: Split) -> tuple[str, ...]:
        """Where split ``split``'s sequences may be, relative to ``--data``, in the order tried."""
        out = []
        for folder in self.folders:
            out += [f"{folder}/{split.folder}", f"{folder}-{split.folder}"]
        out.append(f"{self.kit_benchmark}-{split.folder}")
        out += list(self.folders)
        return tuple(dict.fromkeys(out))

    def seqmap_paths(self, split: Split) -> tuple[str, ...]:
        return tuple(p.format(kit=self.kit_benchmark, split=split.folder) for p in self.seqmaps)

    def matches_name(self, sequence: str) -> bool:
        return bool(self.sequence_names) and re.fullmatch(self.sequence_names, sequence, re.IGNORECASE) is not None


# MOTChallenge: TrackEval's own scripts/run_mot_challenge.py with --BENCHMARK <name> (defaults otherwise:
# DO_PREPROC True, trackeval/datasets/mot_challenge_2d_box.py:29 of TrackEval 1.3.0); seqmaps in
# GT_FOLDER/seqmaps/<BENCHMARK>-<SPLIT>.txt beside GT_FOLDER/<BENCHMARK>-<SPLIT>/ (mot_challenge_2d_box.py:149-155).
_MOT_SEQMAPS = ("../seqmaps/{kit}-{split}.txt",)
_MOT_SOURCES = (
    "TrackEval 1.3.0 scripts/run_mot_challenge.py --BENCHMARK <name>; trackeval/datasets/mot_challenge_2d_box.py:31 "
    "DO_PREPROC True (default); :155 seqmap GT_FOLDER/seqmaps/<BENCHMARK>-<SPLIT>.txt; :327-330 distractor classes "
    "(MOT20 adds non_mot_vehicle); :362,393-398 no class preprocessing for MOT15, else flag != 0 and class 1",)

MOT15 = Benchmark(
    name="MOT15", description="2D MOT 2015 (MOTChallenge): 10-column 3D gt, no classes",
    folders=("MOT15", "2DMOT2015"), splits=MOT_SPLITS, seqmaps=_MOT_SEQMAPS, gt_format="mot15",
    kit_benchmark="MOT15", do_preproc=True, distractors=(), first_gt_id=1, default_fps=30.0,
    sequence_names=r"MOT15.*", aliases=("2DMOT2015", "PETS2009"), sources=_MOT_SOURCES)
MOT16 = Benchmark(
    name="MOT16", description="MOT16 (MOTChallenge): pedestrians, distractor classes removed",
    folders=("MOT16",), splits=MOT_SPLITS, seqmaps=_MOT_SEQMAPS, gt_format="mot16",
    kit_benchmark="MOT16", do_preproc=True, distractors=MOT_DISTRACTORS, first_gt_id=1, default_fps=30.0,
    sequence_names=r"MOT16.*", sources=_MOT_SOURCES)
MOT17 = Benchmark(
    name="MOT17", description="MOT17 (MOTChallenge): MOT16's sequences re-annotated, three detector folders each",
    folders=("MOT17",), splits=MOT_SPLITS, seqmaps=_MOT_SEQMAPS, gt_format="mot16",
    kit_benchmark="MOT17", do_preproc=True, distractors=MOT_DISTRACTORS, first_gt_id=1, default_fps=30.0,
    sequence_names=r"MOT17.*", sources=_MOT_SOURCES)
MOT20 = Benchmark(
    name="MOT20", description="MOT20 (MOTChallenge): crowds; non_mot_vehicle is a distractor too",
    folders=("MOT20",), splits=MOT_SPLITS, seqmaps=_MOT_SEQMAPS, gt_format="mot16",
    kit_benchmark="MOT20", do_preproc=True, distractors=MOT_DISTRACTORS + ("non_mot_vehicle",), first_gt_id=1,
    default_fps=30.0, sequence_names=r"MOT20.*", sources=_MOT_SOURCES)

SPORTSMOT = Benchmark(
    name="SportsMOT",
    description="SportsMOT (MCG-NJU): basketball, football and volleyball players; 25 fps, 1280x720",
    folders=("SportsMOT", "sportsmot", "dataset"), splits=TRAIN_VAL_TEST,
    seqmaps=("../seqmaps/{kit}-{split}.txt",), gt_format="mot16",
    kit_benchmark="sportsmot", do_preproc=True, distractors=MOT_DISTRACTORS, first_gt_id=0, default_fps=25.0,
    sequence_names=r"v_[A-Za-z0-9_-]{11}_c\d{3}",
    sources=(
        "MCG-NJU/SportsMOT@b06cfb4aacb0bb16c5778ac4ddb0d70ec6835444 codes/evaluation/TrackEval/evalutate.sh:6: "
        "run_mot_challenge.py --BENCHMARK sportsmot --SPLIT_TO_EVAL val --METRICS HOTA CLEAR Identity VACE "
        "--GT_FOLDER ./data/ref (DO_PREPROC, CLASSES_TO_EVAL, SEQMAP_FILE not passed)",
        "codes/evaluation/TrackEval/trackeval/datasets/mot_challenge_2d_box.py:24,29: defaults CLASSES_TO_EVAL "
        "['pedestrian'], DO_PREPROC True; :50-56,149-171: gt in GT_FOLDER/sportsmot-val/, seqmap "
        "GT_FOLDER/seqmaps/sportsmot-val.txt (first line skipped), seqLength from seqinfo.ini",
        "mot_challenge_2d_box.py:325-328,360,391-396: 'sportsmot' is neither MOT15 nor MOT20, so the MOT17 rule: "
        "the four distractor classes, gt kept where column 7 != 0 and class == 1",
        "codes/evaluation/TrackEval/data/ref/sportsmot-val: gt rows 'frame, id, x, y, w, h, 1, 1, 1' (ids from 0, "
        "comma and space), seqinfo.ini frameRate=25 without a final newline, seqmap 'name' header",
    ))
DANCETRACK = Benchmark(
    name="DanceTrack",
    description="DanceTrack: dancers of uniform appearance and diverse motion; 20 fps, images 00000001.jpg",
    folders=("dancetrack", "DanceTrack"), splits=TRAIN_VAL_TEST, seqmaps=("../{split}_seqmap.txt",),
    gt_format="mot16", kit_benchmark="MOT17", do_preproc=True, distractors=MOT_DISTRACTORS, first_gt_id=1,
    default_fps=20.0, image_digits=8, sequence_names=r"dancetrack\d{4}",
    sources=(
        "DanceTrack/DanceTrack@44057dcc07e4bf6bcad2e6888c9d83ec63d4b1a3 README.md:89: run_mot_challenge.py "
        "--SPLIT_TO_EVAL val --METRICS HOTA CLEAR Identity --GT_FOLDER dancetrack/val --SEQMAP_FILE "
        "dancetrack/val_seqmap.txt --SKIP_SPLIT_FOL True (BENCHMARK, DO_PREPROC, CLASSES_TO_EVAL not passed)",
        "TrackEval/trackeval/datasets/mot_challenge_2d_box.py:24,25,29: defaults CLASSES_TO_EVAL ['pedestrian'], "
        "BENCHMARK 'MOT17', DO_PREPROC True; :324-326,359,390-395: the MOT17 rule",
        "README.md:39-66: dancetrack/{train,val,test}/dancetrackXXXX/{img1/00000001.jpg,gt/gt.txt,seqinfo.ini}, "
        "dancetrack/{split}_seqmap.txt; gt lines "
        "'<frame>, <id>, <bb_left>, <bb_top>, <bb_width>, <bb_height>, 1, 1, 1'",
    ))

DECLARATIONS: dict[str, Benchmark] = {b.name: b for b in (MOT15, MOT16, MOT17, MOT20, SPORTSMOT, DANCETRACK)}
BENCHMARKS = tuple(DECLARATIONS)
DEFAULT_BENCHMARK = "MOT17"  # what MOTChallenge-style data of no recognisable benchmark is scored as
SPLITS = tuple(dict.fromkeys(s.name for b in DECLARATIONS.values() for s in b.splits))


def get_benchmark(name: str) -> Benchmark:
    """The declaration of ``name`` (any case; also an alias such as 2DMOT2015)."""
    key = name.casefold()
    for bench in DECLARATIONS.values():
        if key == bench.name.casefold() or key in (a.casefold() for a in bench.aliases):
            return bench
    raise BenchmarkError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")


def declared(name: str | None) -> Benchmark | None:
    """The declaration of ``name``, or None for None and for names no declaration has (a folder name)."""
    if not name:
        return None
    try:
        return get_benchmark(name)
    except BenchmarkError:
        return None


def canonical_name(name: str) -> str:
    """``name`` as its declaration spells it (``sportsmot`` -> ``SportsMOT``); other names unchanged."""
    bench = declared(name)
    return bench.name if bench else name
