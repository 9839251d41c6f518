"""Find a benchmark's sequences, read seqinfo.ini (or infer it, and say so), seqmaps, and apply splits.

Where a benchmark's sequences live, its splits, seqmaps, default frame rate and image names come from its
declaration (:mod:`mot_bench.data.benchmarks`). MOTChallenge's layout:
``<root>/<benchmark>/<train|test>/<SEQ>/{seqinfo.ini,img1/,gt/gt.txt,det/det.txt}``; ``--data`` may also
point at a split folder or at one sequence folder. A name that no declaration has is a folder name.

Splits: ``train``, ``val`` and ``test`` take every frame; ``half-train`` and ``half-val`` split each train
sequence as ByteTrack's ``convert_mot17_to_coco.py`` (used by FairMOT/ByteTrack ablations) does:
with N frames, half-train is frames 1..N//2+1 and half-val is frames N//2+2..N.
"""

from __future__ import annotations

import configparser
import math
import os
from pathlib import Path

from mot_bench.data.benchmarks import BENCHMARKS, DECLARATIONS, SPLITS, Benchmark, BenchmarkError, Split, declared
from mot_bench.types import SeqInfo

__all__ = ["BENCHMARKS", "SPLITS", "DataError", "find_sequences", "half_range", "read_seqinfo", "read_seqmap",
           "split_dir"]

DEFAULT_FPS = 30.0


class DataError(ValueError):
    """A dataset folder that cannot be read as MOTChallenge data."""


def _split(bench: Benchmark | None, split: str) -> Split:
    """``split`` as ``bench`` declares it (any declaration's split of that name without a benchmark)."""
    if bench is not None:
        try:
            return bench.split(split)
        except BenchmarkError as exc:
            raise DataError(str(exc)) from None
    for b in DECLARATIONS.values():
        for s in b.splits:
            if s.name == split:
                return s
    raise DataError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")


def half_range(length: int, split: str) -> tuple[int, int]:
    """First and last frame (1-based, inclusive) of a split of an ``length``-frame sequence."""
    return _split(None, split).frame_range(length)


def is_sequence_dir(path: Path) -> bool:
    return (path / "seqinfo.ini").is_file() or (path / "img1").is_dir() or (path / "gt" / "gt.txt").is_file()


def split_dir(root: Path, benchmark: str | None, split: str) -> Path:
    """Where the sequences of ``benchmark``/``split`` live under ``root`` (the layouts its declaration
    names, and ``benchmark`` itself as a folder name)."""
    root = Path(root)
    bench = declared(benchmark)
    folder = _split(bench, split).folder
    relative = []
    if benchmark:
        relative += [f"{benchmark}/{folder}", f"{benchmark}-{folder}"]
        relative += list(bench.split_folders(_split(bench, split))) if bench else []
        relative.append(benchmark)
    candidates = [root / r for r in dict.fromkeys(relative)] + [root / folder, root]
    found = []
    if not benchmark and root.is_dir():  # a root holding exactly one benchmark needs no --benchmark
        found = sorted(p / folder for p in root.iterdir() if (p / folder).is_dir())
        if len(found) == 1:
            candidates.append(found[0])
    for c in candidates:
        if c.is_dir() and (is_sequence_dir(c) or any(is_sequence_dir(p) for p in c.iterdir() if p.is_dir())):
            return c
    if len(found) > 1:
        names = ", ".join(p.parent.name for p in found)
        raise DataError(f"{root}: holds several benchmarks with a {folder}/ folder ({names}); choose one with "
                        "--benchmark (benchmark=... in Python)")
    looked = ", ".join(str(c) for c in candidates)
    which = f"{benchmark} {split}" if benchmark else split
    raise DataError(f"{root}: no MOTChallenge sequences found for {which} (looked in: {looked}); expected "
                    f"<root>/<benchmark>/{folder}/<SEQ>/ folders with seqinfo.ini, gt/gt.txt or img1/")


