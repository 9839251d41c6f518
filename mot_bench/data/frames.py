"""Lazy frame decoding with a background prefetch thread, so JPEG decoding overlaps compute.

The main thread's wait for a frame is the honest ``read`` stage; the decode time spent in the
background is reported separately (``decode``) because it overlaps other stages.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from mot_bench.types import Frame, SeqInfo


class FrameError(RuntimeError):
    """A frame image that is missing or cannot be decoded."""


def decode_image(seq: SeqInfo, frame_id: int) -> np.ndarray:
    import cv2

    path = seq.image_path(frame_id)
    if not path.is_file():
        raise FrameError(f"{seq.name} frame {frame_id}: image {path} is missing")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameError(f"{seq.name} frame {frame_id}: cannot decode {path} (corrupt or not an image)")
    return image


def iter_frames(
    seq: SeqInfo, decode: bool = True, prefetch: int = 4, start: int | None = None
) -> Iterator[tuple[Frame, float]]:
    """Yield ``(frame, decode_seconds)`` for the split's frames; decode in a background thread.

    With ``decode=False`` no image is touched (detectors that read text files need no pixels).
    """
    first = seq.first_frame if start is None else start
    ids = range(first, seq.last_frame + 1)
    if not decode:
        for fid in ids:
            yield Frame(seq, fid, None), 0.0
        return
    q: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
    stop = threading.Event()

    def worker() -> None:
        for fid in ids:
            if stop.is_set():
                return
            t0 = time.perf_counter()
            try:
                item: tuple = (fid, decode_image(seq, fid), time.perf_counter() - t0)
            except BaseException as exc:  # hand the error to the consumer, who raises it in context
                item = (fid, exc, 0.0)
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item[1], BaseException):
                return

    thread = threading.Thread(target=worker, name=f"decode-{seq.name}", daemon=True)
    thread.start()
    try:
        for _ in ids:
            fid, image, seconds = q.get()
            if isinstance(image, BaseException):
                raise image
            yield Frame(seq, fid, image), seconds
    finally:
        stop.set()
        thread.join(timeout=5)
