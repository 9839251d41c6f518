"""Deep OC-SORT (Maggiolino, Ahmad, Cao, Kitani, ICIP 2023), decision for decision as its official code
(GerardMaggiolino/Deep-OC-SORT @ 6bb51d0, ``trackers/integrated_ocsort_embedding/{ocsort,association,
kalmanfilter,cmc}.py`` driven by ``main.py``) in its one-embedding-per-box mode (``--grid_off``).

It is OC-SORT (:mod:`mot_bench.trackers.ocsort`; the shared rounds live in :mod:`mot_bench.trackers.common.ocsort_core`)
with four additions, each an option here as a switch there:

* ``new_kf`` (``--new_kf_off``): a Kalman filter on (cx, cy, w, h) and their velocities whose noise
  scales with the box: Q = diag((w/20)^2, (h/20)^2, (w/20)^2, (h/20)^2, (w/160)^2, (h/160)^2,
  (w/160)^2, (h/160)^2) from the state's w, h before each prediction; R = diag((w/20)^2, (h/20)^2,
  (w/20)^2, (h/20)^2) from the state's w, h before each update; P0 = that Q of the first box with
  the position block x4 and the velocity block x100. Before predicting, a w (h) velocity that would
  make w (h) non-positive is zeroed, and a track missed in the previous frame has both zeroed.
  Off: OC-SORT's (x, y, area, ratio) filter.
* ``embedding`` (``--emb_off``): an appearance term in the first round. Each track keeps one
  embedding, an EMA ``a * e + (1 - a) * d`` renormalised after every update, whose weight depends
  on the detection's confidence: ``a = af + (1 - af) * (1 - (score - det_thresh) / (1 - det_thresh))``
  (``af`` = ``alpha_fixed_emb``, 0.95), so a confident detection moves it most. The first round's
  solver maximises IoU + momentum + ``w * (d . e)``.
* ``adaptive_weight`` (``--aw_off``): ``w`` is ``w_assoc_emb`` (0.75) plus half of how clearly the best
  match stands out, per row and per column: ``min(top1 - top2, aw_param) / 2`` over the row's
  similarities (when the row has two or more) plus the same over the column's. Off: ``w_assoc_emb``.
* ``cmc`` (``--cmc_off``): the camera warp (previous -> current frame, 2x3) moves every track before
  prediction: its Kalman mean and covariance (all four 2-vector blocks rotated/scaled with the new
  filter; x, y and their velocities with the old), the state saved for re-update while it is lost and
  that state's anchor box, and the boxes the direction and recovery terms read (the last observation,
  when its five numbers sum to > 0, and the observations of the last ``delta_t`` + 1 ages; the last
  observation is one of those when it is recent, so upstream moves it twice, and so do we).

The official MOT17 evaluation (``main.py``/``args.py`` defaults) has every switch on, det_thresh 0.6,
iou 0.3, delta_t 3, inertia 0.2, w_assoc_emb 0.75, alpha_fixed_emb 0.95, aw_param 0.5, max_age 30,
min_hits 3, and the output filter w*h > 10 and not w/h > 1.6. (Its README's "best ablation" command
adds ``--new_kf_off``; the code's default, kept here, is the new filter on.) Its default grid mode
embeds three horizontal parts of each box and needs those three embeddings per box; we take the one
embedding per box the detector provides (``--grid_off``).

Camera motion: ``frame.camera_motion`` when the runner provides it; otherwise, with ``gmc_dir``, the
official precomputed GMC file of the sequence (upstream's ``cmc.py`` "file" method reads BoT-SORT's
files, row k for the k-th half-val frame, the same frames :func:`mot_bench.trackers.common.cmc.file_warps`
maps); otherwise the identity, which leaves every state bit-identical to running with ``cmc`` off.

Rules of the official arithmetic kept here (besides those of :mod:`mot_bench.trackers.ocsort`):

* Inputs: boxes, scores and embeddings in float32 (YOLOX's output and the half-val re-ID model's
  float32 output): ``as_float32()``, embeddings cast. The appearance similarity is a float32 matrix
  product, the weights and the EMA float32; they join the float64 IoU in the sum.
* The new filter's P0 is computed in float32 (from the float32 box) and only then widened; R and Q
  are float64 (from the state).
* Re-update after a gap (ORU) restores the state saved at the first miss and updates along the
  straight path from the saved anchor box to the new box (in x, y, w, h with the new filter) with
  the filter's *default* R = I and predicting with the default Q = I in between (upstream's
  ``unfreeze`` calls ``update``/``predict`` without arguments); the real box is then applied with
  the size-scaled R computed from the state *before* the restore.
* The recovery round is IoU only; the appearance EMA is updated in both rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.trackers.common import cmc
from mot_bench.trackers.common.association import ASSOCIATION_FUNCS
from mot_bench.trackers.common.ocsort_core import (
    NO_OBS,
    NO_VEL,
    direction,
    first_round,
    output_filter,
    previous_obs,
    recovery_pairs,
)
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

# OC-SORT's filter (x, y, area, ratio): R, P0, Q
_R_SR = np.eye(4)
_R_SR[2:, 2:] *= 10.0
_P0_SR = np.eye(7)
_P0_SR[4:, 4:] *= 1000.0
_P0_SR *= 10.0
_Q_SR = np.eye(7)
_Q_SR[-1, -1] *= 0.01
_Q_SR[4:, 4:] *= 0.01

_P_STD, _V_STD, _M_STD = 1 / 20, 1 / 160, 1 / 20


def process_noise(w, h) -> np.ndarray:
    """The new filter's Q (and, from the first box, P0): diag over (x, y, w, h, vx, vy, vw, vh),
    in the dtype of ``w`` and ``h``."""
    return np.diag(((_P_STD * w) ** 2, (_P_STD * h) ** 2, (_P_STD * w) ** 2, (_P_STD * h) ** 2,
                    (_V_STD * w) ** 2, (_V_STD * h) ** 2, (_V_STD * w) ** 2, (_V_STD * h) ** 2))


def measurement_noise(w, h) -> np.ndarray:
    """The new filter's R: diag((w/20)^2, (h/20)^2, (w/20)^2, (h/20)^2)."""
    w_var = (_M_STD * w) ** 2
    h_var = (_M_STD * h) ** 2
    return np.diag((w_var, h_var, w_var, h_var))


