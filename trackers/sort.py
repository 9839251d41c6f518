"""SORT (Bewley et al. 2016), decision for decision as abewley/sort ``sort.py``.

Per frame: predict every track (a track whose predicted box has NaN is dropped), associate with
SORT's IoU (no +1) and assignment, update matched tracks, start a track for every unmatched
detection, report a track when it was updated this frame and (its hit streak >= ``min_hits`` or
the sequence is still in its first ``min_hits`` frames), and delete tracks unmatched for more than
``max_age`` frames. Like the original, SORT uses every detection it is given (no score threshold),
reports the filter's posterior box, writes confidence 1 and numbers tracks from 1 (id + 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.types import Detections, Frame, SeqInfo, Tracks
from trackers.common.kalman import SortKalmanFilter, sort_bbox_to_z, sort_x_to_bbox
from trackers.common.matching import sort_associate


class _SortTrack:
    """``KalmanBoxTracker``: one object, its filter and hit bookkeeping."""

    __slots__ = ("kf", "id", "time_since_update", "hits", "hit_streak", "age")

    def __init__(self, bbox: np.ndarray, track_id: int) -> None:
        self.kf = SortKalmanFilter(bbox)
        self.id = track_id
        self.time_since_update = 0
        self.hits = 0
        self.hit_streak = 0
        self.age = 0

    def update(self, bbox: np.ndarray) -> None:
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.kf.update(sort_bbox_to_z(bbox))

    def predict(self) -> np.ndarray:
        x = self.kf.x
        if (x[6] + x[2]) <= 0:  # keep the area from going negative
            x[6] *= 0.0
        self.kf.predict()
        self.age += 1
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return sort_x_to_bbox(self.kf.x)

    def state(self) -> np.ndarray:
        return sort_x_to_bbox(self.kf.x)


@dataclass
class SortOptions:
    max_age: int = option(1, "frames a track survives without a match", range=(1, 60), bounds=(0, None))
    min_hits: int = option(3, "consecutive hits before a track is reported (after the first min_hits frames)",
                           range=(0, 10), bounds=(0, None))
    iou_threshold: float = option(0.3, "minimum IoU of a detection-track match", range=(0.05, 0.7),
                                  bounds=(0.0, 1.0))


class SortTracker(Tracker):
    """SORT with the original defaults (max_age 1, min_hits 3, IoU 0.3: sort.py's as run on MOT15)."""

    name = "sort"
    needs_embeddings = False
    motion_only = True
    Options = SortOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.tracks: list[_SortTrack] = []
        self.frame_count = 0
        self._next_id = 0

    def reset(self, seq: SeqInfo | None = None) -> None:
        self.tracks = []
        self.frame_count = 0
        self._next_id = 0

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        dets = np.asarray(detections.tlbr, dtype=np.float64).reshape(-1, 4)
        self.frame_count += 1

        trks = np.zeros((len(self.tracks), 4))
        to_del = []
        for t, trk in enumerate(self.tracks):
            pos = trk.predict()
            trks[t] = pos
            if np.any(np.isnan(pos)):
                to_del.append(t)
        if to_del:
            trks = np.delete(trks, to_del, axis=0)
            for t in reversed(to_del):
                self.tracks.pop(t)

        matched, unmatched_dets, _ = sort_associate(dets, trks, self.iou_threshold)
        for d, t in matched:
            self.tracks[t].update(dets[d])
        for d in unmatched_dets:
            self.tracks.append(_SortTrack(dets[d], self._next_id))
            self._next_id += 1

        rows: list[tuple[np.ndarray, int, float]] = []
        keep: list[_SortTrack] = []
        # The original walks the list backwards, reporting and deleting as it goes; the report
        # order is therefore newest track first.
        for trk in reversed(self.tracks):
            if trk.time_since_update < 1 and (trk.hit_streak >= self.min_hits or self.frame_count <= self.min_hits):
                rows.append((trk.state(), trk.id + 1, 1.0))
            if trk.time_since_update <= self.max_age:
                keep.append(trk)
        self.tracks = keep[::-1]
        return Tracks.from_list(rows)
