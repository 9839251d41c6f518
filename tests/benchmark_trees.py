"""Trees in exactly the formats SportsMOT and DanceTrack ship, built by the tests (their files are never
committed: both datasets' terms forbid redistribution).

SportsMOT, as its evaluation kit holds the val gt (MCG-NJU/SportsMOT ``codes/evaluation/TrackEval/data/ref``):
``sportsmot-val/<SEQ>/gt/gt.txt`` rows ``frame, id, x, y, w, h, 1, 1, 1`` (comma and space, integers,
track ids from 0, a final newline), ``seqinfo.ini`` without a final newline (frameRate=25, 1280x720), and
``seqmaps/sportsmot-val.txt``: a ``name`` header, one sequence per line, no final newline. The released
dataset has the same sequence folders under ``dataset/<split>/`` (images ``img1/000001.jpg``).

DanceTrack, as its README documents it (README.md:39-66): ``dancetrack/<split>/dancetrackXXXX/`` with
``img1/00000001.jpg``, ``gt/gt.txt`` rows ``<frame>, <id>, <bb_left>, <bb_top>, <bb_width>, <bb_height>, 1,
1, 1`` (ids from 1), ``seqinfo.ini`` (frameRate=20), and ``dancetrack/<split>_seqmap.txt``.

Content: players/dancers that move non-linearly (turns, stops, crossings), leave and come back; the
tracker output made from them has jitter, misses, identity swaps, false positives and 0-based ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_bench.data.benchmarks import DECLARATIONS

SPORTSMOT_SIZE = (1280, 720)
DANCETRACK_SIZE = (1920, 1080)


def sportsmot_name(rng: np.random.Generator, clip: int) -> str:
    """A name of SportsMOT's form: ``v_`` + an 11-character YouTube id + ``_c`` + a 3-digit clip number."""
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
    return "v_" + "".join(rng.choice(alphabet, 11)) + f"_c{clip:03d}"


