"""FairMOT's tracker, decision for decision as ``JDETracker.update`` in ifzhang/FairMOT
``src/lib/tracker/multitracker.py`` (the model part lives in :mod:`mot_bench.detectors.fairmot`).

Per frame:
0. keep detections with score > ``conf_thres`` (0.4);
1. confirmed + lost tracks (Kalman-predicted) vs. detections: cosine distance between the track's
   smoothed embedding and the detection's, gated by the chi2 0.95 Mahalanobis gate and fused with
   it (``fuse_motion``, lambda 0.98); assignment threshold 0.4;
2. the still unmatched *tracked* tracks vs. the remaining detections: IoU distance (+1 pixel
   convention), threshold 0.5; tracked tracks left over become lost;
3. unconfirmed tracks vs. what remains: IoU, 0.7; unconfirmed tracks left over are removed;
4. remaining detections with score >= ``conf_thres`` start tracks;
5. lost tracks older than ``int(frame_rate / 30 * track_buffer)`` frames are removed, duplicates
   between tracked and lost (IoU > 0.85) dropped (shared with ByteTrack, see :mod:`mot_bench.trackers.common.jde`).
Embeddings are smoothed with alpha 0.9 and re-normalised. The reported boxes pass ``src/track.py``'s
filter: area > ``min_box_area`` (100) and not w/h > 1.6.

``association`` reproduces the FairMOT paper's association ablation without retraining: ``reid_kalman`` is
the official step 1 above; ``iou_kalman`` replaces the embedding distance by the IoU distance to the
Kalman-predicted boxes (threshold 0.5, as step 2); ``iou`` drops the motion model as well: no prediction,
and a matched track's state is set to its new detection's box, so tracks are compared by their last box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.trackers.common.jde import (
    AppearanceSTrack,
    JDEStyleTracker,
    STrack,
    TrackState,
    joint_stracks,
    tlbr_to_tlwh64,
    track_iou_distance,
)
from mot_bench.trackers.common.matching import embedding_distance, fuse_motion, linear_assignment
from mot_bench.types import Detections


class FeatureSTrack(AppearanceSTrack):
    """STrack with FairMOT's appearance state: current and exponentially smoothed embedding."""

    def __init__(self, tlwh: np.ndarray, score: float, feat: np.ndarray, motion: bool = True) -> None:
        super().__init__(tlwh, score)
        self.smooth_feat: np.ndarray | None = None
        self.curr_feat: np.ndarray | None = None
        self.motion = motion  # False: no motion model, the state is the last detection's box (association=iou)
        self.update_features(np.array(feat, dtype=np.float32, copy=True))

    def re_activate(self, new_track: STrack, frame_id: int) -> None:
        """Found again: Kalman and feature update; FairMOT keeps the track's old score here."""
        self.mean, self.covariance = self.kalman_filter.update(
            self.mean, self.covariance, self.tlwh_to_xyah(new_track.tlwh)
        )
        self._pin(new_track)
        self.update_features(new_track.curr_feat)
        self.tracklet_len = 0
        self.state = TrackState.TRACKED
        self.is_activated = True
        self.frame_id = frame_id

    def update(self, new_track: STrack, frame_id: int) -> None:
        super().update(new_track, frame_id)
        self._pin(new_track)
        self.update_features(new_track.curr_feat)

    def _pin(self, det: STrack) -> None:
        """Without a motion model the track is where its detection is (a fresh state at that box)."""
        if not self.motion:
            self.mean, self.covariance = self.kalman_filter.initiate(self.tlwh_to_xyah(det.tlwh))


@dataclass
class FairMOTTrackerOptions:
    conf_thres: float = option(0.4, "detections with score > this are tracked; >= this start tracks",
                               range=(0.1, 0.8), bounds=(0.0, 1.0))
    track_buffer: int = option(30, "frames a lost track is kept, at 30 fps (scaled by frame rate / 30)",
                               range=(10, 120), bounds=(0, None))
    min_box_area: float = option(100.0, "output filter: report boxes with w*h > this", range=(0.0, 400.0),
                                 bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               range=(1.0, 3.0), bounds=(0.0, None))
    frame_rate: float | None = option(None, "frame rate for the lost-track buffer (none: the sequence's)",
                                      bounds=(0.0, None))
    association: Literal["reid_kalman", "iou_kalman", "iou"] = option(
        "reid_kalman", "first association: re-ID embeddings gated and fused with the Kalman motion (official); "
        "iou_kalman: IoU with the Kalman-predicted boxes; iou: IoU with each track's last box, no motion model "
        "(the paper's association ablation)")


class FairMOTTracker(JDEStyleTracker):
    """JDE-style association on FairMOT embeddings (needs a detector that provides them)."""

    name = "fairmot"
    needs_embeddings = True
    motion_only = False
    Options = FairMOTTrackerOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.det_thresh = self.conf_thres
        self._reset_state(None)

    def step(self, detections: Detections) -> list[STrack]:
        """One official ``JDETracker.update`` after the network; returns the activated tracks."""
        if detections.embeddings is None and len(detections):
            raise ValueError(
                "fairmot tracker: the detector provides no embeddings (re-ID features); use a detector "
                "that does: 'fairmot' (the FairMOT model) or 'precomputed' (detections + embeddings .npy)"
            )
        self.frame_id += 1
        activated, refind, lost, removed = [], [], [], []

        keep = detections.scores > self.conf_thres
        tlwh = tlbr_to_tlwh64(detections.tlbr[keep])
        scores = detections.scores[keep]
        feats = detections.embeddings[keep] if detections.embeddings is not None else np.zeros((0, 1), np.float32)
        motion = self.association != "iou"
        dets = [FeatureSTrack(b, s, f, motion) for b, s, f in zip(tlwh, scores, feats, strict=True)]

        unconfirmed, tracked = self._split_tracked()

        # Step 2: appearance + motion association of confirmed and lost tracks.
        pool = joint_stracks(tracked, self.lost_stracks)
        if motion:
            STrack.multi_predict(pool)
        if self.association == "reid_kalman":
            dists = embedding_distance([t.smooth_feat for t in pool], [d.curr_feat for d in dets])
            if dists.size:
                measurements = np.asarray([d.to_xyah() for d in dets])
                dists = fuse_motion(
                    self.kalman_filter, dists, [t.mean for t in pool], [t.covariance for t in pool], measurements
                )
            matches, u_track, u_det = linear_assignment(dists, thresh=0.4)
        else:  # the association ablation: boxes only
            matches, u_track, u_det = linear_assignment(track_iou_distance(pool, dets), thresh=0.5)
        self._apply_matches(pool, dets, matches, activated, refind)

        # Step 3: IoU association of the remaining tracked tracks.
        dets = [dets[i] for i in u_det]
        r_tracked = [pool[i] for i in u_track if pool[i].state == TrackState.TRACKED]
        dists = track_iou_distance(r_tracked, dets)
        matches, u_track, u_det = linear_assignment(dists, thresh=0.5)
        self._apply_matches(r_tracked, dets, matches, activated, refind)
        self._mark_lost(r_tracked, u_track, lost)

        # Unconfirmed tracks vs. what is left.
        dets = [dets[i] for i in u_det]
        dists = track_iou_distance(unconfirmed, dets)
        u_det = self._match_unconfirmed(unconfirmed, dets, dists, activated, removed)

        # Step 4: new tracks.
        self._start_new(dets, u_det, activated)

        return self._finish_frame(activated, refind, lost, removed)
