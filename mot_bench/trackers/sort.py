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
from mot_bench.trackers.common.kalman import SortKalmanBank, sort_bboxes_to_z, sort_x_to_bbox, sort_xs_to_bboxes
from mot_bench.trackers.common.matching import sort_associate
from mot_bench.types import Detections, Frame, SeqInfo, Tracks


class _SortTrack:
    """A read-only view of one track (``KalmanBoxTracker``'s bookkeeping and filter state)."""

    __slots__ = ("id", "time_since_update", "hits", "hit_streak", "age", "x", "P")

    def __init__(self, **fields) -> None:
        for k, v in fields.items():
            setattr(self, k, v)

    def state(self) -> np.ndarray:
        return sort_x_to_bbox(self.x)


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

    # The tracks live in arrays (one row per track, in the original's list order): the filters in
    # a SortKalmanBank, the bookkeeping in int arrays. ``tracks`` gives per-track views.
    _kf: SortKalmanBank | None = None

    @property
    def tracks(self) -> list[_SortTrack]:
        if self._kf is None:
            return []
        return [
            _SortTrack(id=int(i), time_since_update=int(t), hits=int(h), hit_streak=int(s), age=int(a), x=x, P=P)
            for i, t, h, s, a, x, P in zip(self._ids, self._tsu, self._hits, self._streak, self._age,
                                           self._kf.x.copy(), self._kf.P.copy(), strict=True)
        ]

    @tracks.setter
    def tracks(self, value: list) -> None:
        if value:
            raise ValueError("sort: tracks can only be cleared")
        self._kf = SortKalmanBank()
        self._ids = np.zeros(0, dtype=np.int64)
        self._tsu = np.zeros(0, dtype=np.int64)
        self._hits = np.zeros(0, dtype=np.int64)
        self._streak = np.zeros(0, dtype=np.int64)
        self._age = np.zeros(0, dtype=np.int64)

    def reset(self, seq: SeqInfo | None = None) -> None:
        self.tracks = []
        self.frame_count = 0
        self._next_id = 0

    def _keep(self, mask: np.ndarray) -> None:
        self._kf.keep(mask)
        self._ids, self._tsu = self._ids[mask], self._tsu[mask]
        self._hits, self._streak, self._age = self._hits[mask], self._streak[mask], self._age[mask]

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        dets = np.asarray(detections.tlbr, dtype=np.float64).reshape(-1, 4)
        self.frame_count += 1
        if self._kf is None:  # a constructor that did not clear ``tracks``
            self.tracks = []
        kf = self._kf

        # Predict every track; a track whose predicted box has NaN is dropped.
        kf.predict()
        self._age += 1
        self._streak[self._tsu > 0] = 0
        self._tsu += 1
        trks = sort_xs_to_bboxes(kf.x)
        bad = np.isnan(trks).any(axis=1)
        if bad.any():
            trks = trks[~bad]
            self._keep(~bad)

        matched, unmatched_dets, _ = sort_associate(dets, trks, self.iou_threshold)
        if len(matched):
            t = matched[:, 1]
            self._tsu[t] = 0
            self._hits[t] += 1
            self._streak[t] += 1
            kf.update(t, sort_bboxes_to_z(dets[matched[:, 0]]))
        if len(unmatched_dets):
            n = len(unmatched_dets)
            kf.add(sort_bboxes_to_z(dets[unmatched_dets]))
            self._ids = np.concatenate([self._ids, np.arange(self._next_id, self._next_id + n)])
            zeros = np.zeros(n, dtype=np.int64)
            self._tsu = np.concatenate([self._tsu, zeros])
            self._hits = np.concatenate([self._hits, zeros])
            self._streak = np.concatenate([self._streak, zeros])
            self._age = np.concatenate([self._age, zeros])
            self._next_id += n

        # The original walks the list backwards, reporting and deleting as it goes; the report
        # order is therefore newest track first.
        report = (self._tsu < 1) & ((self._streak >= self.min_hits) | (self.frame_count <= self.min_hits))
        rows = np.flatnonzero(report)[::-1]
        out = Tracks(sort_xs_to_bboxes(kf.x[rows]), self._ids[rows] + 1, np.ones(len(rows)))
        alive = self._tsu <= self.max_age
        if not alive.all():
            self._keep(alive)
        return out
