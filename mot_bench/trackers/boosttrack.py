"""BoostTrack, BoostTrack+ and BoostTrack++ (Stanojevic & Todorovic, MVA 2024; arXiv 2408.13003), decision
for decision as the official code (vukasin-stanojevic/BoostTrack @ 3c391f43, ``tracker/{boost_track,assoc,
kalmanfilter,ecc}.py`` with ``default_settings.py``, driven by ``main.py``).

One tracker, three registered names whose defaults are the README's three MOT17 commands:

* ``boosttrack``: ``--no_reid --btpp_arg_iou_boost --btpp_arg_no_sb --btpp_arg_no_vt`` (boxes only);
* ``boosttrackplus``: the same with re-ID (the detector's embeddings);
* ``boosttrackpp``: ``main.py``'s defaults: re-ID, the rich similarity, soft boost and varying threshold.

Three names rather than one name with presets because the README reports them as three methods and a run
compares them side by side: each name gets its own run folder and leaderboard row from one detector pass
(``--tracker boosttrack --tracker boosttrackpp``). Every switch is an option of each, so any mix of them
runs under any name; ``preset=mot20`` selects ``default_settings.py``'s MOT20 values.

One update (``BoostTrack.update``):

1. Camera motion (unless ``cmc_method=none``, upstream's ``--no_cmc``): each track's *state box* is moved
   by the frame's warp (previous -> current pixels, as a 3x3 matrix): both corners are multiplied by it
   and the state's (cx, cy, h, w/h) rebuilt from them; velocities and covariance are untouched. The
   rebuild happens even for the identity warp (it rounds the state). The official warp is its ECC at a
   width of 350 pixels (``cmc_method=ecc_boosttrack``, computed by the runner from the images, once
   per sequence, and cached; outside the runner the tracker estimates it from ``frame.image``); ``file``
   takes precomputed warps instead: BoT-SORT's GMC files or the official ECC cache (``<video>.json``), so it
   runs without images.
2. Kalman predict (state cx, cy, h, r = w/h and four velocities; Q = diag(1 x4, 0.01 x4)); age + 1; a
   track missed in the previous frame loses its hit streak.
3. Track confidence: ``0.9 ** (7 - age)`` while age < 7, then ``0.9 ** (time_since_update - 1)``
   (1/0.9 for a track updated in the previous frame).
4. DLO boost (detections likely belonging to existing tracks; ``dlo_boost``): with ``S`` the plain IoU
   (``rich_similarity`` off) or the mean of the Mahalanobis similarity, the shape similarity and the
   *soft buffered IoU* (``rich_similarity``, BoostTrack++), each detection's best ``S`` over the tracks
   raises its score: to ``dlo_boost_coef * max S`` when neither ``soft_boost`` nor
   ``varying_threshold`` is on; with ``soft_boost`` to ``0.65 * score + 0.35 * max S ** 1.5``; with
   ``varying_threshold`` to ``det_thresh + 1e-5`` when ``S`` exceeds ``max(0.95 - 0.0075 * (frames
   the track was missed), 0.8)`` for some track. Scores never drop.
5. DUO boost (detections likely of an undetected object; ``duo_boost``, from the second frame): a
   detection below ``det_thresh`` whose smallest Mahalanobis distance to every track exceeds 13.2767
   (chi-square 99%, 4 dof) gets ``det_thresh + 1e-4`` -- unless it overlaps (IoU > 0.3) another such
   detection with a higher score.
6. Detections with score >= ``det_thresh`` are associated, in one round, by ``lap.lapjv`` maximising
   ``IoU + lambda_iou * c * IoU + lambda_mhd * MhD similarity + lambda_shape * c * shape similarity
   [+ (1 + lambda_iou + lambda_shape + lambda_mhd) * 1.5 * appearance]``, where ``c`` = detection score
   x track confidence (0 where IoU < ``iou_threshold``) and the appearance is the dot product of the
   embeddings. When no row and no column of ``cost > iou_threshold`` has more than one entry, those
   pairs are taken without the solver. A pair is kept when IoU >= ``iou_threshold``, or (re-ID) IoU >=
   ``iou_threshold / 2`` and appearance >= 0.75.
7. Matched tracks are updated (Kalman update with R = diag(1, 1, 10, 0.01); embedding EMA with weight
   ``0.95 + 0.05 * (1 - (score - det_thresh) / (1 - det_thresh))``, renormalised); every unmatched
   detection starts a track.
8. Output, newest track first: tracks updated this frame with hit streak >= ``min_hits`` (or in the first
   ``min_hits`` frames), the *Kalman state* box, id + 1 and the track confidence as score; then main.py's
   filter (w*h > ``min_box_area``, not w/h > ``aspect_ratio_thresh``). Tracks missed for more than
   ``max_age`` frames are dropped after the output.

Rules of the official arithmetic that are easy to miss, and how they are kept:

* Lost-track length per sequence: ``default_settings.py`` looks the sequence's name up in a table of
  frame rates and uses ``max(int(2 x fps), 30)`` (60 at 30 fps, 50 at 25, 30 at 14); a name missing from
  the table gets 30. The table names MOT17's training videos only with ``-FRCNN`` (``main.py`` evaluates
  those copies); a MOT17 name with another detector suffix is the same video, and ``max_age_lookup=video``
  (default) gives it that video's entry; ``max_age_lookup=exact`` is the official lookup of the name as it
  is (``MOT17-09-SDP`` is not in the table: 30). An explicit ``max_age`` replaces the table.
* Inputs are float32 (YOLOX's output), and the official code ran under numpy 1.24 (its
  ``boost-track-env.yml``): a float32 *scalar* combined with a Python float is computed in float64 there
  (numpy 2 would stay in float32). So a detection's measurement (cx, cy, h, w/(h + 1e-6)) takes its
  width and height as float32 differences and the rest in float64; score arrays stay float32 (a boosted
  score is rounded to float32 when stored), and thresholds compare in float32 (a score of exactly 0.6
  passes ``>= 0.6``). A detection's own IoU area is float32 (float32 boxes) and joins the float64 track
  area; the DUO overlap test between two detections is float32 throughout.
* The Mahalanobis similarity is a softmax over the *detections* of ``exp(13.2767 - min(d, 13.2767))``
  per track, in which the capped entries still count (as exp(0) = 1) before they are set to 0. The DLO
  boost takes it over all detections, the association over those kept.
* Shape similarity: ``exp(-(|dw - tw| / max(dw, tw) + |dh - th| / max(dw, tw)))`` -- both terms divided
  by the larger *width*, the bug the README keeps on purpose (``shape_similarity_corrected``: its
  ``--s_sim_corr``, heights by the larger height).
* Soft buffered IoU: the detection is widened by ``0.25 (1 - c)`` and the track by ``0.5 (1 - c)`` of
  their own sizes on every side, ``c`` the track confidence.
* Kalman products: F and H are 0/1 matrices, so their products are slices here (bit-identical); the
  official ``multi_dot`` evaluates F (P F^T), kept. The update makes ``cho_factor``/``cho_solve``'s LAPACK
  calls on the official layouts and the official products as stacked matmuls (:func:`kalman_update`). The
  camera warp multiplies each corner with the same matrix-vector product.
* ``main.py`` calls the tracker only on frames where the detector returned boxes, and YOLOX's
  postprocess drops scores below 0.1 (``test_conf``): detections below ``min_det_score`` (0.1) never
  reach the tracker, and a frame left empty does not advance it (``skip_empty_frames``); its camera
  warp is composed into the next frame's (the official ECC would compare the two images directly).
* Ids count from 1 per sequence (``main.py`` keeps one counter across all videos of a run).
* exp and pow are numpy's: the official runs used numpy 1.24's implementation, whose last bit differs
  from numpy 2's for about one value in four on AVX-512 machines (libm on others); no written row of
  the MOT17 half-val sequences changes (tests/fixtures/boosttrack/PROVENANCE.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs

from mot_bench.options import option, options_dict
from mot_bench.plugins import Tracker
from mot_bench.trackers.common import cmc
from mot_bench.trackers.common.association import iou_batch, lapjv_pairs
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

# default_settings.py's frame-rate table (MOTChallenge's seqinfo values), as the names it lists:
# MOT17's training videos under -FRCNN only, its test videos under all three detector names, MOT20.
_MOT17_FPS = {"01": 30, "02": 30, "03": 30, "04": 30, "05": 14, "06": 14, "07": 30, "08": 30, "09": 30,
              "10": 30, "11": 30, "12": 30, "13": 25, "14": 25}
_MOT17_TEST = ("01", "03", "06", "07", "08", "12", "14")
OFFICIAL_FRAME_RATES: dict[str, int] = {
    **{f"MOT17-{n}-FRCNN": fps for n, fps in _MOT17_FPS.items()},
    **{f"MOT17-{n}-{d}": _MOT17_FPS[n] for n in _MOT17_TEST for d in ("SDP", "DPM")},
    **{f"MOT20-0{n}": 25 for n in range(1, 9)},
}
_MOT17_NAME = re.compile(r"^MOT17-(\d\d)-(FRCNN|SDP|DPM)$")

CHI2_99_4DOF = 13.2767  # the Mahalanobis limit of the DUO boost and the similarity
_R = np.diag([1.0, 1.0, 10.0, 0.01])  # measurement noise
_Q_DIAG = np.array([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.01, 0.01])  # process noise
_P0 = np.eye(8)
_P0[4:, 4:] *= 1000.0
_P0 *= 10.0
_CONF_COEF = 0.9
_CONF_AGE = 7


def official_max_age(seq_name: str | None, lookup: str = "video") -> int:
    """``default_settings.GeneralSettings.max_age``: max(int(2 x fps), 30) for a name in the official
    table, 30 otherwise; ``lookup="video"`` reads a MOT17 -SDP/-DPM name as the table's -FRCNN video."""
    if seq_name is None:
        return 30
    fps = OFFICIAL_FRAME_RATES.get(seq_name)
    if fps is None and lookup == "video":
        m = _MOT17_NAME.match(seq_name)
        if m is not None:
            fps = OFFICIAL_FRAME_RATES.get(f"MOT17-{m.group(1)}-FRCNN")
    return 30 if fps is None else max(int(fps * 2), 30)


