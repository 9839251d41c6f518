"""``mot-bench show``: a run's frames with its boxes and the scoring's own errors, as one self-contained HTML
viewer (a scrubber over frames embedded as reduced JPEGs) and/or a video.

Each frame shows the predicted boxes coloured by id with their trails, the gt boxes, and that frame's
events from the scoring (:mod:`mot_bench.metrics.explain`): a missed person (FN, red), a false box (FP,
red cross), a switch (IDSW: the box outlined in yellow, old id -> new id), a track resumed after a gap
(FRAG). Boxes the kit ignores (gt it does not score, tracker boxes it removes for matching a distractor)
are drawn faint. ``--compare RUN2`` puts the second run's panel beside the first, for the same frames.

Where the sequence has no images (MOT16/MOT17 here) the panel is a neutral canvas of the sequence's size,
so the viewer works on every benchmark. Frames are read, drawn and written one at a time (the HTML and the
video are streamed to temporary files, renamed when complete): memory does not grow with the sequence.
"""

from __future__ import annotations

import base64
import colorsys
import html
import json
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from mot_bench.data.frames import decode_image
from mot_bench.metrics.common import load_results
from mot_bench.metrics.explain import Explanation, explain_results, is_current, read_explanation
from mot_bench.reports.explain import previous_pred, sequence_infos
from mot_bench.reports.runs import ReportError, RunSummary
from mot_bench.types import SeqInfo

CANVAS_BGR = (52, 46, 40)  # neutral dark slate where there are no images
GT_BGR = (225, 225, 225)
IGNORED_BGR = (140, 140, 140)
ERROR_BGR = (40, 40, 230)
SWITCH_BGR = (0, 215, 255)
VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}  # opencv-python's FFmpeg has no H.264 encoder


def id_colour(pred: int) -> tuple[int, int, int]:
    """A stable BGR colour per predicted id: golden-angle hues (the report's timelines use the same rule)."""
    r, g, b = colorsys.hls_to_rgb(((pred * 137.508) % 360) / 360, 0.47, 0.62)
    return int(255 * b), int(255 * g), int(255 * r)


def parse_frames(spec: str | None, seq: SeqInfo) -> tuple[int, int]:
    """``a:b`` (inclusive, the sequence's own frame numbers; either end may be left out) inside its range."""
    if not spec:
        return seq.first_frame, seq.last_frame
    lo, sep, hi = spec.partition(":")
    try:
        first = int(lo) if lo.strip() else seq.first_frame
        last = int(hi) if sep and hi.strip() else (seq.last_frame if sep else first)
    except ValueError:
        raise ReportError(f"--frames {spec!r}: expected A:B with frame numbers, e.g. 300:400") from None
    if not seq.first_frame <= first <= last <= seq.last_frame:
        raise ReportError(f"--frames {spec!r}: must lie inside the run's frames {seq.first_frame}:{seq.last_frame} "
                          f"of {seq.name}, first <= last")
    return first, last