def read_seqmap(path: Path, folders: set[str]) -> list[tuple[str, int]]:
    """The sequences a seqmap lists, with their lines, read as TrackEval reads it (``csv.reader``: the first
    line is a header and skipped, then the first field of each line; a line whose first field is empty is
    skipped). Refused, naming ``path:line``: a first line that names one of ``folders`` (the kit would skip
    it as the header), a blank line inside (TrackEval's reader fails on it), a name listed twice."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:1: not UTF-8 text ({exc.reason}); expected a header line (name) and one "
                        "sequence name per line") from None
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    if lines and lines[-1] == "":
        lines.pop()  # the final newline
    if not lines:
        raise DataError(f"{path}:1: empty; expected a header line (name) and one sequence name per line")
    header = lines[0].split(",")[0].strip()
    if header in folders:
        raise DataError(f"{path}:1: found the sequence {header!r}, expected a header line such as 'name': the "
                        "official evaluation skips the first line, so it would leave this sequence out")
    out: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if line == "":
            raise DataError(f"{path}:{lineno}: blank line; expected one sequence name per line (TrackEval's seqmap "
                            "reader fails on a blank line)")
        name = line.split(",")[0]
        if not name:
            continue
        if name in seen:
            raise DataError(f"{path}:{lineno}: {name!r} is listed again (first on line {seen[name]}); expected each "
                            "sequence once")
        seen[name] = lineno
        out.append((name, lineno))
    return out


def _seqmap(bench: Benchmark, split: Split, base: Path) -> Path | None:
    for rel in bench.seqmap_paths(split):
        path = Path(os.path.normpath(base / rel))
        if path.is_file():
            return path
    return None


def find_sequences(
    root: str | Path,
    benchmark: str | None = None,
    split: str = "train",
    seqs: list[str] | None = None,
) -> list[SeqInfo]:
    """All sequences of a benchmark split, sorted by name, optionally restricted to ``seqs``.

    With a declared ``benchmark`` whose seqmap lies beside the split folder, the split is the seqmap's
    sequences (as its official evaluation scores them): a listed sequence without a folder is an error
    naming the seqmap's line, a folder it does not list is left out."""
    bench = declared(benchmark)
    sp = _split(bench, split)
    base = split_dir(Path(root), benchmark, split)
    if is_sequence_dir(base):
        dirs = [base]
    else:
        dirs = sorted(p for p in base.iterdir() if p.is_dir() and is_sequence_dir(p))
        seqmap = _seqmap(bench, sp, base) if bench else None
        if seqmap is not None:
            by_name = {d.name: d for d in dirs}
            listed = read_seqmap(seqmap, set(by_name))
            for name, line in listed:
                if name not in by_name and (not seqs or name in seqs):
                    raise DataError(f"{seqmap}:{line}: lists {name!r}, but there is no folder {base / name}; "
                                    "expected a folder for every sequence of the seqmap, as the official evaluation "
                                    "does (or --seqs naming the ones present)")
            dirs = sorted(by_name[name] for name, _ in listed if name in by_name)
    if seqs:
        by_name = {d.name: d for d in dirs}
        missing = [s for s in seqs if s not in by_name]
        if missing:
            raise DataError(
                f"sequence(s) {', '.join(missing)} not found in {base}; available: {', '.join(sorted(by_name))}"
            )
        dirs = [by_name[s] for s in seqs]
    infos = []
    for d in dirs:
        layout = bench or next((b for b in DECLARATIONS.values() if b.matches_name(d.name)), None)
        info = read_seqinfo(d, layout.default_fps if layout else DEFAULT_FPS)
        info.first_frame, info.last_frame = sp.frame_range(info.length)
        info.image_digits = layout.image_digits if layout else info.image_digits
        info.benchmark = bench.name if bench else None
        infos.append(info)
    return infos


def read_seqinfo(seq_dir: str | Path, default_fps: float = DEFAULT_FPS) -> SeqInfo:
    """Read ``seqinfo.ini``; without one, infer length/size/fps and list what was inferred. ``default_fps``
    (the benchmark's, see its declaration) stands where there is no frameRate.

    The sequence is named after its folder, as TrackEval names it (its ``name=`` key is not read there
    either): results are looked for, and written, as ``<folder name>.txt``.
    """
    seq_dir = Path(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    if ini.is_file():
        return _read_ini(ini, seq_dir, default_fps)
    if os.path.lexists(ini):  # a folder, a broken link, a device: not "missing", and not to be inferred
        what = "a folder" if ini.is_dir() else "a broken link" if ini.is_symlink() else "not a regular file"
        raise DataError(f"{ini}: is {what}; expected the sequence's seqinfo.ini file ([Sequence] with seqLength, "
                        "imWidth, imHeight, frameRate), or no such entry at all to infer them")
    return _infer_seqinfo(seq_dir, default_fps)


def _ini_line(ini: Path, key: str) -> int:
    """1-based line of ``key =`` in ``ini`` (1 when it is not there: the file as a whole is wrong)."""
    try:
        lines = ini.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 1
    for lineno, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].split(":", 1)[0].strip().lower() == key.lower():
            return lineno
    return 1