def measurements(tlbr32: np.ndarray) -> np.ndarray:
    """``convert_bbox_to_z`` of float32 boxes under numpy 1: (N, 4) float64 cx, cy, h, w / (h + 1e-6), with
    w and h float32 differences and everything after them float64."""
    w = (tlbr32[:, 2] - tlbr32[:, 0]).astype(np.float64)
    h = (tlbr32[:, 3] - tlbr32[:, 1]).astype(np.float64)
    out = np.empty((len(tlbr32), 4))
    out[:, 0] = tlbr32[:, 0].astype(np.float64) + w / 2.0
    out[:, 1] = tlbr32[:, 1].astype(np.float64) + h / 2.0
    out[:, 2] = h
    out[:, 3] = w / (h + 1e-6)
    return out


def state_boxes(x: np.ndarray) -> np.ndarray:
    """``convert_x_to_bbox`` of (T, >=4) states: x1, y1, x2, y2 with w = r * h (0 where r <= 0)."""
    h = x[:, 2]
    w = x[:, 3] * h
    w[x[:, 3] <= 0] = 0.0
    return np.stack([x[:, 0] - w / 2.0, x[:, 1] - h / 2.0, x[:, 0] + w / 2.0, x[:, 1] + h / 2.0], axis=1)


def mahalanobis(z: np.ndarray, x: np.ndarray, p_diag: np.ndarray) -> np.ndarray:
    """(N, T) squared Mahalanobis distance of measurements ``z`` (N, 4) to states ``x`` (T, 4) with the
    states' diagonal covariance ``p_diag`` (T, 4), as ``get_mh_dist_matrix`` sums it."""
    sigma_inv = np.reciprocal(p_diag)
    return ((z.reshape((-1, 1, 4)) - x.reshape((1, -1, 4))) ** 2 * sigma_inv.reshape((1, -1, 4))).sum(axis=2)


