"""ByteTrack (Zhang et al. 2022), decision for decision as ifzhang/ByteTrack ``byte_tracker.py``.

What ByteTrack shares with FairMOT's JDE tracker (the track object and the end-of-frame
bookkeeping) lives in :mod:`trackers.common.jde`.

Association per frame (``update``):
1. detections with score > ``track_thresh`` vs. confirmed + lost tracks (Kalman-predicted):
   IoU distance (+1 pixel convention) fused with the detection score unless ``mot20``,
   ``lap`` assignment with ``match_thresh``;
2. detections with 0.1 < score < ``track_thresh`` vs. the still unmatched *tracked* tracks:
   plain IoU distance, threshold 0.5; tracked tracks left over become lost;
3. remaining high detections vs. unconfirmed tracks (IoU, score fusion unless ``mot20``, 0.7);
   unconfirmed tracks left over are removed;
4. remaining high detections with score >= ``track_thresh + 0.1`` start new tracks;
5. lost tracks older than ``int(frame_rate / 30 * track_buffer)`` frames are removed.
The reported boxes pass the filter of ByteTrack's demo/evaluator: area > ``min_box_area`` and
w/h <= ``aspect_ratio_thresh``.

Defaults are those of the official MOT17 evaluation, ``tools/track.py``: track_thresh 0.6,
match_thresh 0.9, track_buffer 30, min_box_area 100, aspect ratio 1.6, mot20 off. Its evaluator
(``yolox/evaluators/mot_evaluator.py``) builds the tracker with frame rate 30 and sets track_buffer
14 for MOT17-05/06 and 25 for MOT17-13/14, i.e. the lost-track buffer equals each sequence's frame
rate; taking the frame rate from the sequence (``frame_rate`` none) gives exactly those buffers. Its
per-sequence track_thresh overrides concern test sequences (MOT17-01/06/12/14, MOT20-06/08) and are
not applied. Preset ``demo`` gives ``tools/demo_track.py``'s values (track_thresh 0.5, match_thresh
0.8, min_box_area 10), this project's defaults before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.types import Detections
from trackers.common.jde import JDEStyleTracker, STrack, TrackState, joint_stracks, tlbr_to_tlwh64, track_iou_distance
from trackers.common.matching import fuse_score, linear_assignment


@dataclass
class ByteTrackOptions:
    preset: Literal["mot17", "demo"] = option(
        "mot17", "named defaults: mot17 = tools/track.py (MOT17 evaluation), demo = tools/demo_track.py "
        "(track_thresh 0.5, match_thresh 0.8, min_box_area 10); options given explicitly override it")
    track_thresh: float = option(0.6, "high-score threshold: first association and (+0.1) new tracks",
                                 range=(0.1, 0.9), bounds=(0.0, 1.0))
    low_thresh: float = option(0.1, "low-score floor of the second association (fixed 0.1 in the official code)",
                               range=(0.05, 0.4), bounds=(0.0, 1.0))
    match_thresh: float = option(0.9, "first-association threshold on the (score-fused) IoU distance",
                                 range=(0.5, 0.99), bounds=(0.0, 1.0))
    track_buffer: int = option(30, "frames a lost track is kept, at 30 fps (scaled by frame rate / 30)",
                               range=(10, 120), bounds=(0, None))
    mot20: bool = option(False, "MOT20 mode: no score fusion in the IoU distances")
    min_box_area: float = option(100.0, "output filter: report boxes with w*h > this", range=(0.0, 400.0),
                                 bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               range=(1.0, 3.0), bounds=(0.0, None))
    frame_rate: float | None = option(None, "frame rate for the lost-track buffer (none: the sequence's)",
                                      bounds=(0.0, None))

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "mot17": {},
        "demo": {"track_thresh": 0.5, "match_thresh": 0.8, "min_box_area": 10.0},
    }


class ByteTracker(JDEStyleTracker):
    """BYTE association: high-score boxes first, then low-score boxes keep tracked objects alive."""

    name = "bytetrack"
    needs_embeddings = False
    motion_only = True
    Options = ByteTrackOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.det_thresh = self.track_thresh + 0.1
        self._reset_state(None)

    def step(self, detections: Detections) -> list[STrack]:
        """One official ``BYTETracker.update``; returns the activated tracks before the output filter."""
        self.frame_id += 1
        activated, refind, lost, removed = [], [], [], []
        scores = detections.scores
        tlwh = tlbr_to_tlwh64(detections.tlbr)
        remain = scores > self.track_thresh
        second = np.logical_and(scores > self.low_thresh, scores < self.track_thresh)
        dets = [STrack(b, s) for b, s in zip(tlwh[remain], scores[remain], strict=True)]
        dets_second = [STrack(b, s) for b, s in zip(tlwh[second], scores[second], strict=True)]

        unconfirmed, tracked = self._split_tracked()

        # Step 2: first association, high-score detections vs. confirmed and lost tracks.
        pool = joint_stracks(tracked, self.lost_stracks)
        STrack.multi_predict(pool)
        dists = track_iou_distance(pool, dets)
        if not self.mot20:
            dists = fuse_score(dists, np.array([d.score for d in dets]))
        matches, u_track, u_det = linear_assignment(dists, thresh=self.match_thresh)
        self._apply_matches(pool, dets, matches, activated, refind)

        # Step 3: second association, low-score detections vs. still unmatched tracked tracks.
        r_tracked = [pool[i] for i in u_track if pool[i].state == TrackState.TRACKED]
        dists = track_iou_distance(r_tracked, dets_second)
        matches, u_track, _ = linear_assignment(dists, thresh=0.5)
        self._apply_matches(r_tracked, dets_second, matches, activated, refind)
        self._mark_lost(r_tracked, u_track, lost)

        # Unconfirmed tracks (one frame old) vs. the remaining high-score detections.
        dets = [dets[i] for i in u_det]
        dists = track_iou_distance(unconfirmed, dets)
        if not self.mot20:
            dists = fuse_score(dists, np.array([d.score for d in dets]))
        u_det = self._match_unconfirmed(unconfirmed, dets, dists, activated, removed)

        # Step 4: new tracks from confident leftovers.
        self._start_new(dets, u_det, activated)

        return self._finish_frame(activated, refind, lost, removed)
