"""One validation pass over every input a command will read, before any work starts.

:func:`check_run_inputs` reads, with the strict reader every scorer uses (:mod:`mot_bench.data.mottext`),
each sequence's gt (when it will be scored or read by the detector) and the text files the detector
declares (:meth:`mot_bench.plugins.Detector.input_files`), and, for detectors that look at pixels, checks
the images: one per frame of the sequence (``seqLength``), none empty, every JPEG/PNG ending with its
end marker (a file cut short is caught without decoding it), and the first and last frame decoded
completely at the size ``seqinfo.ini`` declares. A problem raises :class:`InputCheckError` (or
:class:`~mot_bench.data.mottext.MOTFormatError`) with one line: ``path[:line]: what was found, what was
expected``. A long run that would fail at frame 72 of 80 fails here instead, having written nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from mot_bench.data.gt import length_source, read_gt
from mot_bench.data.motfile import MIN_COLS, read_mot_file
from mot_bench.types import SeqInfo

__all__ = ["InputCheckError", "check_images", "check_run_inputs", "check_tracker_inputs"]

_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"


class InputCheckError(ValueError):
    """An input that cannot be used: names the file (and line) and what was expected."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        super().__init__(f"{path}{'' if line is None else f':{line}'}: {message}")


def _ranges(numbers: list[int]) -> str:
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(f"{start}" if start == n else f"{start}..{n}")
            start = None
    return ", ".join(out[:5]) + (" ..." if len(out) > 5 else "")


def _complete(path: Path, size: int) -> bool:
    """Whether a JPEG/PNG file ends with its end marker (trailing padding after it is allowed)."""
    ext = path.suffix.lower()
    if ext not in (".jpg", ".jpeg", ".png"):
        return True
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 4096))
        tail = fh.read().rstrip(b"\x00\r\n \t")
    if ext == ".png":
        return tail.endswith(_PNG_END)
    return tail.endswith(_JPEG_END)


def check_images(seq: SeqInfo) -> None:
    """The images of ``seq``'s frame range: present, non-empty, complete; first and last decoded fully."""
    frames = range(seq.first_frame, seq.last_frame + 1)
    missing, sizes = [], {}
    for fid in frames:
        path = seq.image_path(fid)
        try:
            sizes[fid] = path.stat().st_size
        except OSError:
            missing.append(fid)
    if missing:
        folder = seq.path / seq.im_dir
        raise InputCheckError(
            folder, f"no image for frame(s) {_ranges(missing)} ({len(missing)} of {len(frames)} missing; "
                    f"{seq.length} frames per {length_source(seq)}); expected {folder}/NNNNNN{seq.im_ext} for "
                    "every frame: fix seqLength or restore the images")
    for fid in frames:
        path = seq.image_path(fid)
        if sizes[fid] == 0:
            raise InputCheckError(path, "empty file; expected an image")
        if not os.access(path, os.R_OK):
            raise InputCheckError(path, "not readable (permissions)")
        if not _complete(path, sizes[fid]):
            raise InputCheckError(path, f"{sizes[fid]} bytes, no end-of-image marker: the file is cut short "
                                        "(an interrupted copy?); expected a complete image")
    import cv2

    for fid in sorted({seq.first_frame, seq.last_frame}):
        path = seq.image_path(fid)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputCheckError(path, "cannot be decoded; expected a JPEG or PNG image")
        height, width = image.shape[:2]
        if seq.width and seq.height and (width, height) != (seq.width, seq.height):
            raise InputCheckError(path, f"image is {width}x{height}, but {length_source(seq)} says "
                                        f"{seq.width}x{seq.height}")


def check_run_inputs(seqs: list[SeqInfo], detector, score: bool, gt_min_cols: int = 8, trackers=()) -> None:
    """Everything a run will read, checked before it starts (see the module docstring).

    ``score``: the run scores its results, so each sequence's gt is read (with the scorers' checks).
    ``trackers``: their per-sequence input files (:meth:`mot_bench.plugins.Tracker.input_files`) must
    exist and parse (:meth:`~mot_bench.plugins.Tracker.read_input`).
    """
    for seq in seqs:
        for tracker in trackers:
            check_tracker_inputs(tracker, seq)
        if score and seq.gt_path.is_file():
            read_gt(seq, min_cols=gt_min_cols)
        for kind, path in _declared_inputs(detector, "detector", seq):
            file_format = kind.split()[-1]  # "det", "gt", or a longer kind ending in one ("looser-NMS det")
            if kind == "gt":
                read_gt(seq)
            elif file_format in MIN_COLS:
                read_mot_file(path, file_format, seq_length=seq.length, length_from=length_source(seq))
        if getattr(detector, "needs_images", False):
            check_images(seq)


def check_tracker_inputs(tracker, seq: SeqInfo) -> None:
    """A tracker's per-sequence input files for ``seq``: each present and parsed by the tracker's reader."""
    for kind, path in _declared_inputs(tracker, "tracker", seq):
        type(tracker).read_input(kind, path)


def _declared_inputs(plugin, role: str, seq: SeqInfo) -> Iterator[tuple[str, Path]]:
    """The per-sequence input files a detector or tracker declares (``input_files``), each checked to exist."""
    files = plugin.input_files(seq) if hasattr(plugin, "input_files") else {}
    for kind, path in files.items():
        path = Path(path)
        if not path.is_file():
            raise InputCheckError(path, f"no such file; {role} {getattr(plugin, 'name', '?')!r} reads its {kind} "
                                        f"file for sequence {seq.name} here")
        yield kind, path