def _z_xywh(box: np.ndarray) -> np.ndarray:
    w = box[2] - box[0]
    h = box[3] - box[1]
    return np.array([box[0] + w / 2.0, box[1] + h / 2.0, w, h]).reshape((4, 1))


def _z_xysr(box: np.ndarray) -> np.ndarray:
    w = box[2] - box[0]
    h = box[3] - box[1]
    return np.array([box[0] + w / 2.0, box[1] + h / 2.0, w * h, w / float(h + 1e-6)]).reshape((4, 1))


def _x_to_tlbr(x: np.ndarray, wh: bool) -> np.ndarray:
    if wh:
        cx, cy, w, h = x.reshape(-1)[:4]
    else:
        cx, cy, s, r = x[0, 0], x[1, 0], x[2, 0], x[3, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.sqrt(s * r)
            h = s / w
    return np.array([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0])


class _Filter:
    """One track's Kalman filter with upstream's freeze / re-update (ORU) bookkeeping.

    ``wh``: the (cx, cy, w, h) filter (dim 8) or OC-SORT's (cx, cy, area, ratio) one (dim 7).
    Products with the 0/1 matrices F and H are exact, so they are slices; the others are the same
    ``np.dot`` calls upstream makes on the same shapes."""

    __slots__ = ("wh", "x", "P", "Q", "R", "eye", "k", "observed", "saved", "n_updates", "anchor")

    def __init__(self, z: np.ndarray, wh: bool) -> None:
        self.wh = wh
        dim = 8 if wh else 7
        self.x = np.zeros((dim, 1))
        self.x[:4] = z
        if wh:
            p = process_noise(z[2, 0], z[3, 0])  # float32, as upstream's float32 box makes it
            p[:4, :4] *= 4
            p[4:, 4:] *= 100
            self.P = p.astype(np.float64)
            self.Q = np.eye(8)  # the filter's defaults, used by the re-update only
            self.R = np.eye(4)
        else:
            self.P = _P0_SR.copy()
            self.Q = _Q_SR
            self.R = _R_SR
        self.eye = np.eye(dim)
        self.k = 4 if wh else 3  # state entries with a velocity
        self.observed = False
        self.saved: tuple[np.ndarray, np.ndarray, int, np.ndarray] | None = None  # x, P, anchor index, anchor z
        self.n_updates = 0
        self.anchor: tuple[int, np.ndarray] | None = None

    def predict(self, Q: np.ndarray | None = None) -> None:
        k = self.k
        x, P = self.x, self.P
        nx = x.copy()
        nx[:k] = x[:k] + x[4 : 4 + k]
        fp = P.copy()
        fp[:k] = P[:k] + P[4 : 4 + k]
        fpf = fp.copy()
        fpf[:, :k] = fp[:, :k] + fp[:, 4 : 4 + k]
        self.x = nx
        self.P = fpf + (self.Q if Q is None else Q)

    def _update(self, z: np.ndarray, R: np.ndarray) -> None:
        y = z - self.x[:4]
        pht = np.ascontiguousarray(self.P[:, :4])
        si = np.linalg.inv(pht[:4] + R)
        gain = np.dot(pht, si)
        self.x = self.x + np.dot(gain, y)
        kh = np.zeros(self.P.shape)
        kh[:, :4] = gain
        i_kh = self.eye - kh
        self.P = np.dot(np.dot(i_kh, self.P), i_kh.T) + np.dot(np.dot(gain, R), gain.T)

    def miss(self) -> None:
        """An empty update: the first after an observation saves (x, P) and the anchor box."""
        self.n_updates += 1
        if self.observed:
            index, z = self.anchor
            self.saved = (self.x.copy(), self.P.copy(), index, z.copy())
        self.observed = False

    def observe(self, z: np.ndarray, R: np.ndarray | None) -> None:
        index = self.n_updates
        self.n_updates += 1
        if not self.observed and self.saved is not None:
            self.x, self.P, start, box1 = self.saved
            self.saved = None
            gap = np.int64(index - start)  # upstream's gap is a difference of np.where indices
            virtual = self._virtual_path(box1, z, gap)
            for step, box in enumerate(virtual):
                self._update(box, self.R)
                if step < len(virtual) - 1:
                    self.predict()
            self.anchor = (index, virtual[-1])
        else:
            self.anchor = (index, z)
        self.observed = True
        self._update(z, self.R if R is None else R)

    def _virtual_path(self, box1: np.ndarray, box2: np.ndarray, gap: np.int64) -> list[np.ndarray]:
        if self.wh:
            x1, y1, w1, h1 = box1
            x2, y2, w2, h2 = box2
        else:
            x1, y1, s1, r1 = box1
            w1, h1 = np.sqrt(s1 * r1), np.sqrt(s1 / r1)
            x2, y2, s2, r2 = box2
            w2, h2 = np.sqrt(s2 * r2), np.sqrt(s2 / r2)
        dx, dy = (x2 - x1) / gap, (y2 - y1) / gap
        dw, dh = (w2 - w1) / gap, (h2 - h1) / gap
        path = []
        for i in range(int(gap)):
            x, y = x1 + (i + 1) * dx, y1 + (i + 1) * dy
            w, h = w1 + (i + 1) * dw, h1 + (i + 1) * dh
            if self.wh:
                path.append(np.array([x, y, w, h]).reshape((4, 1)))
            else:
                path.append(np.array([x, y, w * h, w / float(h[0])]).reshape((4, 1)))
        return path

    def warp(self, m: np.ndarray, t: np.ndarray) -> None:
        """Camera motion on the state, and on the saved state and its anchor while lost."""
        frozen = not self.observed and self.saved is not None
        if self.wh:
            big = np.kron(np.eye(4, dtype=float), m)
            self.x = big @ self.x
            self.x[:2] += t
            self.P = big @ self.P @ big.T
            if frozen:
                sx, sp, index, lm = self.saved
                sx = big @ sx
                sx[:2] += t
                sp = big @ sp @ big.T
                lm[:2] = m @ lm[:2] + t
                lm[2:] = m @ lm[2:]
                self.saved = (sx, sp, index, lm)
        else:
            for x, P in [(self.x, self.P)] + ([self.saved[:2]] if frozen else []):
                x[:2] = m @ x[:2] + t
                x[4:6] = m @ x[4:6]
                P[:2, :2] = m @ P[:2, :2] @ m.T
                P[4:6, 4:6] = m @ P[4:6, 4:6] @ m.T
            if frozen:
                lm = self.saved[3]
                lm[:2] = m @ lm[:2] + t


class _DeepTrack:
    __slots__ = ("id", "time_since_update", "hits", "hit_streak", "age", "last_obs", "observations", "velocity",
                 "emb", "frozen", "kf", "score")

    def __init__(self, track_id: int, det: np.ndarray, emb: np.ndarray | None, wh: bool) -> None:
        self.id = track_id
        self.time_since_update = 0
        self.hits = 0
        self.hit_streak = 0
        self.age = 0
        self.last_obs = NO_OBS
        self.observations: dict[int, np.ndarray] = {}
        self.velocity: np.ndarray | None = None
        self.emb = emb
        self.frozen = False
        self.kf = _Filter((_z_xywh if wh else _z_xysr)(det), wh)
        self.score = float(det[4])

    def predict(self) -> np.ndarray:
        x = self.kf.x
        if self.kf.wh:
            if x[2] + x[6] <= 0:
                x[6] = 0
            if x[3] + x[7] <= 0:
                x[7] = 0
            if self.frozen:
                x[6] = x[7] = 0
            self.kf.predict(process_noise(x[2, 0], x[3, 0]))
        else:
            if (x[6] + x[2]) <= 0:
                x[6] *= 0.0
            self.kf.predict()
        self.age += 1
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return _x_to_tlbr(self.kf.x, self.kf.wh)

    def update(self, det: np.ndarray, delta_t: int) -> None:
        if self.last_obs.sum() >= 0:
            self.velocity = direction(previous_obs(self.observations, self.age, self.last_obs, delta_t), det)
        self.last_obs = det
        self.observations[self.age] = det
        if len(self.observations) > 2 * delta_t + 8:  # only ages >= age - delta_t are read or moved again
            self.observations = {a: o for a, o in self.observations.items() if a >= self.age - delta_t}
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.score = float(det[4])
        self.frozen = False
        if self.kf.wh:
            R = measurement_noise(self.kf.x[2, 0], self.kf.x[3, 0])
            self.kf.observe(_z_xywh(det), R)
        else:
            self.kf.observe(_z_xysr(det), None)

    def miss(self) -> None:
        self.kf.miss()
        self.frozen = True

    def update_emb(self, emb: np.ndarray, alpha: np.floating) -> None:
        e = alpha * self.emb + (1 - alpha) * emb
        e /= np.linalg.norm(e)
        self.emb = e

    def warp(self, affine: np.ndarray, delta_t: int) -> None:
        m = affine[:, :2]
        t = affine[:, 2].reshape(2, 1)
        if self.last_obs.sum() > 0:
            ps = m @ self.last_obs[:4].reshape(2, 2).T + t
            self.last_obs[:4] = ps.T.reshape(-1)
        for dt in range(delta_t, -1, -1):  # may move the last observation a second time, as upstream
            obs = self.observations.get(self.age - dt)
            if obs is not None:
                ps = m @ obs[:4].reshape(2, 2).T + t
                obs[:4] = ps.T.reshape(-1)
        self.kf.warp(m, t)


def adaptive_weights(emb_cost: np.ndarray, w_assoc_emb: float, aw_param: float) -> np.ndarray:
    """Per pair: ``w_assoc_emb`` + half the clamped gap between the best and second-best similarity of
    its row (rows with two or more entries) + the same of its column, in the cost's dtype."""
    n, m = emb_cost.shape
    bonus = np.zeros_like(emb_cost)
    if m >= 2:
        top = np.sort(emb_cost, axis=1)
        bonus += np.minimum(top[:, -1] - top[:, -2], aw_param)[:, None] / 2
    if n >= 2:
        top = np.sort(emb_cost, axis=0)
        bonus += np.minimum(top[-1] - top[-2], aw_param)[None, :] / 2
    return np.full_like(emb_cost, w_assoc_emb) + bonus


@dataclass
class DeepOCSortOptions:
    det_thresh: float = option(0.6, "detections scoring above this are associated; new tracks too",
                               range=(0.3, 0.8), bounds=(0.0, 1.0))
    iou_threshold: float = option(0.3, "association threshold (pairs below it are dropped)", range=(0.1, 0.5),
                                  bounds=(0.0, 1.0))
    asso_func: Literal["iou", "giou", "diou", "ciou", "ct_dist"] = option(
        "iou", "similarity of the recovery round (the first round is always IoU)")
    delta_t: int = option(3, "frames back for the observation-centric momentum", range=(1, 5), bounds=(0, None))
    inertia: float = option(0.2, "weight of the velocity-direction consistency", range=(0.0, 0.5),
                            bounds=(0.0, None))
    w_assoc_emb: float = option(0.75, "weight of the appearance similarity in the first round", range=(0.25, 1.5),
                                bounds=(0.0, None))
    alpha_fixed_emb: float = option(0.95, "EMA weight kept by the track embedding for a detection scoring 1 "
                                          "(rises to 1 as the score falls to det_thresh)",
                                    range=(0.8, 0.99), bounds=(0.0, 1.0))
    aw_param: float = option(0.5, "adaptive weighting: cap of the best-minus-second similarity gap",
                             range=(0.1, 1.0), bounds=(0.0, None))
    embedding: bool = option(True, "appearance term in the first round (off: upstream's --emb_off)")
    adaptive_weight: bool = option(True, "adaptive weighting of the appearance term (off: --aw_off)")
    cmc: bool = option(True, "camera-motion compensation from frame.camera_motion or gmc_dir (off: --cmc_off)")
    new_kf: bool = option(True, "Kalman filter on (x, y, w, h) with box-scaled noise (off: --new_kf_off, "
                                "OC-SORT's filter)")
    gmc_dir: str | None = option(None, "folder of the official GMC-<SEQ>.txt files, used when the runner hands "
                                       "over no camera motion (none: identity)")
    max_age: int = option(30, "frames a track survives without a match", range=(10, 60), bounds=(0, None))
    min_hits: int = option(3, "hits before a track is reported (after the first min_hits frames)",
                           range=(1, 5), bounds=(0, None))
    min_box_area: float = option(10.0, "output filter of main.py: w*h > this", bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               bounds=(0.0, None))
    skip_empty_frames: bool = option(True, "frames without detections do not advance the tracker (main.py "
                                           "skips frames where the detector returns nothing)")


class DeepOCSortTracker(Tracker):
    """Deep OC-SORT with the defaults of its MOT17 evaluation, one embedding per box."""

    name = "deepocsort"
    needs_embeddings = True
    needs_camera_motion = False  # uses frame.camera_motion (or gmc_dir) when there is one, the identity otherwise
    motion_only = False

    Options = DeepOCSortOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.needs_embeddings = self.embedding
        self._similarity = ASSOCIATION_FUNCS[self.asso_func]
        self.reset(None)

    def reset(self, seq: SeqInfo | None = None) -> None:
        self.tracks: list[_DeepTrack] = []
        self.frame_count = 0
        self._next_id = 0
        self._seq = seq
        self._file_warps: dict[int, np.ndarray] | None = None
        if self.cmc and self.gmc_dir is not None and seq is not None:
            self._file_warps = cmc.file_warps(self.gmc_dir, seq)

    def _warp(self, frame: Frame | None) -> np.ndarray | None:
        if not self.cmc:
            return None
        if frame is not None and frame.camera_motion is not None:
            return np.asarray(frame.camera_motion, dtype=np.float64).reshape(2, 3)
        if self._file_warps is not None and frame is not None:
            return self._file_warps.get(frame.frame_id)
        return None  # the identity: exactly no change

    def _embeddings(self, detections: Detections, keep: np.ndarray) -> np.ndarray | None:
        if not self.embedding:
            return None
        if detections.embeddings is None:
            raise ValueError("deepocsort needs embeddings from the detector (or embedding=false)")
        return np.asarray(detections.embeddings[keep], dtype=np.float32)

    def _appearance(self, embs: np.ndarray, trk_embs: np.ndarray):
        def weighted() -> np.ndarray | None:
            if embs is None or len(embs) == 0 or len(trk_embs) == 0:
                return None
            cost = embs @ trk_embs.T
            if self.adaptive_weight:
                return cost * adaptive_weights(cost, self.w_assoc_emb, self.aw_param)
            return cost * self.w_assoc_emb
        return weighted

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        if len(detections) == 0 and self.skip_empty_frames:
            return Tracks.empty()
        self.frame_count += 1
        detections = detections.as_float32()  # YOLOX's float32 output; file boxes are float64
        all_dets = np.concatenate([detections.tlbr, detections.scores[:, None]], axis=1)
        keep = all_dets[:, 4] > self.det_thresh
        dets = all_dets[keep]
        embs = self._embeddings(detections, keep)

        warp = self._warp(frame)
        if warp is not None:
            for trk in self.tracks:
                trk.warp(warp, self.delta_t)

        trust = (dets[:, 4] - self.det_thresh) / (1 - self.det_thresh)
        af = self.alpha_fixed_emb
        alphas = af + (1 - af) * (1 - trust)

        boxes = [trk.predict() for trk in self.tracks]
        trks = np.array(boxes).reshape(-1, 4)
        bad = np.isnan(trks).any(axis=1)
        if bad.any():
            self.tracks = [t for t, b in zip(self.tracks, bad, strict=True) if not b]
            trks = trks[~bad]
        trk_embs = np.array([t.emb for t in self.tracks]) if embs is not None else None
        velocities = np.array([NO_VEL if t.velocity is None else t.velocity for t in self.tracks])
        last_boxes = np.array([t.last_obs for t in self.tracks])
        previous = np.array([previous_obs(t.observations, t.age, t.last_obs, self.delta_t) for t in self.tracks])

        extra = self._appearance(embs, trk_embs) if embs is not None else None
        matched, u_dets, u_trks = first_round(dets, trks, velocities, previous, self.iou_threshold, self.inertia,
                                              extra)
        for d, t in matched:
            self._observe(t, d, dets, embs, alphas)

        if len(u_dets) and len(u_trks):
            sim = np.asarray(self._similarity(dets[u_dets], last_boxes[u_trks]))
            pairs = [(u_dets[i], u_trks[j]) for i, j in recovery_pairs(sim, self.iou_threshold)]
            for d, t in pairs:
                self._observe(t, d, dets, embs, alphas)
            if pairs:
                u_dets = np.setdiff1d(u_dets, np.array([d for d, _ in pairs]))
                u_trks = np.setdiff1d(u_trks, np.array([t for _, t in pairs]))

        for t in u_trks:
            self.tracks[t].miss()
        for d in u_dets:
            self.tracks.append(_DeepTrack(self._next_id, dets[d], None if embs is None else embs[d], self.new_kf))
            self._next_id += 1
        return self._report()

    def _observe(self, t: int, d: int, dets: np.ndarray, embs: np.ndarray | None, alphas: np.ndarray) -> None:
        trk = self.tracks[t]
        trk.update(dets[d], self.delta_t)
        if embs is not None:
            trk.update_emb(embs[d], alphas[d])

    def _report(self) -> Tracks:
        boxes, ids, scores = [], [], []
        keep = []
        early = self.frame_count <= self.min_hits
        for trk in reversed(self.tracks):
            if trk.time_since_update < 1 and (trk.hit_streak >= self.min_hits or early):
                if trk.last_obs.sum() < 0:
                    boxes.append(_x_to_tlbr(trk.kf.x, trk.kf.wh))
                else:
                    boxes.append(trk.last_obs[:4].astype(np.float64))
                ids.append(trk.id + 1)
                scores.append(trk.score)
            keep.append(trk.time_since_update <= self.max_age)
        self.tracks = [t for t, k in zip(self.tracks, reversed(keep), strict=True) if k]
        if not boxes:
            return Tracks.empty()
        tlbr = np.stack(boxes)
        ok = output_filter(tlbr, self.min_box_area, self.aspect_ratio_thresh)
        return Tracks(tlbr[ok], np.asarray(ids)[ok], np.asarray(scores)[ok])
