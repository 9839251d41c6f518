"""BoT-SORT (Aharon, Orfaig, Bobrovsky 2022), without re-ID by default and with it as ``with_reid``
(BoT-SORT-ReID), decision for decision as the official tracker (NirAharon/BoT-SORT @ 2519854,
``tracker/bot_sort.py``) driven by ``tools/track.py``.

BoT-SORT is ByteTrack's association (two BYTE stages, unconfirmed tracks, the JDE bookkeeping of
:mod:`mot_bench.trackers.common.jde`) with three changes: a Kalman filter on (cx, cy, w, h)
(:class:`~mot_bench.trackers.common.kalman.KalmanFilterXYWH`), camera-motion compensation of every track
before association, and the output of every tracked track, confirmed or not.

One update:

1. detections with score > ``track_low_thresh`` are kept; those with score > ``track_high_thresh``
   are the high ones;
2. confirmed and lost tracks are Kalman-predicted (a track not in the tracked state has its w and h
   velocities, state indices 6 and 7, zeroed first);
3. the frame's camera warp is applied to those tracks *and* to the unconfirmed ones (which are not
   predicted): with ``R`` the 2x2 part of the 2x3 warp and ``t`` its translation, the mean becomes
   ``kron(I4, R) @ mean`` plus ``t`` on (x, y), the covariance ``kron(I4, R) @ P @ kron(I4, R)^T``,
   i.e. each (x, y), (w, h), (vx, vy), (vw, vh) pair is rotated/scaled by ``R``;
4. first association: high detections vs. confirmed + lost tracks, IoU distance fused with the
   detection score (unless ``mot20``), ``match_thresh``; matched lost tracks are re-activated;
5. second association: ``track_low_thresh`` < score < ``track_high_thresh`` vs. the still
   unmatched tracked tracks, plain IoU distance, 0.5; tracked tracks left over become lost;
6. unconfirmed tracks vs. the high detections left, fused IoU, 0.7; unconfirmed left over removed;
7. high detections left with score >= ``new_track_thresh`` start tracks (confirmed at once only in
   the first frame);
8. lost tracks unseen for more than ``int(frame_rate / 30 * track_buffer)`` frames are removed;
   lists merged and duplicates removed as ByteTrack;
9. output: *every* tracked track (the official ``is_activated`` filter is commented out, so tracks
   born in this frame are written), then ``tools/track.py``'s filter: w*h > ``min_box_area`` and
   not w/h > ``aspect_ratio_thresh``.

Unusual rules of the official arithmetic, and how they are matched here:

* Everything in float64 except the detections, which arrive as float32 (YOLOX outputs): the tlbr ->
  tlwh subtraction happens in float32 and is then widened, as the official ``STrack.__init__``.
* Threshold comparisons of score *arrays* happen in float32 (numpy casts the Python threshold to
  the array's dtype), so a score of exactly 0.6 is neither > 0.6 nor < 0.6 and a score of exactly
  0.1 is not > 0.1: such boxes take part in no association (they do occur in the YOLOX files).
* The new-track test compares one float32 *scalar* with the Python float 0.7; the official code ran
  under numpy < 1.24 (it uses ``np.float``), where that comparison is done in float64, so a score of
  float32(0.7) = 0.69999999 is below 0.7 and starts no track. numpy >= 2 would compare in float32
  and start one: we compare ``float(score)`` explicitly.
* IoU uses the +1 pixel area convention of ``cython_bbox.bbox_overlaps``
  (:func:`mot_bench.trackers.common.matching.bbox_ious`); assignment is ``lap.lapjv(extend_cost=True,
  cost_limit=thresh)``.
* The proximity mask (IoU distance > ``proximity_thresh``) only matters with re-ID; without it the
  cost is the fused IoU distance alone.
* Duplicates (tracked vs. lost, IoU distance < 0.15): the track with the shorter life goes, on a tie
  the tracked one (:func:`mot_bench.trackers.common.jde.remove_duplicate_stracks`).
* Ids count from 1 per sequence; a detection consumes an id when it starts a track, so unconfirmed
  tracks that are removed leave gaps.
* The camera warp is applied with the official matrix products (``kron`` then ``dot``), so results
  agree to the last ulps, and it is applied even when it is the identity.
* ``tools/track.py`` passes frame rate 30 for every sequence (``frame_rate`` default 30).
* ``tools/track.py`` does not call the tracker on a frame where the detector returned nothing (the
  frame counter and the GMC file row then do not advance); on the YOLOX MOT17 half-val files every
  frame has detections (score >= 0.09), so this never happens there. Here every frame is an update.

Re-ID (``with_reid``; ``tools/track.py --with-reid``), with the detector's embeddings in place of
the official FastReID encoder (whose output the official code widens to float64; so do we):

* the first association and the unconfirmed round take ``min(fused IoU cost, appearance)``, where
  appearance is the cosine distance (scipy's ``cdist``, clipped at 0) between the track's smoothed
  feature and the detection's feature, *halved*, then set to 1 where it is > ``appearance_thresh``
  (0.25) or where the IoU distance before score fusion is > ``proximity_thresh`` (0.5); the second
  (low-score) association stays IoU only;
* only high-score detections carry features, so low-score matches never update a track's features;
* features are normalised in place as upstream: a detection's first feature *is* its smoothed one,
  so it ends up normalised twice, and once more when a track takes it; a track's smoothed feature is
  ``0.9 * smooth + 0.1 * feat``, renormalised after each update (re-activation included). We work on
  our own copy of the detector's embeddings (the official encoder output is private to it).

Checked bit for bit against the official code on MOT17-09 half-val with oracle embeddings
(tests/fixtures/botsort/PROVENANCE.md).

Camera motion: ``update(detections, frame)`` takes ``frame.camera_motion`` (a 2x3 warp previous ->
current frame) when the runner provides it. Otherwise ``cmc_method="file"`` reads the official GMC
file of the sequence from ``gmc_dir`` (rows mapped to frame numbers, see
:func:`mot_bench.trackers.common.cmc.file_warps`); an image method (``orb``, ``sift``, ``ecc``,
``sparseOptFlow``) computes the warp from ``frame.image``, masking the high detections as the
official code; ``none`` uses the identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.spatial.distance import cdist

from mot_bench.options import option
from mot_bench.trackers.common import cmc
from mot_bench.trackers.common.jde import (
    AppearanceSTrack,
    JDEStyleTracker,
    STrack,
    TrackState,
    joint_stracks,
    tlbr_to_tlwh64,
    track_iou_distance,
)
from mot_bench.trackers.common.kalman import KalmanFilterXYWH
from mot_bench.trackers.common.matching import fuse_score, linear_assignment
from mot_bench.types import Detections, Frame, SeqInfo, Tracks


class BoTSTrack(AppearanceSTrack):
    """A JDE-family track whose Kalman state is (cx, cy, w, h) and velocities; with re-ID it carries the
    detection's feature (``curr_feat``) and an EMA of its features (``smooth_feat``)."""

    shared_kalman = KalmanFilterXYWH()

    def __init__(self, tlwh: np.ndarray, score: float, feat: np.ndarray | None = None) -> None:
        super().__init__(tlwh, score)
        self.curr_feat: np.ndarray | None = None
        self.smooth_feat: np.ndarray | None = None
        if feat is not None:
            # our own float64 copy: the official code normalises the encoder's rows in place, and the
            # detector's arrays are shared with every other tracker of the run
            self.update_features(np.array(feat, dtype=np.float64))

    def update(self, new_track: STrack, frame_id: int) -> None:
        super().update(new_track, frame_id)
        if getattr(new_track, "curr_feat", None) is not None:  # low-score detections carry none
            self.update_features(new_track.curr_feat)

    def re_activate(self, new_track: STrack, frame_id: int) -> None:
        super().re_activate(new_track, frame_id)
        if getattr(new_track, "curr_feat", None) is not None:
            self.update_features(new_track.curr_feat)

    @property
    def tlwh(self) -> np.ndarray:
        if self.mean is None:
            return self._tlwh.copy()
        ret = self.mean[:4].copy()
        ret[:2] -= ret[2:] / 2
        return ret

    @staticmethod
    def means_to_tlwh(means: np.ndarray) -> np.ndarray:
        """``tlwh`` of (N, 4+) xywh Kalman means at once, the arithmetic of :attr:`tlwh`."""
        ret = np.array(means[:, :4], dtype=np.float64)
        ret[:, :2] -= ret[:, 2:] / 2
        return ret

    @staticmethod
    def tlwh_to_xywh(tlwh: np.ndarray) -> np.ndarray:
        ret = np.asarray(tlwh).copy()
        ret[:2] += ret[2:] / 2
        return ret

    def measurement(self, tlwh: np.ndarray) -> np.ndarray:
        return self.tlwh_to_xywh(tlwh)

    @staticmethod
    def multi_predict(stracks: list[BoTSTrack]) -> None:
        """Vectorised predict; a track not in the tracked state has its w and h velocities zeroed."""
        if not stracks:
            return
        multi_mean = np.asarray([st.mean.copy() for st in stracks])
        multi_cov = np.asarray([st.covariance for st in stracks])
        for i, st in enumerate(stracks):
            if st.state != TrackState.TRACKED:
                multi_mean[i][6] = 0
                multi_mean[i][7] = 0
        multi_mean, multi_cov = BoTSTrack.shared_kalman.multi_predict(multi_mean, multi_cov)
        for st, mean, cov in zip(stracks, multi_mean, multi_cov, strict=True):
            st.mean, st.covariance = mean, cov

    @staticmethod
    def multi_gmc(stracks: list[BoTSTrack], warp: np.ndarray) -> None:
        """Move each track's state by the camera warp: every 2-vector block of the mean and the
        matching covariance blocks by the warp's 2x2 part, the centre also by its translation."""
        if not stracks:
            return
        warp = np.asarray(warp, dtype=np.float64)
        block = np.kron(np.eye(4, dtype=float), warp[:2, :2])
        shift = warp[:2, 2]
        for st in stracks:
            mean = block.dot(st.mean.copy())
            mean[:2] += shift
            st.mean = mean
            st.covariance = block.dot(st.covariance).dot(block.transpose())