def _read_ini(ini: Path, seq_dir: Path, default_fps: float) -> SeqInfo:
    """A strict read of seqinfo.ini: errors are ``seqinfo.ini:LINE: what was found, what was expected``."""
    cp = configparser.ConfigParser(interpolation=None)
    data = ini.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise DataError(f"{ini}:1: the file starts with a UTF-8 byte-order mark (BOM); TrackEval's configparser "
                        "reads it as part of the [Sequence] header and fails on it: save the file without the BOM")
    try:
        cp.read_string(data.decode("utf-8"), source=str(ini))
    except UnicodeDecodeError as exc:
        raise DataError(f"{ini}:1: not UTF-8 text ({exc.reason}); expected a [Sequence] section") from None
    except configparser.Error as exc:
        errors = getattr(exc, "errors", None)  # ParsingError: [(lineno, line), ...]
        line = errors[0][0] if errors else getattr(exc, "lineno", None) or 1
        found = f"found {errors[0][1]!r}" if errors else type(exc).__name__
        raise DataError(f"{ini}:{line}: cannot be read as an ini file ({found}); expected a [Sequence] "
                        "section of key=value lines") from None
    if "Sequence" not in cp:
        raise DataError(f"{ini}:1: no [Sequence] section; expected [Sequence] with seqLength, imWidth, "
                        "imHeight, frameRate")
    s = cp["Sequence"]

    def integer(key: str, default: int | None, low: int) -> int:
        raw = s.get(key)
        if raw is None:
            if default is None:
                raise DataError(f"{ini}:1: no {key}; expected {key}=N (an integer >= {low}) in [Sequence]")
            return default
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < low or int(text) > 10**7:
            raise DataError(f"{ini}:{_ini_line(ini, key)}: {key}={raw!r}; expected an integer in {low}..10000000")
        return int(text)

    length = integer("seqLength", None, 1)
    width = integer("imWidth", 0, 0)
    height = integer("imHeight", 0, 0)
    raw_fps = s.get("frameRate")
    fps = default_fps
    if raw_fps is not None:
        try:
            fps = float(raw_fps)
        except ValueError:
            fps = float("nan")
        if not (fps > 0 and math.isfinite(fps) and fps <= 1000) or not set(raw_fps.strip()) <= set("0123456789.eE+"):
            raise DataError(f"{ini}:{_ini_line(ini, 'frameRate')}: frameRate={raw_fps!r}; expected a number of "
                            "frames per second in (0, 1000]")
    im_ext = s.get("imExt", ".jpg").strip() or ".jpg"
    if not im_ext.startswith(".") or "/" in im_ext:
        raise DataError(f"{ini}:{_ini_line(ini, 'imExt')}: imExt={im_ext!r}; expected an extension such as .jpg")
    im_dir = s.get("imDir", "img1").strip() or "img1"
    if Path(im_dir).is_absolute() or ".." in Path(im_dir).parts:
        raise DataError(f"{ini}:{_ini_line(ini, 'imDir')}: imDir={im_dir!r}; expected a folder inside {seq_dir}")
    return SeqInfo(name=seq_dir.name, path=seq_dir, length=length, width=width, height=height, fps=fps,
                   im_dir=im_dir, im_ext=im_ext)


def _infer_seqinfo(seq_dir: Path, default_fps: float) -> SeqInfo:
    from mot_bench.data.motfile import read_mot_file

    inferred = ["seqinfo.ini missing"]
    images = sorted((seq_dir / "img1").glob("*.jpg")) if (seq_dir / "img1").is_dir() else []
    ext = ".jpg"
    if not images and (seq_dir / "img1").is_dir():
        images = sorted((seq_dir / "img1").glob("*.png"))
        ext = ".png"
    length = 0
    if images:
        length = max(int(p.stem) for p in images if p.stem.isdigit())
        inferred.append(f"length {length} from img1/")
    width = height = 0
    max_x = max_y = 0.0
    for name, kind in (("gt/gt.txt", "gt"), ("det/det.txt", "det")):
        f = seq_dir / name
        if f.is_file():
            rows = read_mot_file(f, kind)
            if len(rows):
                if int(rows[:, 0].max()) > length:
                    length = int(rows[:, 0].max())
                    inferred.append(f"length {length} from {name}")
                max_x = max(max_x, float((rows[:, 2] + rows[:, 4]).max()))
                max_y = max(max_y, float((rows[:, 3] + rows[:, 5]).max()))
    if images:
        import cv2

        im = cv2.imread(str(images[0]))
        if im is not None:
            height, width = im.shape[:2]
            inferred.append(f"size {width}x{height} from {images[0].name}")
    if not width and max_x:
        width, height = int(round(max_x)), int(round(max_y))
        inferred.append(f"size {width}x{height} from box extents")
    if length == 0:
        raise DataError(f"{seq_dir}: no seqinfo.ini, no images in img1/ and no gt/det rows: cannot tell its length")
    inferred.append(f"fps {default_fps:g} assumed")
    return SeqInfo(seq_dir.name, seq_dir, length, width, height, default_fps, "img1", ext, inferred=inferred)