@dataclass
class Side:
    """One run's view of one sequence: its rows, the gt, its events, indexed by frame."""

    run: RunSummary
    seq: SeqInfo
    expl: Explanation
    pred: np.ndarray  # result rows (frame, id, x, y, w, h, ...), sorted by frame
    gt: np.ndarray
    trail: int
    trails: dict[int, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ev = self.expl.events
        order = np.argsort(ev["frame"].to_numpy(), kind="stable")
        self.ev_frame = ev["frame"].to_numpy()[order]
        self.ev_kind = ev["kind"].astype(str).to_numpy()[order]
        self.ev_gt = ev["gt_id"].to_numpy()[order]
        self.ev_pred = ev["pred_id"].to_numpy()[order]
        self.ev_iou = ev["iou"].to_numpy()[order]
        self.prev = previous_pred(ev[ev["kind"] == "TP"])

    def rows_of(self, rows: np.ndarray, frame: int) -> np.ndarray:
        lo, hi = np.searchsorted(rows[:, 0], [frame, frame + 1])
        return rows[lo:hi]

    def events_of(self, frame: int) -> list[tuple[str, int, int, float]]:
        lo, hi = np.searchsorted(self.ev_frame, [frame, frame + 1])
        return [(self.ev_kind[i], int(self.ev_gt[i]), int(self.ev_pred[i]), float(self.ev_iou[i]))
                for i in range(lo, hi)]

    def start_trails(self, first: int) -> None:
        """Trails as they stand just before ``first`` (so a clip starting mid-sequence has them too)."""
        self.trails = {}
        for f in range(max(self.seq.first_frame, first - self.trail), first):
            self._advance(f)

    def _advance(self, frame: int) -> None:
        for r in self.rows_of(self.pred, frame):
            pid = int(r[1])
            self.trails.setdefault(pid, deque(maxlen=self.trail)).append((frame, r[2] + r[4] / 2, r[3] + r[5]))
        stale = [pid for pid, pts in self.trails.items() if pts and pts[-1][0] < frame - self.trail]
        for pid in stale:
            del self.trails[pid]


def load_side(run: RunSummary, seq_name: str, data: str | Path | None, trail: int) -> Side:
    if seq_name not in run.sequences:
        raise ReportError(f"{run.path}: no sequence {seq_name} (it has {', '.join(run.sequences)})")
    seqs = [s for s in sequence_infos(run, data) if s.name == seq_name]
    seq = seqs[0]
    results = run.path / "results" / f"{seq_name}.txt"
    if is_current(run.path / "events", seq_name, results):
        expl = read_explanation(run.path / "events", seq_name)
    else:
        bench = run.benchmark or (run.config.get("data") or {}).get("benchmark") or None
        expl = explain_results([seq], run.path / "results", bench)[seq_name]
    pred = load_results(results, seq)
    pred = pred[np.argsort(pred[:, 0], kind="stable")]
    from mot_bench.data.gt import read_gt

    gt = read_gt(seq, min_cols=6).rows
    gt = gt[np.argsort(gt[:, 0], kind="stable")]
    return Side(run, seq, expl, pred, gt, trail)


def _box(row: np.ndarray, scale: float) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y, w, h = (float(v) * scale for v in row[2:6])
    return (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h)))