def mahalanobis_similarity(dist: np.ndarray, softmax_temp: float = 1.0) -> np.ndarray:
    """``MhDist_similarity``: per track (column), a softmax over the detections of ``limit - min(d, limit)``
    (capped entries count in the sum) with the capped entries then set to 0."""
    capped = dist > CHI2_99_4DOF
    d = dist.copy()
    d[capped] = CHI2_99_4DOF
    d = CHI2_99_4DOF - d
    e = np.exp(d / softmax_temp)
    sim = e / e.sum(0).reshape((1, -1))
    return np.where(capped, 0, sim)


def shape_similarity(dets: np.ndarray, trks: np.ndarray, corrected: bool = False) -> np.ndarray:
    """``shape_similarity_v1`` (heights divided by the larger width, the official default) or ``_v2``."""
    if dets.size == 0 or trks.size == 0:
        return np.zeros((0, 0))
    dw = (dets[:, 2] - dets[:, 0]).reshape((-1, 1))
    dh = (dets[:, 3] - dets[:, 1]).reshape((-1, 1))
    tw = (trks[:, 2] - trks[:, 0]).reshape((1, -1))
    th = (trks[:, 3] - trks[:, 1]).reshape((1, -1))
    h_norm = np.maximum(dh, th) if corrected else np.maximum(dw, tw)
    return np.exp(-(np.abs(dw - tw) / np.maximum(dw, tw) + np.abs(dh - th) / h_norm))