def embedding_distance(tracks: list[BoTSTrack], dets: list[BoTSTrack]) -> np.ndarray:
    """Cosine distance (clipped at 0) between the tracks' smoothed features and the detections' features,
    float64, as the official ``matching.embedding_distance`` (scipy's ``cdist``)."""
    cost = np.zeros((len(tracks), len(dets)), dtype=np.float64)
    if cost.size == 0:
        return cost
    det_features = np.asarray([d.curr_feat for d in dets], dtype=np.float64)
    track_features = np.asarray([t.smooth_feat for t in tracks], dtype=np.float64)
    return np.maximum(0.0, cdist(track_features, det_features, "cosine"))


@dataclass
class BoTSORTOptions:
    preset: Literal["mot17", "mot20"] = option(
        "mot17", "named defaults: mot17 = tools/track.py's defaults (MOT17 val), mot20 = tools/track.py "
        "--default-parameters --benchmark MOT20 (mot20 on: no score fusion; match_thresh 0.7); options given "
        "explicitly override it")
    track_high_thresh: float = option(0.6, "first association: detections scoring above this",
                                      range=(0.3, 0.8), bounds=(0.0, 1.0))
    track_low_thresh: float = option(0.1, "second association: detections scoring above this (and below high)",
                                     range=(0.05, 0.3), bounds=(0.0, 1.0))
    new_track_thresh: float = option(0.7, "new tracks need a score of at least this", range=(0.4, 0.9),
                                     bounds=(0.0, 1.0))
    track_buffer: int = option(30, "frames a lost track is kept, at 30 fps", range=(10, 90), bounds=(0, None))
    match_thresh: float = option(0.8, "first-association threshold on the fused IoU distance", range=(0.5, 0.95),
                                 bounds=(0.0, 1.0))
    with_reid: bool = option(False, "re-ID (tools/track.py --with-reid): appearance distance from the detector's "
                                    "embeddings, min with the IoU cost in the first and unconfirmed rounds")
    proximity_thresh: float = option(0.5, "re-ID only: IoU-distance mask of appearance matches", bounds=(0.0, 1.0))
    appearance_thresh: float = option(0.25, "re-ID only: cosine-distance mask of appearance matches (on the "
                                            "halved distance)", bounds=(0.0, 2.0))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               bounds=(0.0, None))
    min_box_area: float = option(10.0, "output filter: report boxes with w*h > this", bounds=(0.0, None))
    cmc_method: Literal["orb", "sift", "ecc", "sparseOptFlow", "file", "none"] = option(
        "file", "camera-motion compensation (file: the official precomputed GMC files in gmc_dir)")
    gmc_dir: str | None = option(None, "folder of the official GMC-<SEQ>.txt files (cmc_method file)")
    cmc_downscale: int = option(2, "image downscale of the image-based camera-motion methods", bounds=(1, None))
    mot20: bool = option(False, "MOT20 mode: no score fusion")
    frame_rate: float | None = option(30.0, "frame rate for the lost-track buffer (tools/track.py passes 30 for "
                                            "every sequence; none: the sequence's)", bounds=(0.0, None))

    # tools/track.py sets mot20 for every MOT20 sequence; --default-parameters adds match_thresh 0.7 for MOT20
    # (and thresholds 0.6/0.1, new track 0.6 + 0.1, buffer 30: the defaults already). Its track_high_thresh 0.3
    # for the test sequences MOT20-06/08 is not applied.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"mot17": {}, "mot20": {"mot20": True, "match_thresh": 0.7}}