def _label(img: np.ndarray, text: str, org: tuple[int, int], colour: tuple[int, int, int], scale: float = 0.38) -> None:
    import cv2

    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = org[0], max(h + 2, org[1])
    cv2.rectangle(img, (x, y - h - 3), (x + w + 3, y + base - 1), colour, -1)
    luma = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (0, 0, 0) if luma > 140 else (255, 255, 255)
    cv2.putText(img, text, (x + 1, y - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 1, cv2.LINE_AA)


def draw_panel(side: Side, frame: int, scale: float, title: str) -> tuple[np.ndarray, list[str]]:
    """One run's panel of one frame, and the frame's events as text."""
    import cv2

    seq = side.seq
    height, width = int(round(seq.height * scale)), int(round(seq.width * scale))
    if seq.image_path(frame).is_file():
        img = cv2.resize(decode_image(seq, frame), (width, height), interpolation=cv2.INTER_AREA)
    else:
        img = np.empty((height, width, 3), np.uint8)
        img[:] = CANVAS_BGR
    side._advance(frame)
    events = side.events_of(frame)
    scored_gt = {g for k, g, _, _ in events if k in ("TP", "FN")}
    scored_pred = {p for k, _, p, _ in events if k in ("TP", "FP")}
    kinds_by_pred: dict[int, set[str]] = {}
    for k, _, p, _ in events:
        kinds_by_pred.setdefault(p, set()).add(k)
    missed = {g: iou for k, g, _, iou in events if k == "FN"}
    for r in side.rows_of(side.gt, frame):
        gid = int(r[1])
        p0, p1 = _box(r, scale)
        if gid in missed:
            cv2.rectangle(img, p0, p1, ERROR_BGR, 2)
            _label(img, f"FN {gid}", (p0[0], p1[1] + 12), ERROR_BGR)
        elif gid in scored_gt:
            cv2.rectangle(img, p0, p1, GT_BGR, 1)
        else:
            cv2.rectangle(img, p0, p1, IGNORED_BGR, 1)
    for pid, pts in side.trails.items():
        if len(pts) > 1:
            line = np.array([[x * scale, y * scale] for _, x, y in pts], dtype=np.int32)
            cv2.polylines(img, [line], False, id_colour(pid), 1, cv2.LINE_AA)
    for r in side.rows_of(side.pred, frame):
        pid = int(r[1])
        p0, p1 = _box(r, scale)
        kinds = kinds_by_pred.get(pid, set())
        if pid not in scored_pred:
            cv2.rectangle(img, p0, p1, IGNORED_BGR, 1)
            continue
        colour = id_colour(pid)
        if "IDSW" in kinds:
            cv2.rectangle(img, (p0[0] - 2, p0[1] - 2), (p1[0] + 2, p1[1] + 2), SWITCH_BGR, 3)
        cv2.rectangle(img, p0, p1, colour, 2)
        text = str(pid)
        if "FP" in kinds:
            cv2.line(img, p0, p1, ERROR_BGR, 2)
            cv2.line(img, (p0[0], p1[1]), (p1[0], p0[1]), ERROR_BGR, 2)
            text += " FP"
        _label(img, text, (p0[0], p0[1] - 1), colour)
    texts = []
    counts = {k: 0 for k in ("TP", "FP", "FN", "IDSW", "FRAG")}
    for k, g, p, iou in events:
        counts[k] += 1
        if k == "FN":
            texts.append(f"FN: gt {g} missed (best IoU {iou:.2f})")
        elif k == "FP":
            texts.append(f"FP: predicted {p} matches no gt (best IoU {iou:.2f})")
        elif k == "IDSW":
            texts.append(f"IDSW: gt {g} switched {side.prev.get((frame, g), -1)} -> {p} (IoU {iou:.2f})")
            p0, p1 = _box(next((r for r in side.rows_of(side.pred, frame) if int(r[1]) == p), np.zeros(6)), scale)
            _label(img, f"SW {side.prev.get((frame, g), -1)}->{p}", (p0[0], p1[1] + 12), SWITCH_BGR)
        elif k == "FRAG":
            texts.append(f"FRAG: gt {g} tracked again after a gap (predicted {p})")
    head = (f"{title}  {seq.name}  frame {frame}  TP {counts['TP']}  FP {counts['FP']}  FN {counts['FN']}"
            + (f"  IDSW {counts['IDSW']}" if counts["IDSW"] else ""))
    _label(img, head, (4, 16), (30, 30, 30), 0.45)
    return img, texts


def compose(sides: list[Side], frame: int, scale: float) -> tuple[np.ndarray, list[list[str]]]:
    panels, texts = [], []
    for side in sides:
        img, t = draw_panel(side, frame, scale, side.run.label)
        panels.append(img)
        texts.append(t)
    if len(panels) == 1:
        return panels[0], texts
    gap = np.full((panels[0].shape[0], 6, 3), 255, np.uint8)
    return np.concatenate([panels[0], gap, *panels[1:]], axis=1), texts


# --------------------------------------------------------------------------------------------------
# writers: both stream to a temporary file beside the target and rename it when complete


class _Temporary:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp" + self.path.suffix,
                                   dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)

    def commit(self) -> None:
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.tmp.exists():
            self.tmp.unlink()


class HtmlViewer(_Temporary):
    """The viewer page, written frame by frame (the JPEGs go straight to disk)."""

    def __init__(self, path: Path, quality: int) -> None:
        super().__init__(path)
        self.quality = quality
        self.fh: IO[str] = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.frames: list[int] = []
        self.events: list[list[list[str]]] = []
        from mot_bench.reports.report import template_env

        page = template_env().get_template("viewer.html.j2").render(split_here="@@FRAMES@@")
        self.head, self.tail_template = page.split("@@FRAMES@@")
        self.fh.write(self.head)

    def add(self, frame: int, img: np.ndarray, texts: list[list[str]]) -> None:
        import cv2

        ok, jpg = cv2.imencode(".jpg", img, [int(cv2.IMWRITE_JPEG_QUALITY), self.quality])
        if not ok:
            raise ReportError(f"frame {frame}: JPEG encoding failed")
        data = base64.b64encode(jpg.tobytes()).decode("ascii")
        self.fh.write(f'<img class="frame" data-frame="{frame}" alt="frame {frame}" loading="lazy" '
                      f'src="data:image/jpeg;base64,{data}">\n')
        self.frames.append(frame)
        self.events.append(texts)

    def close(self, meta: dict[str, Any]) -> None:
        meta = {**meta, "frames": self.frames, "events": self.events}
        payload = json.dumps(meta, separators=(",", ":")).replace("</", "<\\/")
        self.fh.write(self.tail_template.replace("@@META@@", payload))
        self.fh.close()
        self.commit()

    def abort(self) -> None:
        self.fh.close()
        self.discard()