def soft_biou(dets: np.ndarray, trks: np.ndarray) -> np.ndarray:
    """``soft_biou_batch``: IoU of the detections widened by 0.25 (1 - c) and the tracks by 0.5 (1 - c) of
    their own width/height on each side, ``c`` the track confidence (column 4 of ``trks``)."""
    b1 = np.expand_dims(dets, 1)
    b2 = np.expand_dims(trks, 0)
    k1, k2 = 0.25, 0.5
    conf = b2[..., 4]
    b1x1 = b1[..., 0] - (b1[..., 2] - b1[..., 0]) * (1 - conf) * k1
    b2x1 = b2[..., 0] - (b2[..., 2] - b2[..., 0]) * (1 - conf) * k2
    b1y1 = b1[..., 1] - (b1[..., 3] - b1[..., 1]) * (1 - conf) * k1
    b2y1 = b2[..., 1] - (b2[..., 3] - b2[..., 1]) * (1 - conf) * k2
    b1x2 = b1[..., 2] + (b1[..., 2] - b1[..., 0]) * (1 - conf) * k1
    b2x2 = b2[..., 2] + (b2[..., 2] - b2[..., 0]) * (1 - conf) * k2
    b1y2 = b1[..., 3] + (b1[..., 3] - b1[..., 1]) * (1 - conf) * k1
    b2y2 = b2[..., 3] + (b2[..., 3] - b2[..., 1]) * (1 - conf) * k2
    w = np.maximum(0.0, np.minimum(b1x2, b2x2) - np.maximum(b1x1, b2x1))
    h = np.maximum(0.0, np.minimum(b1y2, b2y2) - np.maximum(b1y1, b2y1))
    wh = w * h
    return wh / ((b1x2 - b1x1) * (b1y2 - b1y1) + (b2x2 - b2x1) * (b2y2 - b2y1) - wh)


def track_confidence(age: int, time_since_update: int) -> float:
    """``KalmanBoxTracker.get_confidence``: 0.9 ** (7 - age) while young, then 0.9 ** (missed frames - 1)."""
    if age < _CONF_AGE:
        return _CONF_COEF ** (_CONF_AGE - age)
    return _CONF_COEF ** (time_since_update - 1)