class BoTSORT(JDEStyleTracker):
    """BoT-SORT without re-ID: BYTE association, xywh Kalman filter, camera-motion compensation."""

    name = "botsort"
    needs_embeddings = False
    needs_camera_motion = True
    motion_only = False  # needs camera motion (a GMC file or pixels), not boxes alone

    Options = BoTSORTOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cmc.check_method(self.cmc_method)
        self.needs_embeddings = self.with_reid
        self._seq: SeqInfo | None = None
        self.reset(None)

    # -- per sequence -------------------------------------------------------------------------
    def reset(self, seq: SeqInfo | None) -> None:
        self._reset_state(seq)
        self.kalman_filter = KalmanFilterXYWH()
        self._seq = seq
        self._file_warps: dict[int, np.ndarray] | None = None
        if self.cmc_method == "file" and self.gmc_dir is not None and seq is not None:
            self._file_warps = cmc.file_warps(self.gmc_dir, seq)
        self._estimator = None
        if self.cmc_method in cmc.IMAGE_METHODS:
            self._estimator = cmc.MotionEstimator(self.cmc_method, self.cmc_downscale)

    def _warp(self, detections: Detections, high: np.ndarray, frame: Frame | None) -> np.ndarray:
        """This frame's camera warp (previous -> current pixels), from wherever it is available."""
        if frame is not None and frame.camera_motion is not None:
            return np.asarray(frame.camera_motion, dtype=np.float64).reshape(2, 3)
        if self.cmc_method == "none":
            return cmc.identity()
        if self.cmc_method == "file":
            if self._file_warps is None:
                raise RuntimeError(
                    "botsort: cmc_method 'file' needs gmc_dir (the official GMC-<SEQ>.txt files) and reset(seq), "
                    "or a frame.camera_motion from the runner; use cmc_method='none' to run without"
                )
            if frame is not None:
                frame_id = frame.frame_id
            else:
                frame_id = (self._seq.first_frame if self._seq is not None else 1) + self.frame_id - 1
            return self._file_warps.get(frame_id, cmc.identity())
        if frame is None or frame.image is None:
            raise RuntimeError(f"botsort: cmc_method {self.cmc_method!r} needs frame.image or frame.camera_motion")
        return self._estimator(frame.image, detections.tlbr[high])

    def _fused_distance(self, tracks: list[BoTSTrack], dets: list[BoTSTrack]) -> np.ndarray:
        """The first and the unconfirmed rounds' cost: IoU distance fused with the score (unless mot20);
        with re-ID, the min of that and the halved cosine distance, which counts only where it is at most
        ``appearance_thresh`` and the IoU distance (before fusion) at most ``proximity_thresh``."""
        ious = track_iou_distance(tracks, dets)
        far = ious > self.proximity_thresh
        if not self.mot20:
            ious = fuse_score(ious, np.array([d.score for d in dets]))
        if not self.with_reid:
            return ious
        emb = embedding_distance(tracks, dets) / 2.0
        emb[emb > self.appearance_thresh] = 1.0
        emb[far] = 1.0
        return np.minimum(ious, emb)

    def _apply_matches(self, tracks, dets, matches, activated: list[STrack], refind: list[STrack]) -> None:
        """The official per-track ``update``/``re_activate`` of every matched track, with one Kalman update
        for all of them (:meth:`KalmanFilterXYWH.multi_update`: the same LAPACK and BLAS calls per track,
        so the same bits); on crowded frames the per-track calls were BoT-SORT's largest cost."""
        if len(matches) == 0:
            return
        pairs = [(tracks[it], dets[idet]) for it, idet in matches]
        measured = np.array([d.tlwh for _, d in pairs])
        measured[:, :2] += measured[:, 2:] / 2  # tlwh_to_xywh, as each track's measurement()
        means, covs = self.kalman_filter.multi_update(np.array([t.mean for t, _ in pairs]),
                                                      np.array([t.covariance for t, _ in pairs]), measured)
        for (track, det), mean, cov in zip(pairs, means, covs, strict=True):
            tracked = track.state == TrackState.TRACKED
            track.mean, track.covariance = mean, cov
            track.tracklet_len = track.tracklet_len + 1 if tracked else 0
            track.state = TrackState.TRACKED
            track.is_activated = True
            track.frame_id = self.frame_id
            track.score = det.score
            if det.curr_feat is not None:  # low-score detections carry none
                track.update_features(det.curr_feat)
            (activated if tracked else refind).append(track)

    # -- one frame ----------------------------------------------------------------------------
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        # tools/track.py feeds YOLOX's float32 output: file boxes (float64) are rounded to float32 first.
        return self._report(self.step(detections.as_float32(), frame))

    def step(self, detections: Detections, frame: Frame | None = None) -> list[BoTSTrack]:
        """One official ``BoTSORT.update``; returns every tracked track before the output filter."""
        self.frame_id += 1
        activated, refind, lost, removed = [], [], [], []
        scores = detections.scores
        tlwh = tlbr_to_tlwh64(detections.tlbr)
        # float32 comparisons, as the official code on the detector's float32 scores
        keep = scores > self.track_low_thresh
        high = keep & (scores > self.track_high_thresh)
        second = keep & (scores < self.track_high_thresh)
        if self.with_reid:
            if detections.embeddings is None:
                raise ValueError("botsort: with_reid needs embeddings from the detector")
            dets = [BoTSTrack(b, s, f) for b, s, f in
                    zip(tlwh[high], scores[high], detections.embeddings[high], strict=True)]
        else:
            dets = [BoTSTrack(b, s) for b, s in zip(tlwh[high], scores[high], strict=True)]

        unconfirmed, tracked = self._split_tracked()

        # Predict confirmed and lost tracks, then move everything by the camera motion.
        pool = joint_stracks(tracked, self.lost_stracks)
        BoTSTrack.multi_predict(pool)
        warp = self._warp(detections, high, frame)
        BoTSTrack.multi_gmc(pool, warp)
        BoTSTrack.multi_gmc(unconfirmed, warp)

        # First association: high detections vs. confirmed and lost tracks.
        dists = self._fused_distance(pool, dets)
        matches, u_track, u_det = linear_assignment(dists, thresh=self.match_thresh)
        self._apply_matches(pool, dets, matches, activated, refind)

        # Second association: low detections vs. still unmatched tracked tracks.
        dets_second = [BoTSTrack(b, s) for b, s in zip(tlwh[second], scores[second], strict=True)]
        r_tracked = [pool[i] for i in u_track if pool[i].state == TrackState.TRACKED]
        dists = track_iou_distance(r_tracked, dets_second)
        matches, u_track, _ = linear_assignment(dists, thresh=0.5)
        self._apply_matches(r_tracked, dets_second, matches, activated, refind)
        self._mark_lost(r_tracked, u_track, lost)

        # Unconfirmed tracks vs. the high detections left.
        dets = [dets[i] for i in u_det]
        dists = self._fused_distance(unconfirmed, dets)
        u_det = self._match_unconfirmed(unconfirmed, dets, dists, activated, removed)

        # New tracks; the float32 score is compared in float64 (see the module docstring).
        for inew in u_det:
            track = dets[inew]
            if float(track.score) < self.new_track_thresh:
                continue
            track.activate(self.kalman_filter, self.frame_id, self._new_id())
            activated.append(track)

        self._finish_frame(activated, refind, lost, removed)
        return list(self.tracked_stracks)