def moving_people(rng: np.random.Generator, length: int, size: tuple[int, int], n_people: int,
                  first_id: int) -> np.ndarray:
    """gt rows (frame, id, x, y, w, h, 1, 1, 1) of people who run, stop and turn, in integer pixels."""
    width, height = size
    rows = []
    for k in range(n_people):
        start = int(rng.integers(1, max(2, length // 3)))
        stop = int(rng.integers(start + 1, length + 1))
        w, h = float(rng.uniform(30, 90)), float(rng.uniform(80, 220))
        pos = np.array([rng.uniform(0, width - w), rng.uniform(0, height - h)])
        vel = rng.normal(0, 6, 2)
        away = 0
        for f in range(start, stop + 1):
            if rng.random() < 0.08:
                vel = rng.normal(0, 8, 2)  # a sudden turn, sprint or stop
            pos = np.clip(pos + vel, 0, [width - w, height - h])
            if away:
                away -= 1
                continue
            if rng.random() < 0.01:
                away = int(rng.integers(3, 15))  # out of view for a while, back with the same id
            rows.append([f, first_id + k, round(pos[0]), round(pos[1]), round(w + rng.normal(0, 2)),
                         round(h + rng.normal(0, 3)), 1, 1, 1])
    out = np.array(rows, dtype=np.float64).reshape(-1, 9)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def tracker_output(rng: np.random.Generator, gt: np.ndarray, length: int, size: tuple[int, int],
                   first_id: int = 0) -> np.ndarray:
    """A tracker's rows (frame, id, x, y, w, h, conf, -1, -1, -1) made from ``gt``: jitter, misses, ids
    swapped between people for stretches, fragments under new ids, false positives; ids from ``first_id``."""
    rows = []
    remap: dict[int, int] = {}
    next_id = first_id
    swap_until, swap = 0, (None, None)
    for frame in range(1, length + 1):
        here = gt[gt[:, 0] == frame]
        people = [int(i) for i in here[:, 1]]
        if frame > swap_until and len(people) >= 2 and rng.random() < 0.05:
            a, b = rng.choice(people, 2, replace=False)
            swap, swap_until = (int(a), int(b)), frame + int(rng.integers(5, 40))
        for r in here:
            if rng.random() < 0.1:
                continue
            person = int(r[1])
            if person not in remap or rng.random() < 0.004:
                remap[person], next_id = next_id, next_id + 1  # a new (fragment) id
            if frame <= swap_until and person in swap:
                other = swap[1] if person == swap[0] else swap[0]
                tid = remap.setdefault(other, next_id)
                next_id = max(next_id, tid + 1)
            else:
                tid = remap[person]
            box = r[2:6] + rng.normal(0, [3, 3, 4, 6])
            rows.append([frame, tid, *np.round(box, 2), round(float(rng.uniform(0.3, 1.0)), 4), -1, -1, -1])
        for _ in range(int(rng.poisson(0.5))):
            rows.append([frame, next_id, round(float(rng.uniform(0, size[0] - 60)), 2),
                         round(float(rng.uniform(0, size[1] - 150)), 2), 50.0, 140.0, 0.2, -1, -1, -1])
            next_id += 1
    out = np.array(rows, dtype=np.float64).reshape(-1, 10)
    _, keep = np.unique(out[:, 0] * 1e7 + out[:, 1], return_index=True)  # one id per frame
    return out[np.sort(keep)]


def gt_text(rows: np.ndarray, separator: str) -> str:
    """gt lines as these datasets write them: every value an integer, ``separator`` between them."""
    return "".join(separator.join(str(int(v)) for v in r) + "\n" for r in rows)


def result_text(rows: np.ndarray, style: str) -> str:
    """Result lines: ``comma`` (frame,id,x,y,w,h,conf,-1,-1,-1), ``comma-space`` or ``space`` (the SportsMOT
    kit's README example: ``4 6 589 296 51 195 -1 -1 -1 0``, here with the tracker's own values)."""
    sep = {"comma": ",", "comma-space": ", ", "space": " "}[style]
    lines = []
    for r in rows:
        values = [str(int(r[0])), str(int(r[1]))] + [repr(float(v)) for v in r[2:7]] + ["-1", "-1", "-1"]
        lines.append(sep.join(values) + ("\n" if style != "space" else " \n"))
    return "".join(lines)


def seqinfo_text(name: str, length: int, fps: int, size: tuple[int, int], final_newline: bool) -> str:
    text = "\n".join(["[Sequence]", f"name={name}", "imDir=img1", f"frameRate={fps}", f"seqLength={length}",
                      f"imWidth={size[0]}", f"imHeight={size[1]}", "imExt=.jpg"])
    return text + ("\n" if final_newline else "")


def write_sequence(seq_dir: Path, gt: np.ndarray, length: int, fps: int, size: tuple[int, int], separator: str,
                   ini_final_newline: bool) -> None:
    (seq_dir / "gt").mkdir(parents=True)
    (seq_dir / "gt" / "gt.txt").write_text(gt_text(gt, separator), encoding="utf-8")
    (seq_dir / "seqinfo.ini").write_text(seqinfo_text(seq_dir.name, length, fps, size, ini_final_newline),
                                         encoding="utf-8")


def sportsmot_tree(root: Path, rng: np.random.Generator, lengths: list[int], split: str = "val",
                   layout: str = "kit") -> tuple[Path, dict[str, np.ndarray]]:
    """SportsMOT sequences of the given lengths; returns (the split folder, {name: gt rows}).

    ``kit``: ``<root>/data/ref/sportsmot-<split>/`` and ``<root>/data/ref/seqmaps/sportsmot-<split>.txt``
    (the evaluation kit's GT_FOLDER is ``<root>/data/ref``); ``release``: ``<root>/dataset/<split>/``.
    """
    base = root / "data" / "ref" / f"sportsmot-{split}" if layout == "kit" else root / "dataset" / split
    gts = {}
    for clip, length in enumerate(lengths, start=1):
        name = sportsmot_name(rng, clip)
        gt = moving_people(rng, length, SPORTSMOT_SIZE, int(rng.integers(4, 12)),
                           first_id=DECLARATIONS["SportsMOT"].first_gt_id)
        write_sequence(base / name, gt, length, 25, SPORTSMOT_SIZE, ", ", ini_final_newline=False)
        gts[name] = gt
    if layout == "kit":
        seqmaps = root / "data" / "ref" / "seqmaps"
        seqmaps.mkdir(parents=True, exist_ok=True)
        (seqmaps / f"sportsmot-{split}.txt").write_text("\n".join(["name", *gts]), encoding="utf-8")
    return base, gts


def dancetrack_tree(root: Path, rng: np.random.Generator, lengths: list[int], split: str = "val",
                    separator: str = ", ", first: int = 4) -> tuple[Path, dict[str, np.ndarray]]:
    """DanceTrack sequences ``dancetrack<first>...`` under ``<root>/dancetrack/<split>/`` and the seqmap
    ``<root>/dancetrack/<split>_seqmap.txt``; returns (the split folder, {name: gt rows})."""
    base = root / "dancetrack" / split
    gts = {}
    for k, length in enumerate(lengths):
        name = f"dancetrack{first + k:04d}"
        gt = moving_people(rng, length, DANCETRACK_SIZE, int(rng.integers(3, 9)),
                           first_id=DECLARATIONS["DanceTrack"].first_gt_id)
        write_sequence(base / name, gt, length, 20, DANCETRACK_SIZE, separator, ini_final_newline=True)
        gts[name] = gt
    (root / "dancetrack" / f"{split}_seqmap.txt").write_text("".join(f"{n}\n" for n in ["name", *gts]),
                                                             encoding="utf-8")
    return base, gts


def write_images(seq_dir: Path, length: int, digits: int, size: tuple[int, int] = (64, 36)) -> None:
    """Tiny JPEG frames named as the dataset names them (6 or 8 digits)."""
    import cv2

    (seq_dir / "img1").mkdir(parents=True, exist_ok=True)
    for f in range(1, length + 1):
        image = np.full((size[1], size[0], 3), (f * 7) % 255, np.uint8)
        cv2.imwrite(str(seq_dir / "img1" / f"{f:0{digits}d}.jpg"), image)