def kalman_update(x: np.ndarray, P: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The official ``KalmanFilter.update`` of a stack of tracks, (M, 8), (M, 8, 8), (M, 4): ``cho_factor`` /
    ``cho_solve``'s LAPACK calls (potrf, potrs) per track on the official layouts, then the official products
    (``np.dot(innovation, K.T)``, ``multi_dot`` = K (S K^T)) as stacked matmuls, which compute each matrix as
    ``np.dot`` does (checked bit for bit in the tests)."""
    S = P[:, :4, :4] + _R
    gains = np.empty((len(x), 8, 4))
    for i in range(len(x)):
        chol, _ = dpotrf(S[i], lower=1, clean=0)
        gains[i] = dpotrs(chol, np.ascontiguousarray(P[i, :, :4]).T, lower=1)[0].T
    gains_t = gains.transpose(0, 2, 1)
    x = x + np.matmul((z - x[:, :4])[:, None, :], gains_t)[:, 0, :]
    P = P - np.matmul(gains, np.matmul(S, gains_t))
    return x, P


def _reid_option(default: bool) -> Any:
    return option(default, "appearance term from the detector's embeddings (off: upstream's --no_reid)")


def _rich_option(default: bool) -> Any:
    return option(default, "DLO boost similarity: mean of Mahalanobis, shape and soft buffered IoU (BoostTrack++; "
                           "off: plain IoU, --btpp_arg_iou_boost)")


def _soft_boost_option(default: bool) -> Any:
    return option(default, "DLO soft boost: score -> max(score, 0.65 score + 0.35 S^1.5) (BoostTrack++; off: "
                           "--btpp_arg_no_sb)")


def _varying_threshold_option(default: bool) -> Any:
    return option(default, "DLO boost to det_thresh where S beats a threshold falling from 0.95 to 0.8 with the "
                           "track's missed frames (BoostTrack++; off: --btpp_arg_no_vt)")


@dataclass
class BoostTrackOptions:
    preset: Literal["mot17", "mot20"] = option(
        "mot17", "default_settings.py's dataset values: mot17 (det_thresh 0.6, dlo_boost_coef 0.65) or mot20 "
        "(0.4, 0.5); options given explicitly override it")
    det_thresh: float = option(0.6, "detections scoring at least this (after boosting) are associated and start "
                                    "tracks", range=(0.3, 0.8), bounds=(0.0, 1.0))
    iou_threshold: float = option(0.3, "IoU a match needs (half of it with a strong appearance match)",
                                  range=(0.1, 0.5), bounds=(0.0, 1.0))
    min_hits: int = option(3, "hit streak before a track is reported (after the first min_hits frames)",
                           range=(1, 5), bounds=(0, None))
    max_age: int | None = option(None, "frames a track survives unmatched (none: the official per-sequence table, "
                                       "max(2 x fps, 30) for the sequences it names, else 30)",
                                 range=(10, 90), bounds=(0, None))
    max_age_lookup: Literal["video", "exact"] = option(
        "video", "how the table is read: video (a MOT17 -SDP/-DPM name gets its video's -FRCNN entry) or exact "
        "(the official lookup of the name as given; other names get 30)")
    lambda_iou: float = option(0.5, "weight of the confidence-scaled IoU term", range=(0.0, 1.0), bounds=(0.0, None))
    lambda_mhd: float = option(0.25, "weight of the Mahalanobis similarity", range=(0.0, 1.0), bounds=(0.0, None))
    lambda_shape: float = option(0.25, "weight of the confidence-scaled shape similarity", range=(0.0, 1.0),
                                 bounds=(0.0, None))
    dlo_boost: bool = option(True, "raise the scores of detections that overlap tracks (DLO)")
    duo_boost: bool = option(True, "raise the scores of isolated detections far from every track (DUO)")
    dlo_boost_coef: float = option(0.65, "DLO boost factor when neither soft_boost nor varying_threshold is on",
                                   range=(0.3, 0.9), bounds=(0.0, None))
    rich_similarity: bool = _rich_option(False)
    soft_boost: bool = _soft_boost_option(False)
    varying_threshold: bool = _varying_threshold_option(False)
    with_reid: bool = _reid_option(False)
    shape_similarity_corrected: bool = option(False, "shape similarity with heights divided by the larger height "
                                                     "(--s_sim_corr; the default keeps the published bug)")
    cmc_method: Literal["ecc_boosttrack", "file", "none", "ecc", "ecc_strongsort", "sparseOptFlow"] = option(
        "ecc_boosttrack", "camera motion: ecc_boosttrack (the official ECC, from the images), file (gmc_dir: "
        "BoT-SORT's GMC-<SEQ>.txt or the official <video>.json ECC cache), none (--no_cmc), or another runner "
        "method")
    gmc_dir: str | None = option(None, "folder of precomputed warps for cmc_method=file")
    min_det_score: float | None = option(0.1, "detections below this never reach the tracker (YOLOX's test_conf "
                                              "in the official pipeline; none: keep all)", bounds=(0.0, 1.0))
    skip_empty_frames: bool = option(True, "a frame without detections does not advance the tracker (main.py "
                                           "skips frames where the detector returns nothing)")
    min_box_area: float = option(10.0, "output filter of main.py: w*h > this", bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               bounds=(0.0, None))

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "mot17": {},
        "mot20": {"det_thresh": 0.4, "dlo_boost_coef": 0.5},
    }


@dataclass
class BoostTrackPlusOptions(BoostTrackOptions):
    with_reid: bool = _reid_option(True)


@dataclass
class BoostTrackPPOptions(BoostTrackOptions):
    rich_similarity: bool = _rich_option(True)
    soft_boost: bool = _soft_boost_option(True)
    varying_threshold: bool = _varying_threshold_option(True)
    with_reid: bool = _reid_option(True)


_EMPTY_INT = np.zeros((0,), dtype=np.int64)


class BoostTrackTracker(Tracker):
    """BoostTrack with the defaults of its README's MOT17 command (no re-ID)."""

    name = "boosttrack"
    needs_embeddings = False
    motion_only = False  # camera motion by default (images or a warp folder)

    Options = BoostTrackOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        vars(self).update(options_dict(self.options))  # plain attributes: read many times per frame
        cmc.check_method(self.cmc_method)
        self.needs_embeddings = self.with_reid
        self.reset(None)

    @property
    def needs_camera_motion(self) -> bool:  # read per instance by the runner: warps unless cmc_method is none
        return self.cmc_method != "none"

    def reset(self, seq: SeqInfo | None = None) -> None:
        self._seq = seq
        self.frame_count = 0
        self._next_id = 0
        self._max_age = self.max_age if self.max_age is not None else official_max_age(
            None if seq is None else seq.name, self.max_age_lookup)
        self._x = np.zeros((0, 8))
        self._P = np.zeros((0, 8, 8))
        self._ids = _EMPTY_INT
        self._age = _EMPTY_INT
        self._tsu = _EMPTY_INT
        self._streak = _EMPTY_INT
        self._embs: list[np.ndarray] = []
        self._pending_warp: np.ndarray | None = None
        self._file_warps: dict[int, np.ndarray] | None = None
        if self.cmc_method == "file" and self.gmc_dir is not None and seq is not None:
            self._file_warps = cmc.file_warps(self.gmc_dir, seq)
        # outside the runner, an image method estimates from frame.image, as the official ECC does: only on
        # frames the tracker processes, so after a skipped frame it compares the two images directly
        self._estimator = cmc.MotionEstimator(self.cmc_method) if self.cmc_method in cmc.IMAGE_METHODS else None

    # -- camera motion -----------------------------------------------------------------------------
    def _frame_warp(self, frame: Frame | None) -> np.ndarray | None:
        """This frame's warp as a 3x3 matrix, or None when camera motion is off."""
        if self.cmc_method == "none":
            return None
        warp = None if frame is None else frame.camera_motion
        if warp is None and self._file_warps is not None and frame is not None:
            warp = self._file_warps.get(frame.frame_id)
            if warp is None and self.frame_count > 1:
                raise RuntimeError(f"boosttrack: no warp for frame {frame.frame_id} in {self.gmc_dir}")
        if warp is None and self._estimator is not None and frame is not None and frame.image is not None:
            warp = self._estimator(frame.image)  # the identity on the first frame
        if warp is None:
            if self.frame_count == 1:
                warp = cmc.identity()  # the official ECC's first frame
            else:
                raise RuntimeError(f"boosttrack: cmc_method {self.cmc_method!r} needs frame.camera_motion (the "
                                   "runner provides it), frame.image for an image method, or, for 'file', "
                                   "gmc_dir; cmc_method=none runs without")
        matrix = np.vstack((np.asarray(warp, dtype=np.float64).reshape(2, 3), [[0.0, 0.0, 1.0]]))
        if self._pending_warp is not None:  # a skipped frame's motion is part of this one
            matrix = matrix @ self._pending_warp
            self._pending_warp = None
        return matrix

    def _skip_frame(self, frame: Frame | None) -> Tracks:
        if self.cmc_method != "none" and self.frame_count > 0 and frame is not None:
            warp = frame.camera_motion
            if warp is None and self._file_warps is not None:
                warp = self._file_warps.get(frame.frame_id)
            if warp is not None:
                m = np.vstack((np.asarray(warp, dtype=np.float64).reshape(2, 3), [[0.0, 0.0, 1.0]]))
                self._pending_warp = m if self._pending_warp is None else m @ self._pending_warp
        return Tracks.empty()

    def _camera_update(self, matrix: np.ndarray) -> None:
        """``KalmanBoxTracker.camera_update`` of every track: both state-box corners through the 3x3 warp, the
        state's (cx, cy, h, w/h) rebuilt from them."""
        n = len(self._x)
        boxes = state_boxes(self._x)
        ones = np.ones((n, 1))
        stack = np.broadcast_to(matrix, (n, 3, 3))
        p1 = np.matmul(stack, np.concatenate([boxes[:, :2], ones], axis=1)[:, :, None])[:, :, 0]
        p2 = np.matmul(stack, np.concatenate([boxes[:, 2:], ones], axis=1)[:, :, None])[:, :, 0]
        w = p2[:, 0] - p1[:, 0]
        h = p2[:, 1] - p1[:, 1]
        self._x[:, 0] = p1[:, 0] + w / 2
        self._x[:, 1] = p1[:, 1] + h / 2
        self._x[:, 2] = h
        self._x[:, 3] = w / h

    # -- one frame ---------------------------------------------------------------------------------
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        detections = detections.as_float32()
        if self.min_det_score is not None:
            keep_in = detections.scores >= self.min_det_score  # float32 comparison, as torch on YOLOX's output
            if not keep_in.all():
                detections = detections.select(keep_in)
        if len(detections) == 0 and self.skip_empty_frames:
            return self._skip_frame(frame)
        self.frame_count += 1
        dets = np.concatenate([detections.tlbr, detections.scores[:, None]], axis=1)  # float32 (N, 5)

        matrix = self._frame_warp(frame)
        n_trk = len(self._x)
        if matrix is not None and n_trk:
            self._camera_update(matrix)

        # predict every track (F and Q applied as slices: bit-identical to F (P F^T) + Q)
        if n_trk:
            self._x[:, :4] = self._x[:, :4] + self._x[:, 4:]
            P = self._P.copy()
            P[:, :, :4] = P[:, :, :4] + self._P[:, :, 4:]
            P[:, :4, :] = P[:, :4, :] + P[:, 4:, :]
            idx = np.arange(8)
            P[:, idx, idx] += _Q_DIAG
            self._P = P
            self._age = self._age + 1
            self._streak = np.where(self._tsu > 0, 0, self._streak)
            self._tsu = self._tsu + 1
        boxes = state_boxes(self._x)
        confs = np.array([track_confidence(a, t) for a, t in zip(self._age.tolist(), self._tsu.tolist(),
                                                                 strict=True)])
        trks = np.concatenate([boxes, confs[:, None]], axis=1)  # (T, 5) float64

        z_all = measurements(dets[:, :4])
        mh_all = mahalanobis(z_all, self._x[:, :4], self._P[:, np.arange(4), np.arange(4)]) if n_trk else None
        iou_all = iou_batch(dets, trks) if n_trk else None

        if self.dlo_boost and n_trk and len(dets):
            self._dlo_boost(dets, trks, iou_all, mh_all)
        if self.duo_boost and n_trk and len(dets) and self.frame_count > 1:
            self._duo_boost(dets, mh_all)

        remain = dets[:, 4] >= self.det_thresh  # float32 comparison
        dets = dets[remain]
        scores = dets[:, 4]
        embs = None
        if self.with_reid:
            if detections.embeddings is None:
                raise ValueError(f"{self.name}: with_reid needs embeddings from the detector (or with_reid=false)")
            embs = np.asarray(detections.embeddings[remain], dtype=np.float32)

        matched, unmatched = self._associate(dets, trks, embs, None if iou_all is None else iou_all[remain],
                                             None if mh_all is None else mh_all[remain], z_all[remain])
        if len(matched):
            z = z_all[remain]
            trust = (scores - self.det_thresh) / (1 - self.det_thresh)
            alpha = 0.95 + (1 - 0.95) * (1 - trust)
            rows = matched[:, 1]
            self._x[rows], self._P[rows] = kalman_update(self._x[rows], self._P[rows], z[matched[:, 0]])
            if embs is not None:
                for d, t in matched:
                    e = alpha[d] * self._embs[t] + (1 - alpha[d]) * embs[d]
                    e /= np.linalg.norm(e)
                    self._embs[t] = e
            self._tsu[rows] = 0
            self._streak[rows] += 1
        if len(unmatched):
            self._add_tracks(z_all[remain][unmatched], None if embs is None else embs[unmatched])
        return self._report()

    def _dlo_boost(self, dets: np.ndarray, trks: np.ndarray, iou: np.ndarray, mh: np.ndarray) -> None:
        """``dlo_confidence_boost`` on ``dets`` (float32, scores changed in place)."""
        if self.rich_similarity:
            shape = shape_similarity(dets, trks, self.shape_similarity_corrected)
            S = (mahalanobis_similarity(mh, 1) + shape + soft_biou(dets, trks)) / 3
        else:
            S = iou
        if not self.soft_boost and not self.varying_threshold:
            dets[:, 4] = np.maximum(dets[:, 4], S.max(1) * self.dlo_boost_coef)
            return
        if self.soft_boost:
            alpha = 0.65
            dets[:, 4] = np.maximum(dets[:, 4], alpha * dets[:, 4] + (1 - alpha) * S.max(1) ** 1.5)
        if self.varying_threshold:
            start, end, steps = 0.95, 0.8, 20
            missed = (self._tsu - 1).astype(np.float64)
            hit = (S > np.maximum(start - missed * ((start - end) / steps), end)).max(1)
            scores = dets[:, 4].copy()
            scores[hit] = np.maximum(scores[hit], self.det_thresh + 1e-5)
            dets[:, 4] = scores

    def _duo_boost(self, dets: np.ndarray, mh: np.ndarray) -> None:
        """``duo_confidence_boost``: isolated low detections far from every track get det_thresh + 1e-4."""
        mask = (mh.min(1) > CHI2_99_4DOF) & (dets[:, 4] < self.det_thresh)
        cand = np.flatnonzero(mask)
        if len(cand):
            overlap = iou_batch(dets[cand], dets[cand]) - np.eye(len(cand))  # float32 IoU, then float64
            most = overlap.max(axis=1)
            keep = most <= 0.3  # a degenerate box's NaN row is neither kept here nor below, as upstream
            s = dets[cand, 4]
            for i in np.flatnonzero(most > 0.3):  # kept if no overlapping candidate scores higher
                keep[i] = s[i] == np.max(s[overlap[i] > 0.3], initial=s[i])
            mask = np.zeros(len(dets), dtype=bool)
            mask[cand[keep]] = True
        dets[:, 4] = np.where(mask, self.det_thresh + 1e-4, dets[:, 4])

    def _associate(self, dets: np.ndarray, trks: np.ndarray, embs: np.ndarray | None, iou: np.ndarray | None,
                   mh: np.ndarray | None, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``associate`` + ``linear_assignment``: (pairs [det, trk], unmatched detections in official order)."""
        n = len(dets)
        if iou is None or n == 0:
            return np.zeros((0, 2), dtype=np.int64), np.arange(n)
        emb_cost = None
        if embs is not None and self._embs:
            emb_cost = embs.reshape(n, -1) @ np.array(self._embs).reshape((len(self._embs), -1)).T
        cost = iou.copy()
        conf = np.multiply(dets[:, 4].reshape((-1, 1)), trks[:, 4].reshape((1, -1)))
        conf[iou < self.iou_threshold] = 0
        cost += self.lambda_iou * conf * iou
        cost += self.lambda_mhd * mahalanobis_similarity(mh)
        cost += self.lambda_shape * conf * shape_similarity(dets, trks, self.shape_similarity_corrected)
        if emb_cost is not None:
            lambda_emb = (1 + self.lambda_iou + self.lambda_shape + self.lambda_mhd) * 1.5
            cost += lambda_emb * emb_cost
        above = (cost > self.iou_threshold).astype(np.int32)
        if above.sum(1).max() == 1 and above.sum(0).max() == 1:
            pairs = np.stack(np.where(above), axis=1)
        else:
            pairs = lapjv_pairs(-cost)
        if len(pairs) == 0:
            return np.zeros((0, 2), dtype=np.int64), np.arange(n)
        pair_iou = iou[pairs[:, 0], pairs[:, 1]]
        valid = pair_iou >= self.iou_threshold
        if emb_cost is not None:
            valid |= (pair_iou >= self.iou_threshold / 2) & (emb_cost[pairs[:, 0], pairs[:, 1]] >= 0.75)
        unmatched = np.concatenate([np.setdiff1d(np.arange(n), pairs[:, 0]), pairs[~valid, 0]]).astype(np.int64)
        return pairs[valid], unmatched

    def _add_tracks(self, z: np.ndarray, embs: np.ndarray | None) -> None:
        k = len(z)
        x = np.zeros((k, 8))
        x[:, :4] = z
        self._x = np.concatenate([self._x, x])
        self._P = np.concatenate([self._P, np.broadcast_to(_P0, (k, 8, 8))])
        self._ids = np.concatenate([self._ids, np.arange(self._next_id, self._next_id + k)])
        self._next_id += k
        zeros = np.zeros(k, dtype=np.int64)
        self._age = np.concatenate([self._age, zeros])
        self._tsu = np.concatenate([self._tsu, zeros])
        self._streak = np.concatenate([self._streak, zeros])
        if embs is not None:
            self._embs.extend(embs)

    def _report(self) -> Tracks:
        n = len(self._x)
        if n == 0:
            return Tracks.empty()
        shown = (self._tsu < 1) & ((self._streak >= self.min_hits) | (self.frame_count <= self.min_hits))
        order = np.flatnonzero(shown)[::-1]  # newest track first
        tlbr = state_boxes(self._x[order])
        ids = self._ids[order] + 1
        scores = np.array([track_confidence(a, t) for a, t in zip(self._age[order].tolist(),
                                                                 self._tsu[order].tolist(), strict=True)])
        alive = self._tsu <= self._max_age
        if not alive.all():
            self._x, self._P = self._x[alive], self._P[alive]
            self._ids, self._age = self._ids[alive], self._age[alive]
            self._tsu, self._streak = self._tsu[alive], self._streak[alive]
            if self._embs:
                self._embs = [e for e, a in zip(self._embs, alive.tolist(), strict=True) if a]
        if not len(order):
            return Tracks.empty()
        w = tlbr[:, 2] - tlbr[:, 0]
        h = tlbr[:, 3] - tlbr[:, 1]
        ok = w * h > self.min_box_area
        if self.aspect_ratio_thresh is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                ok &= ~(w / h > self.aspect_ratio_thresh)
        return Tracks(tlbr[ok], ids[ok], scores[ok])


class BoostTrackPlusTracker(BoostTrackTracker):
    """BoostTrack+: BoostTrack with the appearance term (README's BoostTrackPlus command)."""

    name = "boosttrackplus"
    Options = BoostTrackPlusOptions


class BoostTrackPPTracker(BoostTrackTracker):
    """BoostTrack++: main.py's defaults (re-ID, rich similarity, soft boost, varying threshold)."""

    name = "boosttrackpp"
    Options = BoostTrackPPOptions