class VideoFile(_Temporary):
    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        import cv2

        super().__init__(path)
        codec = VIDEO_CODECS.get(self.path.suffix.lower())
        if codec is None:
            raise ReportError(f"--video {path}: unsupported extension; use .mp4 (MPEG-4 Part 2) or .avi (Motion JPEG)")
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter.fourcc(*codec), float(fps), size)
        if not self.writer.isOpened():
            self.discard()
            raise ReportError(f"--video {path}: OpenCV cannot write {codec} here (cv2 {cv2.__version__})")
        self.size = size

    def add(self, frame: int, img: np.ndarray, texts: list[list[str]]) -> None:
        self.writer.write(img)

    def close(self, meta: dict[str, Any]) -> None:
        self.writer.release()
        self.commit()

    def abort(self) -> None:
        self.writer.release()
        self.discard()


def frames_rendered(sides: list[Side], first: int, last: int, scale: float) -> Iterator[tuple[int, np.ndarray,
                                                                                            list[list[str]]]]:
    for side in sides:
        side.start_trails(first)
    for frame in range(first, last + 1):
        img, texts = compose(sides, frame, scale)
        yield frame, img, texts


def show(run: RunSummary, seq_name: str, compare: RunSummary | None = None, frames: str | None = None,
         html_out: Path | None = None, video: Path | None = None, max_width: int = 960, quality: int = 70,
         trail: int = 30, data: str | Path | None = None) -> dict[str, str]:
    """Write the viewer (``html_out``) and/or the video (``video``); return {kind: path}."""
    if html_out is None and video is None:
        raise ReportError("nothing to write: give an HTML path or --video")
    if not 1 <= quality <= 100:
        raise ReportError(f"--quality {quality}: expected 1..100")
    sides = [load_side(run, seq_name, data, trail)]
    if compare is not None:
        other = load_side(compare, seq_name, data, trail)
        if (other.seq.first_frame, other.seq.last_frame) != (sides[0].seq.first_frame, sides[0].seq.last_frame):
            raise ReportError(f"{compare.path}: scored frames {other.seq.first_frame}..{other.seq.last_frame} of "
                              f"{seq_name}, {run.path} {sides[0].seq.first_frame}..{sides[0].seq.last_frame}")
        sides.append(other)
    seq = sides[0].seq
    first, last = parse_frames(frames, seq)
    scale = min(1.0, max_width / max(1, seq.width))
    panel_w = int(round(seq.width * scale))
    size = (panel_w * len(sides) + 6 * (len(sides) - 1), int(round(seq.height * scale)))
    sinks: list[Any] = []
    try:
        if html_out is not None:
            sinks.append(HtmlViewer(Path(html_out), quality))
        if video is not None:
            sinks.append(VideoFile(Path(video), seq.fps, size))
        for frame, img, texts in frames_rendered(sides, first, last, scale):
            for sink in sinks:
                sink.add(frame, img, texts)
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    images = seq.image_path(first).is_file()
    meta = {"seq": seq.name, "runs": [s.run.label for s in sides], "first": first, "last": last,
            "fps": seq.fps, "images": images, "width": size[0], "height": size[1],
            "title": f"{seq.name}: " + " vs ".join(html.escape(s.run.label) for s in sides)}
    out = {}
    for sink in sinks:
        sink.close(meta)
        out["html" if isinstance(sink, HtmlViewer) else "video"] = str(sink.path)
    return out
