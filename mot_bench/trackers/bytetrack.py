"""ByteTrack (Zhang et al. 2022), decision for decision as ifzhang/ByteTrack ``byte_tracker.py``.

What ByteTrack shares with FairMOT's JDE tracker (the track object and the end-of-frame
bookkeeping) lives in :mod:`mot_bench.trackers.common.jde`.

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
0.8, min_box_area 10), this project's defaults before. Preset ``mot20`` gives the README's MOT20 command
(``tools/track.py -f yolox_x_mix_mot20_ch.py --match_thresh 0.7 --mot20``): no score fusion, match_thresh
0.7, and frame rate 30, since for MOT20 the evaluator keeps track_buffer 30 (its else branch) and builds
the tracker at 30 fps whatever the sequence's rate (25 on MOT20); its track_thresh 0.3 for the test
sequences MOT20-06/08 is not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.trackers.common.jde import (
    JDEStyleTracker,
    STrack,
    TrackState,
    joint_stracks,
    multi_update_tracks,
    tlbr_to_tlwh64,
    tlbrs,
    tlwh_to_tlbr,
    tlwh_to_xyah,
    xyah_to_tlbr,
)
from mot_bench.trackers.common.matching import fuse_score, iou_distance, linear_assignment
from mot_bench.types import Detections


@dataclass
class ByteTrackOptions:
    preset: Literal["mot17", "demo", "mot20"] = option(
        "mot17", "named defaults: mot17 = tools/track.py (MOT17 evaluation), demo = tools/demo_track.py "
        "(track_thresh 0.5, match_thresh 0.8, min_box_area 10), mot20 = tools/track.py --mot20 --match_thresh 0.7 "
        "(no score fusion, frame rate 30); options given explicitly override it")
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
        "mot20": {"match_thresh": 0.7, "mot20": True, "frame_rate": 30.0},
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
        """One official ``BYTETracker.update``; returns the activated tracks before the output filter.

        Detections stay arrays (the official wraps each in an ``STrack``; here only those that
        start a track become one); the Kalman updates of each association run for all matched
        tracks at once (:func:`multi_update_tracks`), the boxes of a track list are computed at once.
        """
        self.frame_id += 1
        activated, refind, lost, removed = [], [], [], []
        scores = detections.scores
        tlwh = tlbr_to_tlwh64(detections.tlbr)
        remain = scores > self.track_thresh
        second = np.logical_and(scores > self.low_thresh, scores < self.track_thresh)
        d_tlwh, d_scores = tlwh[remain], scores[remain]
        d_tlbr = tlwh_to_tlbr(d_tlwh)
        s_tlwh, s_scores = tlwh[second], scores[second]

        unconfirmed, tracked = self._split_tracked()

        # Step 2: first association, high-score detections vs. confirmed and lost tracks.
        pool = joint_stracks(tracked, self.lost_stracks)
        predicted = STrack.multi_predict(pool)
        if predicted is None:
            predicted = (np.zeros((0, 8)), np.zeros((0, 8, 8)))
        pool_mean, pool_cov = predicted
        pool_tlbr = xyah_to_tlbr(pool_mean)
        dists = iou_distance(pool_tlbr, d_tlbr)
        if not self.mot20:
            dists = fuse_score(dists, d_scores)
        matches, u_track, u_det = linear_assignment(dists, thresh=self.match_thresh)
        self._apply(pool, matches, d_tlwh, d_scores, activated, refind, pool_mean, pool_cov)

        # Step 3: second association, low-score detections vs. still unmatched tracked tracks
        # (unmatched tracks kept their predicted states).
        r_idx = np.array([i for i in u_track if pool[i].state == TrackState.TRACKED], dtype=int)
        r_tracked = [pool[i] for i in r_idx]
        if len(r_idx) and len(s_tlwh):
            dists = iou_distance(pool_tlbr[r_idx], tlwh_to_tlbr(s_tlwh))
        else:
            dists = np.zeros((len(r_idx), len(s_tlwh)))
        matches, u_track, _ = linear_assignment(dists, thresh=0.5)
        self._apply(r_tracked, matches, s_tlwh, s_scores, activated, refind, pool_mean, pool_cov, r_idx)
        self._mark_lost(r_tracked, u_track, lost)

        # Unconfirmed tracks (one frame old) vs. the remaining high-score detections.
        if len(u_det) < len(d_tlwh):  # (u_det is sorted: all of them means unchanged)
            d_tlwh, d_scores, d_tlbr = d_tlwh[u_det], d_scores[u_det], d_tlbr[u_det]
        dists = iou_distance(tlbrs(unconfirmed), d_tlbr)
        if not self.mot20:
            dists = fuse_score(dists, d_scores)
        matches, u_unconfirmed, u_det = linear_assignment(dists, thresh=0.7)
        self._apply(unconfirmed, matches, d_tlwh, d_scores, activated, refind)
        for it in u_unconfirmed:
            unconfirmed[it].mark_removed()
            removed.append(unconfirmed[it])

        # Step 4: new tracks from confident leftovers. The official code (it needs numpy < 1.24: np.float in
        # matching.py) compares the float32 score with the Python float in float64 there, so a score of exactly
        # float32(0.7) does not start a track; numpy 2 would compare in float32 and start one.
        for inew in u_det:
            if float(d_scores[inew]) < self.det_thresh:
                continue
            track = STrack(d_tlwh[inew], d_scores[inew])
            track.activate(self.kalman_filter, self.frame_id, self._new_id())
            activated.append(track)

        return self._finish_frame(activated, refind, lost, removed)

    def _apply(self, tracks, matches, tlwh, scores, activated: list[STrack], refind: list[STrack],
               means: np.ndarray | None = None, covs: np.ndarray | None = None, rows=None) -> None:
        """Matched tracked tracks take the detection; matched lost tracks are re-activated.
        ``means``/``covs``: the states of ``tracks`` stacked (else read from the tracks), or, with
        ``rows``, of a list of which ``tracks`` are the rows ``rows``."""
        if len(matches) == 0:
            return
        it, idet = matches[:, 0], matches[:, 1]
        matched = [tracks[i] for i in it]
        if rows is not None:
            it = rows[it]
        was_tracked = [t.state == TrackState.TRACKED for t in matched]
        multi_update_tracks(self.kalman_filter, matched, tlwh_to_xyah(tlwh[idet]), scores[idet], self.frame_id,
                            None if means is None else means[it], None if covs is None else covs[it])
        for track, tracked in zip(matched, was_tracked, strict=True):
            (activated if tracked else refind).append(track)
