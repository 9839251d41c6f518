"""TrackTrack (Shim, Hwang, Ko, Kim, "Focusing on Tracks for Online Multi-Object Tracking", CVPR 2025),
decision for decision as its official code (kamkyu94/TrackTrack @ eac4df28, ``3. Tracker/trackers/
{tracker,track,utils,kalman_filter,cmc}.py`` driven by ``run.py`` with ``utils/etc.py``'s MOT17 settings).

One update (frame ``f``, counting updates from 1):

1. detections scoring below ``min_score`` (``detect.py --conf 0.1``) are dropped from both sets; a frame
   left without detections goes the ``update_without_detections`` way: new tracks are dropped, the
   others moved by the camera and predicted, tracked ones stay *tracked* (not marked lost) and are
   reported with their predicted boxes;
2. the "deleted" detections: boxes of the looser-NMS set (``Detections.loose``) whose IoU (+1 pixel
   convention) with every box of the main set is < 0.97. Without a looser set there are none (the
   official code given the same set twice finds none either);
3. three groups: high = score > ``det_thresh``, low = the rest, deleted-high = deleted with score >
   ``det_thresh`` (deleted low ones are discarded);
4. every track is moved by the camera warp (tracked and lost ones, then new ones) and Kalman-predicted;
5. tracked + lost tracks vs high + low + deleted-high detections (:func:`association_cost`, then
   :func:`iterative_matching`); matched tracks are updated, unmatched ones marked lost;
6. new tracks vs the high detections left, the same cost and matching; unmatched new tracks removed;
7. tracks unseen for more than int(frame rate) x ``lost_seconds`` frames are removed (``run.py``'s
   ``max_time_lost = int(frameRate) * 2``: 60 frames at 30 fps, 28 at 14, 50 at 25);
8. the high detections still left start tracks through the track-aware NMS (:func:`track_aware_nms`);
9. output: tracks in the tracked state (``min_len`` = 3 updates make a new track tracked), box from the
   Kalman state, then ``run.py``'s filter: not w/h > ``aspect_ratio_thresh`` (MOT data) and w*h >
   ``min_box_area``.

The cost (tracks x detections) is ``0.5 * (1 - hIoU * IoU) + 0.5 * cosine + 0.1 * confidence + 0.05 *
angle``, plus ``penalty_p`` on low detections and ``penalty_q`` on deleted ones, set to 1 where IoU <= 0.1,
clipped to [0, 1]:

* hIoU = (min(y2) - max(y1)) / (max(y2) - min(y1)) (no +1), IoU with the +1 convention
  (:func:`mot_bench.trackers.common.matching.bbox_ious`);
* cosine = clip(1 - track feature . detection feature, 0, 1) in float32; without embeddings (or with
  ``appearance`` off) it is 1 for every pair, which is what the official code computes from detection rows
  without feature columns (an empty dot product);
* confidence = |s + (s - s_prev) - detection score|, s the track's last score and s_prev the one before
  (its only one when it has one), all float32;
* angle: the mean over the four box corners of arccos(v_t . u) / pi, times the detection score, where u is
  the unit direction from the track's box ``delta_t`` = 3 frames ago (its last box when it has none
  there) to the detection, corner by corner, and v_t the track's velocity (below).

Unusual rules of the official arithmetic, kept here:

* The corner "vectors" are not those of the corners: left-bottom and right-bottom take x from x1/x2 but
  y as y2(new) - y1(old), while their norms use the y2 deltas; the result is clipped to [-1, 1] before
  arccos. A track's velocity is the *sum* (not the mean) of these vectors from its boxes 1, 2 and 3 frames
  back (each missing one replaced by the current box, a zero vector), computed at each update.
* "The box d frames back" looks only at frame f - d (the official loop never uses its index).
* The matching is not an assignment solver: in each round every track whose cheapest detection has that
  track as its own cheapest (``argmin``, first index on ties) and costs less than the threshold is
  matched; matched rows and columns are set to 1; the threshold falls by ``reduce_step`` each round
  (0.7, 0.65, ... as repeated float subtractions) until a round matches nothing.
* Track-aware NMS: a remaining high detection starts a track only if its score > ``init_thresh``
  (float32 comparison), its IoU with every tracked or new track is <= ``tai_thresh``, and no detection
  still allowed with a higher score (strictly; processed in detection order) overlaps it by more.
* Kalman filter on (cx, cy, w, h) + velocities (:class:`TrackTrackKalman`): initial std 2w/2h (position)
  and 10w/10h (velocity) without the 1/20, 1/160 weights; process noise from the *predicted* w, h; the
  measurement variance (w/20)^2, (h/20)^2 multiplied by (1 - score) (the variance, not the std).
* Appearance: a track's feature is an EMA with weight beta = 0.95 + 0.05 (1 - score) on the old feature,
  renormalised (float32).
* numpy < 1.24 scalar arithmetic (the official code's environment): a float32 score compared with a
  Python float threshold (``det_thresh``) is compared in float64 (a score of 0.6 is above 0.6), and
  float32 scalar ** 2, 1 - score and similar promote to float64; array expressions stay in float32
  (the ``init_thresh`` test, the confidence term, the angle directions).
* Camera motion: 2x3 warp, mean and covariance moved with ``kron(I4, R)`` (the same ``@`` products).
  The official code reads its GMC file one row per frame from the first row. Its MOT17 files: ten cover
  whole sequences (its own estimates, row i = frame i + 1), four (02, 10, 11, 13) are BoT-SORT's half-val
  files (frames N//2+2..N only). Here rows are mapped to frame numbers by their count
  (:func:`mot_bench.trackers.common.cmc.file_warps`), through the runner (``frame.camera_motion``) or
  ``gmc_dir``; a frame a file does not cover gets the identity (the first half of 02/10/11/13 on a
  whole-sequence run, where the official code would apply the half-val rows from frame 1 on).
* Lost and new tracks keep their w, h velocities (the official code zeroes them only on DanceTrack:
  ``zero_size_velocity``).

Not in the tracker: ``run.py``'s offline post-processing (gradient-boosting interpolation on MOT,
AFLink on DanceTrack), which its published numbers include. Its MOT17 validation inputs were its own
YOLOX-X (``mot17_half.pth.tar``, conf 0.1) at NMS 0.80 and 0.95 with FastReID SBS-S50 features, published
as pickles outside its repository (docs/leaderboard.md, tests/fixtures/tracktrack/PROVENANCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs

from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.trackers.common import cmc
from mot_bench.trackers.common.matching import bbox_ious
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

NEW, TRACKED, LOST, REMOVED = 0, 1, 2, 3
DELETED_IOU = 0.97  # a looser-NMS box is "deleted" when its best IoU with the main set is below this
DELTA_T = 3
FEATURE_ALPHA = 0.95
_F32 = np.float32


@dataclass
class TrackTrackOptions:
    preset: Literal["mot17", "mot20", "dancetrack"] = option(
        "mot17", "named defaults from utils/etc.py: mot17 (every MOT17 train sequence; the test sequences 01/03/12, "
        "07 and 14 had their own thresholds), mot20 (det 0.4, init 0.4, match 0.55; 04/06/07 used init 0.5), "
        "dancetrack (validation: det 0.6, init 0.6, match 0.8, no aspect filter, lost/new w-h velocities zeroed)")
    det_thresh: float = option(0.6, "high detections: score > this (float32 score compared in float64)",
                               range=(0.3, 0.8), bounds=(0.0, 1.0))
    init_thresh: float = option(0.7, "a detection starts a track only if its score > this (float32 comparison)",
                                range=(0.4, 0.9), bounds=(0.0, 1.0))
    match_thresh: float = option(0.7, "first threshold of the iterative matching (cost below it)",
                                 range=(0.4, 0.9), bounds=(0.0, 1.0))
    reduce_step: float = option(0.05, "the matching threshold falls by this each round", range=(0.01, 0.2),
                                bounds=(1e-6, 1.0))
    penalty_p: float = option(0.2, "cost added for low-score detections", range=(0.0, 0.5), bounds=(0.0, 1.0))
    penalty_q: float = option(0.4, "cost added for deleted (looser-NMS-only) detections", range=(0.0, 0.6),
                              bounds=(0.0, 1.0))
    tai_thresh: float = option(0.55, "track-aware NMS: IoU above which a new track is suppressed",
                               range=(0.3, 0.9), bounds=(0.0, 1.0))
    min_len: int = option(3, "updates a new track needs to be tracked (and reported)", range=(1, 6), bounds=(1, None))
    lost_seconds: float = option(2.0, "a lost track is kept int(int(frame rate) * this) frames (run.py: "
                                      "int(frameRate) * 2)", range=(0.5, 4.0), bounds=(0.0, None))
    min_score: float = option(0.1, "detections scoring below this are dropped, from both sets (the official "
                                   "detector's --conf 0.1; compared in float32)", bounds=(0.0, 1.0))
    appearance: bool = option(True, "use the detector's embeddings when it has them (off, or without embeddings: "
                                    "cosine distance 1 for every pair, as the official code on feature-less rows)")
    zero_size_velocity: bool = option(False, "zero the w, h velocities of lost and new tracks before predicting "
                                             "(the official code does on DanceTrack)")
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all; "
                                                    "the official code filters on MOT data only)", bounds=(0.0, None))
    min_box_area: float = option(100.0, "output filter: report boxes with w*h > this", bounds=(0.0, None))
    cmc_method: Literal["file", "sparseOptFlow", "ecc", "none"] = option(
        "file", "camera-motion compensation (file: the official GMC files in gmc_dir; the runner computes the "
        "image methods)")
    gmc_dir: str | None = option(None, "folder of GMC-<SEQ>.txt files (cmc_method file): TrackTrack's own "
                                       "'3. Tracker/trackers/cmc'")
    cmc_downscale: int = option(2, "image downscale of the image-based camera-motion methods", bounds=(1, None))

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "mot17": {},
        "mot20": {"det_thresh": 0.4, "init_thresh": 0.4, "match_thresh": 0.55},
        "dancetrack": {"det_thresh": 0.6, "init_thresh": 0.6, "match_thresh": 0.8, "aspect_ratio_thresh": None,
                       "zero_size_velocity": True},
    }


class TrackTrackKalman:
    """TrackTrack's filter on (cx, cy, w, h) and velocities, the official ``kalman_filter.py`` arithmetic:
    constant velocity, process noise from the predicted w, h (stds w/20, h/20 and w/160, h/160),
    measurement variance (w/20)^2, (h/20)^2 scaled by (1 - score), initial stds 2w, 2h, 10w, 10h."""

    std_pos = 1.0 / 20.0
    std_vel = 1.0 / 160.0

    @staticmethod
    def initiate(measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.r_[measurement, np.zeros_like(measurement)]
        w, h = mean[2], mean[3]
        std = np.array([2.0 * w, 2.0 * h, 2.0 * w, 2.0 * h, 10.0 * w, 10.0 * h, 10.0 * w, 10.0 * h])
        return mean, np.diag(np.square(std))

    @classmethod
    def multi_predict(cls, means: np.ndarray, covs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 8) means, (N, 8, 8) covariances. F x and F (P F') are sums of two non-zero terms per
        element, written as the additions they are in the official product order (columns first:
        ``multi_dot`` computes F (P F')); the noise comes from the predicted w, h."""
        means = means.copy()
        means[:, :4] += means[:, 4:]
        covs = covs.copy()
        covs[:, :, :4] += covs[:, :, 4:]
        covs[:, :4, :] += covs[:, 4:, :]
        w, h = means[:, 2], means[:, 3]
        p, v = cls.std_pos, cls.std_vel
        noise = np.square(np.stack([p * w, p * h, p * w, p * h, v * w, v * h, v * w, v * h], axis=1))
        idx = np.arange(8)
        covs[:, idx, idx] += noise
        return means, covs

    @classmethod
    def update(cls, mean: np.ndarray, cov: np.ndarray, measurement: np.ndarray,
               one_minus_score: float) -> tuple[np.ndarray, np.ndarray]:
        """Correction with the official Cholesky solve (the LAPACK calls behind ``cho_factor``/``cho_solve``)."""
        p = cls.std_pos
        w, h = mean[2], mean[3]
        projected_cov = cov[:4, :4] + np.diag(np.square(np.array([p * w, p * h, p * w, p * h])) * one_minus_score)
        chol, info = dpotrf(projected_cov, lower=True, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError(f"Kalman update: projected covariance not positive definite (potrf {info})")
        gain_t, info = dpotrs(chol, np.dot(cov, _H.T).T, lower=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"Kalman update: potrs failed ({info})")
        gain = gain_t.T
        innovation = measurement - mean[:4]
        new_mean = mean + np.dot(innovation, gain.T)
        new_cov = cov - np.linalg.multi_dot((gain, projected_cov, gain.T))
        return new_mean, new_cov


_H = np.eye(4, 8)


def measurement(box: np.ndarray) -> np.ndarray:
    """(cx, cy, w, h) of a float32 tlbr box, as the official ``cxcywh`` computes it under numpy < 1.24:
    the corner sums in float32 then halved in float64, w and h float32 differences."""
    return np.array([np.float64(box[0] + box[2]) / 2, np.float64(box[1] + box[3]) / 2,
                     box[2] - box[0], box[3] - box[1]], dtype=np.float64)


def _corner_parts(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The official corner vectors from ``old`` to ``new`` boxes (float32, broadcast), (..., 4, 2), and the
    deltas their norms use, (..., 4, 2): lt (dx1, dy1), lb (dx1, y2new - y1old), rt (dx2, dy1),
    rb (dx2, y2new - y1old); norms from (dx1, dy1), (dx1, dy2), (dx2, dy1), (dx2, dy2)."""
    d = new - old
    vec = np.empty(d.shape[:-1] + (4, 2), dtype=d.dtype)
    vec[..., 0, 0] = vec[..., 1, 0] = d[..., 0]
    vec[..., 2, 0] = vec[..., 3, 0] = d[..., 2]
    vec[..., 0, 1] = vec[..., 2, 1] = d[..., 1]
    vec[..., 1, 1] = vec[..., 3, 1] = new[..., 3] - old[..., 1]
    parts = vec.copy()
    parts[..., 1, 1] = parts[..., 3, 1] = d[..., 3]
    return vec, parts


def track_velocity(prev_boxes: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Tracks' velocities at an update: for each track the sum over its boxes 1..3 frames back
    (``prev_boxes``, (K, 3, 4) or (3, 4), float32) of the corner vectors to its new box (``boxes``, (K, 4) or
    (4,)), each divided by its norm + 1e-5. Under numpy < 1.24 the scalar squares promote to float64, so the
    norm is float64, rounded to float32 for the division; the sum is float64, (K, 4, 2) or (4, 2)."""
    vec, parts = _corner_parts(prev_boxes, boxes[..., None, :])
    p64 = parts.astype(np.float64)
    norm = (np.sqrt(p64[..., 0] ** 2 + p64[..., 1] ** 2) + 1e-5).astype(_F32)
    unit = (vec / norm[..., None]).astype(np.float64)
    return (unit[..., 0, :, :] + unit[..., 1, :, :]) + unit[..., 2, :, :]


def angle_distance(velocities: np.ndarray, old_boxes: np.ndarray, det_boxes: np.ndarray,
                   det_scores: np.ndarray) -> np.ndarray:
    """(N, M): mean over the corners of arccos(clip(velocity . direction)) / pi, times the detection score.
    Directions from each track's box ``DELTA_T`` frames back to each detection, all float32 (array
    arithmetic); velocities float64."""
    vec, parts = _corner_parts(old_boxes[:, None, :], det_boxes[None, :, :])
    norm = np.sqrt(parts[..., 0] ** 2 + parts[..., 1] ** 2) + _F32(1e-5)
    direction = vec / norm[..., None]
    out = 0
    for c in range(4):
        cos = velocities[:, None, c, 0] * direction[:, :, c, 0] + velocities[:, None, c, 1] * direction[:, :, c, 1]
        out = out + np.abs(np.arccos(np.clip(cos, -1, 1))) / np.pi / 4
    return out * det_scores[None, :]


def association_cost(track_boxes: np.ndarray, det_boxes32: np.ndarray, track_feats: np.ndarray | None,
                     det_feats: np.ndarray | None, track_scores: np.ndarray, track_prev_scores: np.ndarray,
                     det_scores: np.ndarray, velocities: np.ndarray, old_boxes: np.ndarray, n_high: int,
                     n_low: int, penalty_p: float, penalty_q: float) -> np.ndarray:
    """The official ``iterative_assigment`` cost, (N tracks, M detections: high, then low, then deleted).

    ``track_boxes`` float64 from the Kalman state; detections' boxes, scores and features float32."""
    det_boxes = det_boxes32.astype(np.float64)
    iou = bbox_ious(track_boxes, det_boxes)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_iou = np.minimum(track_boxes[:, 3:4], det_boxes[:, 3:4].T) - np.maximum(track_boxes[:, 1:2],
                                                                                  det_boxes[:, 1:2].T)
        h_iou /= np.maximum(track_boxes[:, 3:4], det_boxes[:, 3:4].T) - np.minimum(track_boxes[:, 1:2],
                                                                                   det_boxes[:, 1:2].T)
    iou_dist = 1 - h_iou * iou
    if track_feats is None or det_feats is None:
        cos = np.ones(iou.shape, dtype=_F32)
    else:
        cos = np.clip(1 - np.dot(track_feats, det_feats.T), 0.0, 1.0)
    projected = track_scores + (track_scores - track_prev_scores)
    conf = np.abs(projected[:, None] - det_scores[None, :])
    cost = 0.50 * iou_dist + 0.50 * cos
    cost += 0.10 * conf + 0.05 * angle_distance(velocities, old_boxes, det_boxes32, det_scores)
    cost[:, n_high:n_high + n_low] += penalty_p
    cost[:, n_high + n_low:] += penalty_q
    cost[iou <= 0.10] = 1.0
    return np.clip(cost, 0, 1)


def iterative_matching(cost: np.ndarray, thresh: float, step: float) -> list[tuple[int, int]]:
    """Rounds of mutual arg-min matches below a falling threshold (see the module docstring); ``cost`` is
    changed in place. Returns (track, detection) pairs in the order found."""
    matches: list[tuple[int, int]] = []
    if cost.shape[0] == 0 or cost.shape[1] == 0:
        return matches
    rows = np.arange(cost.shape[0])
    while True:
        best_det = np.argmin(cost, axis=1)
        best_track = np.argmin(cost, axis=0)
        found = np.flatnonzero((best_track[best_det] == rows) & (cost[rows, best_det] < thresh))
        thresh -= step
        if not len(found):
            break
        matches += [(int(t), int(best_det[t])) for t in found]
        for t, d in matches:
            cost[t, :] = 1.0
            cost[:, d] = 1.0
    return matches


def track_aware_nms(det_boxes: np.ndarray, det_scores: np.ndarray, track_boxes: np.ndarray, tai_thresh: float,
                    init_thresh: float) -> np.ndarray:
    """Which remaining high detections start tracks: score > ``init_thresh`` (float32), IoU with every
    alive track <= ``tai_thresh``, and not overlapping (> ``tai_thresh``) an allowed detection of strictly
    higher score processed before it (the official loop, in detection order). Boxes float64."""
    n = len(det_boxes)
    allow = det_scores > _F32(init_thresh)
    if n == 0:
        return allow
    near_track = (bbox_ious(det_boxes, track_boxes).max(axis=1) > tai_thresh) if len(track_boxes) else \
        np.zeros(n, dtype=bool)
    pair = bbox_ious(det_boxes, det_boxes) > tai_thresh
    for i in range(n):
        if not allow[i]:
            continue
        if near_track[i]:
            allow[i] = False
            continue
        allow &= ~(pair[i] & (det_scores[i] > det_scores) & (np.arange(n) != i))
    return allow


def deleted_detections(main_boxes: np.ndarray, loose_boxes: np.ndarray) -> np.ndarray:
    """Mask of the looser-NMS boxes whose best IoU (+1 convention, float64) with the main set is < 0.97."""
    if len(loose_boxes) == 0:
        return np.zeros(0, dtype=bool)
    return bbox_ious(main_boxes.astype(np.float64), loose_boxes.astype(np.float64)).max(axis=0) < DELETED_IOU


class _Track:
    """One track: Kalman state, last detection (float32 box and score), the recent boxes by frame, the
    score before the last, the corner velocity and, with appearance, the feature EMA."""

    __slots__ = ("track_id", "state", "mean", "cov", "box", "score", "prev_score", "boxes", "n_obs", "velocity",
                 "feat", "end_frame")

    def __init__(self, track_id: int, frame: int, box: np.ndarray, score: np.float32, feat: np.ndarray | None):
        self.track_id = track_id
        self.state = NEW
        self.mean, self.cov = TrackTrackKalman.initiate(measurement(box))
        self.box = box
        self.score = score
        self.prev_score = score
        self.boxes = {frame: box}
        self.n_obs = 1
        self.velocity = np.zeros((4, 2))
        self.feat = None if feat is None else feat.copy()
        self.end_frame = frame

    def box_back(self, frame: int, back: int) -> np.ndarray:
        """The official ``get_prev_box``: the box of frame ``frame - back`` if observed, else the last one."""
        return self.boxes.get(frame - back, self.box)

    def tlbr(self) -> np.ndarray:
        m = self.mean
        return np.array([m[0] - m[2] / 2, m[1] - m[3] / 2, m[0] + m[2] / 2, m[1] + m[3] / 2])

    def update(self, frame: int, box: np.ndarray, score: np.float32, feat: np.ndarray | None, min_len: int) -> None:
        """Kalman update, feature EMA and the box record; the velocity is set by :func:`_set_velocities`."""
        self.mean, self.cov = TrackTrackKalman.update(self.mean, self.cov, measurement(box), 1 - np.float64(score))
        if feat is not None and self.feat is not None:
            beta = FEATURE_ALPHA + (1 - FEATURE_ALPHA) * (1 - np.float64(score))
            ema = _F32(beta) * self.feat + _F32(1 - beta) * feat
            self.feat = ema / np.linalg.norm(ema)
        self.boxes[frame] = box
        for old in [k for k in self.boxes if k < frame - DELTA_T]:
            del self.boxes[old]
        self.n_obs += 1
        self.prev_score = self.score
        self.box, self.score, self.end_frame = box, score, frame
        self.state = TRACKED if self.n_obs >= min_len else NEW


def _set_velocities(tracks: list[_Track], frame: int) -> None:
    """The official velocity update of tracks just updated at ``frame`` (their boxes 1..3 frames back, the
    current box where one is missing), all at once."""
    if not tracks:
        return
    prev = np.stack([np.stack([t.boxes.get(frame - d, t.box) for d in range(1, DELTA_T + 1)]) for t in tracks])
    velocities = track_velocity(prev, np.stack([t.box for t in tracks]))
    for t, v in zip(tracks, velocities, strict=True):
        t.velocity = v


def _warp_tracks(tracks: list[_Track], warp: np.ndarray) -> None:
    """The official ``apply_cmc``: each state moved with ``kron(I4, R) @ ...`` (the ``@`` products
    themselves, one track at a time, so the BLAS calls are the official ones)."""
    if not tracks:
        return
    block = np.kron(np.eye(4, dtype=float), warp[:, :2])
    shift = warp[:, 2]
    for t in tracks:
        mean = block @ t.mean
        mean[:2] += shift
        t.mean = mean
        t.cov = block @ t.cov @ block.T


class TrackTrack(Tracker):
    """TrackTrack: track-perspective association (iterative mutual arg-min over an IoU + appearance +
    confidence + angle cost, with low-score and looser-NMS detections at a penalty) and track-aware
    initialisation."""

    name = "tracktrack"
    needs_embeddings = False  # uses them when the detector has them
    needs_camera_motion = True
    motion_only = False  # needs camera motion (the GMC files or pixels), not boxes alone
    Options = TrackTrackOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cmc.check_method(self.cmc_method)
        self.reset(None)

    def reset(self, seq: SeqInfo | None) -> None:
        self.tracks: list[_Track] = []
        self.frame_id = 0
        self._next_id = 0
        self._seq = seq
        fps = seq.fps if seq is not None else 30.0
        self._max_lost = int(int(fps) * self.options.lost_seconds)
        self._file_warps: dict[int, np.ndarray] | None = None
        if self.cmc_method == "file" and self.gmc_dir is not None and seq is not None:
            self._file_warps = cmc.file_warps(self.gmc_dir, seq)
        self._estimator = None
        if self.cmc_method in cmc.IMAGE_METHODS:
            self._estimator = cmc.MotionEstimator(self.cmc_method, self.cmc_downscale)

    # -- inputs -----------------------------------------------------------------------------------
    def _warp(self, frame: Frame | None) -> np.ndarray:
        if frame is not None and frame.camera_motion is not None:
            return np.asarray(frame.camera_motion, dtype=np.float64).reshape(2, 3)
        if self.cmc_method == "none":
            return cmc.identity()
        if self.cmc_method == "file":
            if self._file_warps is None:
                raise RuntimeError("tracktrack: cmc_method 'file' needs gmc_dir (GMC-<SEQ>.txt files) and reset(seq), "
                                   "or a frame.camera_motion from the runner; cmc_method='none' runs without")
            frame_id = frame.frame_id if frame is not None else (
                (self._seq.first_frame if self._seq is not None else 1) + self.frame_id - 1)
            return self._file_warps.get(frame_id, cmc.identity())
        if frame is None or frame.image is None:
            raise RuntimeError(f"tracktrack: cmc_method {self.cmc_method!r} needs frame.image or frame.camera_motion")
        return self._estimator(frame.image)

    def _kept(self, dets: Detections) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """float32 boxes, scores and (with appearance) embeddings of the detections scoring >= min_score."""
        dets = dets.as_float32()
        keep = dets.scores >= _F32(self.options.min_score)
        feats = None
        if self.options.appearance and dets.embeddings is not None:
            feats = np.ascontiguousarray(dets.embeddings[keep], dtype=_F32)
        return dets.tlbr[keep], dets.scores[keep], feats

    # -- one frame --------------------------------------------------------------------------------
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        self.frame_id += 1
        f = self.frame_id
        warp = self._warp(frame)
        boxes, scores, feats = self._kept(detections)
        if not len(boxes):
            self._update_without_detections(warp)
            return self._report()
        l_boxes, l_scores, l_feats = boxes[:0], scores[:0], None if feats is None else feats[:0]
        if detections.loose is not None:
            l_boxes, l_scores, l_feats = self._kept(detections.loose)
            if feats is not None and l_feats is None:
                if len(l_boxes):
                    raise ValueError("tracktrack: the detections carry embeddings but their looser-NMS set does "
                                     "not; give both sets embeddings (or appearance=false)")
                l_feats = feats[:0]
            deleted = deleted_detections(boxes, l_boxes)
            l_boxes, l_scores = l_boxes[deleted], l_scores[deleted]
            l_feats = None if feats is None else l_feats[deleted]
        # numpy < 1.24: a float32 scalar against a Python float is compared in float64
        high = scores.astype(np.float64) > self.options.det_thresh
        del_high = l_scores.astype(np.float64) > self.options.det_thresh
        order = np.concatenate([np.flatnonzero(high), np.flatnonzero(~high)])
        n_high, n_low = int(high.sum()), int((~high).sum())
        d_boxes = np.concatenate([boxes[order], l_boxes[del_high]])
        d_scores = np.concatenate([scores[order], l_scores[del_high]])
        d_feats = None if feats is None else np.concatenate([feats[order], l_feats[del_high]])

        tracked_lost = [t for t in self.tracks if t.state in (TRACKED, LOST)]
        new = [t for t in self.tracks if t.state == NEW]
        _warp_tracks(tracked_lost, warp)
        _warp_tracks(new, warp)
        self._predict(tracked_lost + new)

        # tracked and lost tracks vs every detection group
        matches = self._match(tracked_lost, d_boxes, d_scores, d_feats, n_high, n_low)
        matched_t = {t for t, _ in matches}
        matched_d = {d for _, d in matches}
        updated = []
        for t, d in matches:
            self._update_track(tracked_lost[t], d_boxes[d], d_scores[d], None if d_feats is None else d_feats[d])
            updated.append(tracked_lost[t])
        for i, t in enumerate(tracked_lost):
            if i not in matched_t:
                t.state = LOST

        # new tracks vs the high detections left
        left = np.array([d for d in range(n_high) if d not in matched_d], dtype=np.int64)
        h_boxes, h_scores = d_boxes[left], d_scores[left]
        h_feats = None if d_feats is None else d_feats[left]
        matches = self._match(new, h_boxes, h_scores, h_feats, len(left), 0)
        matched_t = {t for t, _ in matches}
        matched_d = {d for _, d in matches}
        for t, d in matches:
            self._update_track(new[t], h_boxes[d], h_scores[d], None if h_feats is None else h_feats[d])
            updated.append(new[t])
        for i, t in enumerate(new):
            if i not in matched_t:
                t.state = REMOVED
        _set_velocities(updated, f)

        for t in self.tracks:
            if f - t.end_frame > self._max_lost:
                t.state = REMOVED
        self.tracks = [t for t in self.tracks if t.state != REMOVED]

        rest = np.array([d for d in range(len(left)) if d not in matched_d], dtype=np.int64)
        self._init_tracks(h_boxes[rest], h_scores[rest], None if h_feats is None else h_feats[rest])
        return self._report()

    def _update_without_detections(self, warp: np.ndarray) -> None:
        """The official ``update_without_detections``: drop new tracks, move and predict the others."""
        self.tracks = [t for t in self.tracks if t.state != NEW]
        _warp_tracks(self.tracks, warp)
        self._predict(self.tracks)
        self.tracks = [t for t in self.tracks if not self.frame_id - t.end_frame > self._max_lost]

    def _predict(self, tracks: list[_Track]) -> None:
        if not tracks:
            return
        means = np.stack([t.mean for t in tracks])
        if self.options.zero_size_velocity:
            still = np.array([t.state != TRACKED for t in tracks])
            means[still, 6:8] = 0
        means, covs = TrackTrackKalman.multi_predict(means, np.stack([t.cov for t in tracks]))
        for t, m, c in zip(tracks, means, covs, strict=True):
            t.mean, t.cov = m, c

    def _match(self, tracks: list[_Track], d_boxes: np.ndarray, d_scores: np.ndarray, d_feats: np.ndarray | None,
               n_high: int, n_low: int) -> list[tuple[int, int]]:
        if not tracks or not len(d_boxes):
            return []
        f = self.frame_id
        t_feats = None
        if d_feats is not None:
            t_feats = np.stack([t.feat for t in tracks])
        cost = association_cost(
            np.stack([t.tlbr() for t in tracks]), d_boxes, t_feats, d_feats,
            np.array([t.score for t in tracks], dtype=_F32), np.array([t.prev_score for t in tracks], dtype=_F32),
            d_scores, np.stack([t.velocity for t in tracks]), np.stack([t.box_back(f, DELTA_T) for t in tracks]),
            n_high, n_low, self.options.penalty_p, self.options.penalty_q)
        return iterative_matching(cost, self.options.match_thresh, self.options.reduce_step)

    def _update_track(self, track: _Track, box: np.ndarray, score: np.float32, feat: np.ndarray | None) -> None:
        track.update(self.frame_id, box.copy(), score, feat, self.options.min_len)

    def _init_tracks(self, boxes: np.ndarray, scores: np.ndarray, feats: np.ndarray | None) -> None:
        if not len(boxes):
            return
        alive = [t for t in self.tracks if t.state in (TRACKED, NEW)]
        track_boxes = np.stack([t.tlbr() for t in alive]) if alive else np.zeros((0, 4))
        opts = self.options
        allow = track_aware_nms(boxes.astype(np.float64), scores, track_boxes, opts.tai_thresh, opts.init_thresh)
        for i in np.flatnonzero(allow):
            self._next_id += 1
            self.tracks.append(_Track(self._next_id, self.frame_id, boxes[i].copy(), scores[i],
                                      None if feats is None else feats[i]))

    # -- output -----------------------------------------------------------------------------------
    def _report(self) -> Tracks:
        rows = []
        aspect, area = self.options.aspect_ratio_thresh, self.options.min_box_area
        for t in self.tracks:
            if t.state != TRACKED:
                continue
            w, h = t.mean[2], t.mean[3]
            if aspect is not None and w / h > aspect:
                continue
            if w * h > area:
                rows.append((t.tlbr(), t.track_id, float(t.score)))
        return Tracks.from_list(rows)
