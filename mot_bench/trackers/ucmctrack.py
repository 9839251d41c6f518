"""UCMCTrack (Yi et al., AAAI 2024), decision for decision as the official tracker (corfyi/UCMCTrack @
7851a490: ``tracker/ucmc.py``, ``tracker/kalman.py``, ``detector/mapper.py``, ``detector/detector.py``,
``detector/gmc.py``) driven by ``util/run_ucmc.py`` as ``run_mot17_val.bat`` runs it.

Tracks live on the ground plane. Each detection's foot point (bottom centre of its box) is mapped through
the sequence's camera (``cam_dir/<SEQ>.txt``: rotation, translation in mm, intrinsics) to ground
coordinates, with a measurement covariance mapped from the image (the correlated measurement
distribution); a constant-velocity Kalman filter per track runs on (x, vx, y, vy) in metres.

One update (``UCMCTrack.update``):

1. detections scoring >= ``conf_thresh`` (class 0 when the detector gives classes) are kept, in the
   detector's order; those scoring >= ``high_score`` are the high ones, the rest the low ones;
2. every track is predicted; with ``cmc`` its predicted ground position is moved by the frame's camera
   warp: ground -> image foot point, centre = foot point - h/2, centre warped by the full affine, (w, h) by
   its 2x2 part, foot point = warped centre + warped h/2, back to the ground (w, h: the track's last
   matched box). The velocity and covariance are not warped;
3. high detections vs. confirmed then coasted tracks, cost = the mapped Mahalanobis distance *plus*
   ``log det S`` (S = the track's position covariance + the detection's), solved by
   ``lap.lapjv(extend_cost=True, cost_limit=a)``; matched tracks are updated and become confirmed;
4. low detections vs. the tracks left from 3 (same cost and threshold); the matched are updated and
   confirmed, the unmatched become coasted;
5. high detections left vs. tentative tracks (same cost and threshold); a tentative track matched on two
   frames after its birth frame is confirmed;
6. every high detection still left starts a tentative track (an id is consumed now);
7. every track's death count goes up by one (it was set to 0 on a match); coasted tracks reaching
   ``cdt`` and tentative tracks reaching 2 (unmatched once) are removed;
8. the matched tracks take the width and height of their detection (for the next warp).

Output (``run_ucmc``'s writer without ``--hp``): confirmed tracks matched in this frame, with the
*detection's* box and score (no Kalman box is ever written).

Unusual rules of the official arithmetic, and how they are matched here:

* The measurement noise in the image is ``sigma_u = clip(0.05 h, 2, 13)``, ``sigma_v = clip(0.05 h, 2,
  10)`` pixels, both from the box *height* (``getUVError``); the ``--u_ratio``/``--v_ratio``/``--u_max``
  /``--v_max`` flags of ``make_args`` are parsed and never used, so they are not options here.
* Initial covariance diag(1, vmax^2/3, 1, vmax^2/3); process noise G diag(wx, wy) G' with G the
  constant-acceleration input matrix of dt = 1/fps; filterpy 1.4.5's predict and Joseph-form update.
* Step 4 runs only when there are both low detections and tracks left: in a frame without a low
  detection, confirmed tracks missed by step 3 stay *confirmed* (not coasted) however long they go
  unmatched, so the ``cdt`` deletion, which only looks at coasted tracks, does not remove them; the
  first frame that has a low detection and misses them coasts them, and deletes them at once if their
  death count has reached ``cdt`` meanwhile.
* Coasted tracks matched in step 3 or 4 become confirmed again; ids never return to tentative.
* Low-score detections never start tracks; a high detection matched to nothing starts one even if it
  lies on a track (no duplicate check).
* Ids come from one counter per sequence starting at 1 (the official class counter restarts with
  each ``python`` of the batch file); every started track consumes one, so confirmed ids have gaps.
* Scores are compared in float64 (the official reads the files with ``float``), ``>=`` on both
  thresholds.
* The official script stops at a frame without any detection row (``get_dets`` looks the frame up in a
  dict); here such a frame is an update without detections (the YOLOX-X files have rows on every frame).
* The camera warp is applied with the official matrix products even when it is the identity (the
  ground -> image -> ground round trip moves a position by a few ulps); the warp for frame ``f`` is the
  GMC file's row ``f - 1`` (the runner's ``file`` warps, or the file read by this tracker).
* All matrix products are numpy's, stacked over tracks and pairs (``np.matmul`` on stacks calls the
  BLAS routine ``np.dot`` calls for one matrix; ``np.linalg.inv``/``det`` run the same LAPACK per
  matrix), so costs and states equal the official per-track filterpy arithmetic bit for bit.
* The detector hands boxes as (x1, y1, x2, y2): the foot point's v = y2 is the official y + h exactly,
  but u = x1 + (x2 - x1)/2 can differ from the file's x + w/2 in the last bit (the width is recovered by
  a subtraction). No association decision changed on the 7 MOT17 validation sequences (every frame, and the
  half-val frames) nor on MOT20-01: every output row equals the official code's.

Options beyond the online tracker, as the official evaluation writes its files:

* ``head_padding``: the official ``--hp`` writer: every track that was ever confirmed is also written
  on its tentative frames (the detections it was matched to before confirmation), added by
  :meth:`UCMCTracker.finish` once the sequence is tracked. The official writer prints -1 as the score
  of every row; here rows keep their detection's score.
* Gap interpolation is the ``interpolate`` post-processing: ``run_ucmc`` calls ``dti`` with
  ``n_min=3, n_dti=cdt``, i.e. ``--postprocess interpolate --postprocess-opt interpolate.min_len=3
  --postprocess-opt interpolate.max_gap=tracker.cdt`` (the sequence's own cdt).

Per-sequence settings: ``per_sequence`` (default ``mot17-val``) selects the official table of
``run_mot17_val.bat`` (fps, wx, wy, a, cdt per MOT17 sequence; the rows are keyed ``MOT17-02`` etc. and
apply to the -DPM/-FRCNN/-SDP folders). ``mot17-test`` and ``mot20-test`` hold ``run_mot17_test.bat``'s
and ``run_mot20_test.bat``'s (those also set conf_thresh, vmax and, for MOT17 test, cmc per sequence;
MOT20 test runs without cmc: give ``cmc=false``). A JSON file ``{SEQUENCE: {option: value}}`` is a table
too; options given explicitly override every row.

Not implemented: ``--add_cam_noise`` (a robustness experiment of the official script that rotates the
camera by +-0.5 degree on alternate frames; off in every published evaluation) and the KITTI calibration
reader (no MOT script uses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from mot_bench.data.validate import InputCheckError
from mot_bench.options import option, per_sequence_option
from mot_bench.plugins import Tracker
from mot_bench.trackers.common import cmc as camera_motion
from mot_bench.trackers.common.matching import linear_assignment
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

TENTATIVE, CONFIRMED, COASTED = 0, 1, 2

# run_mot17_val.bat: per-sequence fps, wx, wy, a, cdt (every line adds --hp --cmc).
MOT17_VAL = {
    "MOT17-02": {"fps": 30.0, "wx": 0.1, "wy": 0.2, "a": 10.0, "cdt": 30},
    "MOT17-04": {"fps": 30.0, "wx": 0.5, "wy": 0.5, "a": 10.0, "cdt": 30},
    "MOT17-05": {"fps": 14.0, "wx": 0.1, "wy": 3.0, "a": 10.0, "cdt": 10},
    "MOT17-09": {"fps": 30.0, "wx": 0.5, "wy": 1.0, "a": 10.0, "cdt": 30},
    "MOT17-10": {"fps": 30.0, "wx": 5.0, "wy": 5.0, "a": 60.0, "cdt": 10},
    "MOT17-11": {"fps": 30.0, "wx": 5.0, "wy": 5.0, "a": 40.0, "cdt": 10},
    "MOT17-13": {"fps": 25.0, "wx": 5.0, "wy": 5.0, "a": 40.0, "cdt": 10},
}
# run_mot17_test.bat: also conf_thresh, vmax, and --cmc on five of the seven sequences (--hp on all).
MOT17_TEST = {
    "MOT17-01": {"fps": 30.0, "wx": 0.2, "wy": 0.4, "a": 10.0, "cdt": 30, "conf_thresh": 0.5, "vmax": 0.5,
                 "cmc": False},
    "MOT17-03": {"fps": 30.0, "wx": 0.45, "wy": 0.55, "a": 12.0, "cdt": 30, "conf_thresh": 0.26, "vmax": 0.4,
                 "cmc": False},
    "MOT17-06": {"fps": 14.0, "wx": 0.1, "wy": 5.0, "a": 19.0, "cdt": 10, "conf_thresh": 0.4, "vmax": 1.0,
                 "cmc": True},
    "MOT17-07": {"fps": 30.0, "wx": 2.0, "wy": 2.0, "a": 10.0, "cdt": 10, "conf_thresh": 0.5, "vmax": 0.5,
                 "cmc": True},
    "MOT17-08": {"fps": 30.0, "wx": 0.7, "wy": 1.5, "a": 9.0, "cdt": 30, "conf_thresh": 0.25, "vmax": 3.0,
                 "cmc": True},
    "MOT17-12": {"fps": 30.0, "wx": 0.5, "wy": 0.5, "a": 10.0, "cdt": 10, "conf_thresh": 0.5, "vmax": 0.5,
                 "cmc": True},
    "MOT17-14": {"fps": 25.0, "wx": 1.0, "wy": 1.0, "a": 10.0, "cdt": 21, "conf_thresh": 0.4, "vmax": 1.0,
                 "cmc": True},
}
# run_mot20_test.bat (no --cmc there: run it with cmc=false; --hp on all).
MOT20_TEST = {
    "MOT20-04": {"fps": 25.0, "wx": 0.5, "wy": 0.4, "a": 10.0, "cdt": 35, "conf_thresh": 0.43, "vmax": 0.6},
    "MOT20-06": {"fps": 25.0, "wx": 0.2, "wy": 0.4, "a": 9.0, "cdt": 30, "conf_thresh": 0.3, "vmax": 0.5},
    "MOT20-07": {"fps": 25.0, "wx": 0.4, "wy": 0.3, "a": 12.0, "cdt": 35, "conf_thresh": 0.43, "vmax": 0.6},
    "MOT20-08": {"fps": 25.0, "wx": 0.2, "wy": 0.4, "a": 9.0, "cdt": 30, "conf_thresh": 0.33, "vmax": 0.5},
}


# ---------------------------------------------------------------------------------- the camera


@dataclass(frozen=True)
class GroundPlane:
    """A sequence's camera as the official ``Mapper`` uses it: ``A`` maps ground (x, y, 1) in metres to
    homogeneous image coordinates (the z = 0 plane of ``Ki @ Ko``), ``inv_a`` is its inverse."""

    A: np.ndarray
    inv_a: np.ndarray

    @classmethod
    def from_matrices(cls, rotation: np.ndarray, translation_mm: np.ndarray, intrinsic: np.ndarray) -> GroundPlane:
        """The official ``readCamParaFile`` + ``Mapper.__init__`` arithmetic (z0 = 0)."""
        ki = np.zeros((3, 4))
        ki[:, :3] = intrinsic
        ko = np.eye(4)
        ko[:3, :3] = rotation
        ko[:3, 3] = (np.asarray(translation_mm, dtype=np.float64).reshape(-1, 1) / 1000).flatten()
        kiko = np.dot(ki, ko)
        a = np.zeros((3, 3))
        a[:, :2] = kiko[:, :2]
        a[:, 2] = 0 * kiko[:, 2] + kiko[:, 3]
        a.flags.writeable = False
        inv_a = np.linalg.inv(a)
        inv_a.flags.writeable = False
        return cls(a, inv_a)

    def to_ground(self, u: np.ndarray, v: np.ndarray, sigma_u: np.ndarray | None = None,
                  sigma_v: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Image points (K,) -> ground points (K, 2, 1) and, with the image standard deviations, their
        ground covariances (K, 2, 2): the official ``uv2xy`` per point (Jacobian ``C``, ``C S C'``)."""
        uv1 = np.ones((len(u), 3, 1))
        uv1[:, 0, 0] = u
        uv1[:, 1, 0] = v
        b = np.matmul(self.inv_a, uv1)
        gamma = 1 / b[:, 2, :]  # (K, 1), as the official (1,) array
        xy = b[:, :2, :] * gamma[:, :, None]
        if sigma_u is None:
            return xy, None
        g = gamma[:, :, None]
        jac = g * self.inv_a[:2, :2] - (g**2) * b[:, :2, :] * self.inv_a[2, :2]
        sigma = np.zeros((len(u), 2, 2))
        sigma[:, 0, 0] = sigma_u * sigma_u
        sigma[:, 1, 1] = sigma_v * sigma_v
        return xy, np.matmul(np.matmul(jac, sigma), jac.transpose(0, 2, 1))

    def to_image(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground points (K,) -> image points (u, v), the official ``xy2uv``."""
        xy1 = np.ones((len(x), 3, 1))
        xy1[:, 0, 0] = x
        xy1[:, 1, 0] = y
        uv1 = np.matmul(self.A, xy1)
        return uv1[:, 0, 0] / uv1[:, 2, 0], uv1[:, 1, 0] / uv1[:, 2, 0]


_SECTIONS = {"RotationMatrices": 3, "TranslationVectors": 1, "IntrinsicMatrix": 3}


def read_camera_file(path: str | Path) -> GroundPlane:
    """A UCMCTrack camera-parameter file (``cam_para/<DATASET>/<SEQ>.txt``): the lines ``RotationMatrices``
    (3 rows of 3), ``TranslationVectors`` (1 row of 3, millimetres) and ``IntrinsicMatrix`` (3 rows of 3),
    in any order. Strict where the official reader is not: each section once and complete, every row three
    numbers, and a camera whose ground plane maps to the image (A invertible)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[str, np.ndarray] = {}
    i = 0
    while i < len(lines):
        name = lines[i].strip()
        if name not in _SECTIONS:
            i += 1
            continue
        if name in found:
            raise InputCheckError(path, f"second {name} section; expected one", i + 1)
        rows = []
        for k in range(_SECTIONS[name]):
            lineno = i + 2 + k
            if lineno > len(lines):
                raise InputCheckError(path, f"{name} ends after {k} row(s); expected {_SECTIONS[name]} rows of 3 "
                                            "numbers", lineno - 1)
            words = lines[lineno - 1].split()
            try:
                values = [float(w) for w in words]
            except ValueError:
                raise InputCheckError(path, f"{name} row {lines[lineno - 1].strip()!r}; expected 3 numbers",
                                      lineno) from None
            if len(values) != 3 or not all(np.isfinite(values)):
                raise InputCheckError(path, f"{name} row {lines[lineno - 1].strip()!r}; expected 3 finite numbers",
                                      lineno)
            rows.append(values)
        found[name] = np.array(rows, dtype=np.float64)
        i += 1 + _SECTIONS[name]
    missing = [n for n in _SECTIONS if n not in found]
    if missing:
        raise InputCheckError(path, f"no {', '.join(missing)} section; expected a UCMCTrack camera file with "
                                    "RotationMatrices, TranslationVectors and IntrinsicMatrix")
    try:
        plane = GroundPlane.from_matrices(found["RotationMatrices"], found["TranslationVectors"][0],
                                          found["IntrinsicMatrix"])
    except np.linalg.LinAlgError:
        plane = None
    if plane is None or not np.all(np.isfinite(plane.inv_a)) or np.linalg.matrix_rank(plane.A) < 3:
        raise InputCheckError(path, "this camera maps the ground plane to a line; expected a camera looking at "
                                    "the ground")
    return plane


# ---------------------------------------------------------------------------------- the tracker


@dataclass
class UCMCTrackOptions:
    per_sequence: str | None = per_sequence_option("mot17-val")
    fps: float | None = option(None, "frame rate of the Kalman time step dt = 1/fps (none: the sequence's)",
                               bounds=(1e-6, None))
    wx: float = option(0.1, "process noise (ground-plane acceleration variance) along x", range=(0.05, 10.0),
                       bounds=(0.0, None))
    wy: float = option(0.1, "process noise (ground-plane acceleration variance) along y", range=(0.05, 10.0),
                       bounds=(0.0, None))
    vmax: float = option(0.5, "initial velocity spread: a new track's velocity variance is vmax^2/3",
                         range=(0.1, 3.0), bounds=(0.0, None))
    a: float = option(10.0, "assignment threshold on the cost (mapped Mahalanobis distance + log det S), "
                            "every round", range=(5.0, 60.0))
    cdt: int = option(30, "coasted deletion time: frames a coasted track is kept (its death count)",
                      range=(5, 60), bounds=(1, None))
    high_score: float = option(0.6, "detections scoring at least this go to the first round and start tracks",
                               range=(0.3, 0.8), bounds=(0.0, 1.0))
    conf_thresh: float = option(0.5, "detections scoring below this are dropped", range=(0.1, 0.6),
                                bounds=(0.0, 1.0))
    cmc: bool = option(True, "camera-motion compensation of the predicted ground positions (the official --cmc)")
    cmc_method: Literal["file", "ecc", "sparseOptFlow", "none"] = option(
        "file", "where the camera warps come from (file: the official GMC-<SEQ>.txt files in gmc_dir)")
    gmc_dir: str | None = option(None, "folder of the GMC-<SEQ>.txt files (cmc_method file); UCMCTrack's gmc/mot17 "
                                       "are BoT-SORT's full-sequence files")
    cam_dir: str | None = option(None, "folder of the camera-parameter files <SEQ>.txt (UCMCTrack's cam_para/MOT17 "
                                       "layout); required")
    head_padding: bool = option(False, "also write each confirmed track on its tentative frames (the official "
                                       "--hp writer; offline, added when the sequence ends)")

    SEQUENCE_PRESETS: ClassVar[dict[str, dict[str, dict[str, Any]]]] = {
        "mot17-val": MOT17_VAL, "mot17-test": MOT17_TEST, "mot20-test": MOT20_TEST}


class UCMCTracker(Tracker):
    """UCMCTrack: ground-plane Kalman tracking from each sequence's camera, mapped Mahalanobis cost."""

    name = "ucmctrack"
    needs_embeddings = False
    motion_only = False  # needs each sequence's camera parameters, not boxes alone

    Options = UCMCTrackOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        camera_motion.check_method(self.cmc_method)
        self._seq: SeqInfo | None = None
        self._plane: GroundPlane | None = None
        self._file_warps: dict[int, np.ndarray] | None = None
        self._new_bank()

    @property
    def needs_camera_motion(self) -> bool:
        """The runner computes warps when any sequence applies them (a table may switch cmc per sequence)."""
        table = self.sequence_table or {}
        return bool(self._constructed_options.cmc) or any(row.get("cmc") for row in table.values())

    # -- per sequence -----------------------------------------------------------------------------
    def input_files(self, seq: SeqInfo) -> dict[str, Path]:
        cam_dir = self.sequence_options(seq).cam_dir
        if cam_dir is None:
            raise ValueError("tracker 'ucmctrack' needs cam_dir: a folder of camera-parameter files <SEQ>.txt "
                             "(UCMCTrack's cam_para/MOT17 holds MOT17's)")
        return {"camera": Path(cam_dir) / f"{seq.name}.txt"}

    @classmethod
    def read_input(cls, kind: str, path: Path) -> Any:
        if kind != "camera":
            raise ValueError(f"ucmctrack reads no {kind!r} file")
        return read_camera_file(path)

    def reset(self, seq: SeqInfo | None) -> None:
        self.use_sequence_options(seq)
        self._seq = seq
        self._new_bank()
        self._next_id = 1
        self._frame_no = (seq.first_frame if seq is not None else 1) - 1  # frame number when none is given
        self._tentative_rows: dict[int, list[np.ndarray]] = {}
        self._padding: list[np.ndarray] = []
        if seq is None:
            return
        fps = self.fps if self.fps is not None else seq.fps
        self._dt = 1.0 / fps
        dt = self._dt
        self._F = np.array([[1, dt, 0, 0], [0, 1, 0, 0], [0, 0, 1, dt], [0, 0, 0, 1]])
        g = np.zeros((4, 2))
        g[0, 0] = 0.5 * dt * dt
        g[1, 0] = dt
        g[2, 1] = 0.5 * dt * dt
        g[3, 1] = dt
        self._Q = np.dot(np.dot(g, np.array([[self.wx, 0], [0, self.wy]])), g.T)
        self._P0 = np.zeros((4, 4))
        np.fill_diagonal(self._P0, np.array([1, self.vmax**2 / 3.0, 1, self.vmax**2 / 3.0]))
        self._plane = self.sequence_input(seq, "camera")
        self._file_warps = None
        if self.cmc and self.cmc_method == "file" and self.gmc_dir is not None:
            self._file_warps = camera_motion.file_warps(self.gmc_dir, seq)

    def _new_bank(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.death = np.zeros(0, dtype=np.int64)
        self.birth = np.zeros(0, dtype=np.int64)
        self.detidx = np.zeros(0, dtype=np.int64)
        self.w = np.zeros(0)
        self.h = np.zeros(0)
        self.x = np.zeros((0, 4, 1))
        self.P = np.zeros((0, 4, 4))

    # -- pieces ---------------------------------------------------------------------------------------
    def _warp(self, frame: Frame | None) -> np.ndarray:
        if frame is not None and frame.camera_motion is not None:
            return np.asarray(frame.camera_motion, dtype=np.float64).reshape(2, 3)
        if self.cmc_method == "none":
            return camera_motion.identity()
        if self.cmc_method == "file" and self._file_warps is not None:
            if self._frame_no not in self._file_warps:
                raise ValueError(f"ucmctrack: the GMC file of {self._seq.name if self._seq else '?'} has no row for "
                                 f"frame {self._frame_no}")
            return self._file_warps[self._frame_no]
        raise RuntimeError(f"ucmctrack: cmc with cmc_method {self.cmc_method!r} needs frame.camera_motion from the "
                           "runner (or, for 'file', gmc_dir); cmc=false runs without")

    def _compensate(self, warp: np.ndarray) -> None:
        """The official ``Detector.cmc`` for every track: ground -> image -> warp -> ground."""
        plane = self._plane
        u, v = plane.to_image(self.x[:, 0, 0], self.x[:, 2, 0])
        m = warp[:, :2]
        t = np.zeros((2, 1))
        t[0, 0] = warp[0, 2]
        t[1, 0] = warp[1, 2]
        centre = np.empty((len(u), 2, 1))
        centre[:, 0, 0] = u
        centre[:, 1, 0] = v - self.h / 2
        wh = np.empty((len(u), 2, 1))
        wh[:, 0, 0] = self.w
        wh[:, 1, 0] = self.h
        centre = np.matmul(m, centre) + t
        wh = np.matmul(m, wh)
        xy, _ = plane.to_ground(centre[:, 0, 0], centre[:, 1, 0] + wh[:, 1, 0] / 2)
        self.x[:, 0, 0] = xy[:, 0, 0]
        self.x[:, 2, 0] = xy[:, 1, 0]

    def _measure(self, tlbr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ground positions (K, 2, 1) and covariances (K, 2, 2) of boxes' foot points (``Mapper.mapto``:
        image noise ``clip(0.05 h, 2, 13)`` along u and ``clip(0.05 h, 2, 10)`` along v), and the widths and
        heights."""
        w = tlbr[:, 2] - tlbr[:, 0]
        h = tlbr[:, 3] - tlbr[:, 1]
        y, R = self._plane.to_ground(tlbr[:, 0] + w / 2, tlbr[:, 3], np.clip(0.05 * h, 2, 13), np.clip(0.05 * h, 2, 10))
        return y, R, w, h

    def _cost(self, y: np.ndarray, R: np.ndarray, dets: np.ndarray, tracks: np.ndarray) -> np.ndarray:
        """(len(dets), len(tracks)) mapped Mahalanobis distance + log det S (``KalmanTracker.distance``)."""
        diff = y[dets][:, None, :, :] - self.x[tracks][None, :, [0, 2], :]  # (n, m, 2, 1)
        S = self.P[tracks][:, [0, 2]][:, :, [0, 2]][None] + R[dets][:, None]  # (n, m, 2, 2)
        maha = np.matmul(diff.transpose(0, 1, 3, 2), np.matmul(np.linalg.inv(S), diff))[..., 0, 0]
        return maha + np.log(np.linalg.det(S))

    def _update(self, tracks: np.ndarray, y: np.ndarray, R: np.ndarray) -> None:
        """filterpy's update of tracks ``tracks`` with measurements ``y`` (K, 2, 1), covariances ``R``."""
        if len(tracks) == 0:
            return
        x, P = self.x[tracks], self.P[tracks]
        resid = y - x[:, [0, 2], :]
        pht = P[:, :, [0, 2]]
        S = pht[:, [0, 2], :] + R
        gain = np.matmul(pht, np.linalg.inv(S))
        x = x + np.matmul(gain, resid)
        i_kh = np.broadcast_to(np.eye(4), P.shape).copy()
        i_kh[:, :, 0] -= gain[:, :, 0]
        i_kh[:, :, 2] -= gain[:, :, 1]
        P = np.matmul(np.matmul(i_kh, P), i_kh.transpose(0, 2, 1)) + \
            np.matmul(np.matmul(gain, R), gain.transpose(0, 2, 1))
        self.x[tracks] = x
        self.P[tracks] = P

    def _assign(self, y, R, dets: np.ndarray, tracks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(matches [det position, track position], unmatched det positions, unmatched track positions)``
        by ``lap.lapjv(extend_cost=True, cost_limit=a)``; positions index ``dets`` and ``tracks``."""
        return linear_assignment(self._cost(y, R, dets, tracks), thresh=self.a)

    # -- one frame --------------------------------------------------------------------------------
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        if self._plane is None:
            raise RuntimeError("ucmctrack: reset(seq) first (it reads the sequence's camera)")
        self._frame_no = frame.frame_id if frame is not None else self._frame_no + 1
        scores = np.asarray(detections.scores, dtype=np.float64)
        keep = scores >= self.conf_thresh
        if detections.classes is not None:
            keep &= np.asarray(detections.classes) == 0
        tlbr = np.asarray(detections.tlbr, dtype=np.float64)[keep]
        scores = scores[keep]
        y, R, w, h = self._measure(tlbr)
        high = np.flatnonzero(scores >= self.high_score)
        low = np.flatnonzero(~(scores >= self.high_score))

        # predict every track, then move it by the camera warp
        n_trk = len(self.ids)
        if n_trk:
            self.x = np.matmul(self._F, self.x)
            self.P = 1.0 * np.matmul(np.matmul(self._F, self.P), self._F.T) + self._Q
            if self.cmc:
                self._compensate(self._warp(frame))
        self.detidx[:] = -1

        # first round: high detections vs confirmed, then coasted tracks
        tracks = np.concatenate([np.flatnonzero(self.status == CONFIRMED), np.flatnonzero(self.status == COASTED)])
        remain_det, remain_trk = high, tracks
        if len(high) * len(tracks) > 0:
            matches, u_det, u_trk = self._assign(y, R, high, tracks)
            self._matched(tracks[matches[:, 1]], high[matches[:, 0]], y, R)
            remain_det, remain_trk = high[u_det], tracks[u_trk]

        # second round: low detections vs the tracks left
        if len(low) * len(remain_trk) > 0:
            matches, _, u_trk = self._assign(y, R, low, remain_trk)
            self.status[remain_trk[u_trk]] = COASTED
            self._matched(remain_trk[matches[:, 1]], low[matches[:, 0]], y, R)

        # tentative tracks vs the high detections left
        tentative = np.flatnonzero(self.status == TENTATIVE)
        if len(remain_det) * len(tentative) > 0:
            matches, u_det, _ = self._assign(y, R, remain_det, tentative)
            trk = tentative[matches[:, 1]]
            det = remain_det[matches[:, 0]]
            self._update(trk, y[det], R[det])
            self.death[trk] = 0
            self.birth[trk] += 1
            self.detidx[trk] = det
            born = trk[self.birth[trk] >= 2]
            self.birth[born] = 0
            self.status[born] = CONFIRMED
            remain_det = remain_det[u_det]

        # new tentative tracks from the high detections left
        k = len(remain_det)
        if k:
            x0 = np.zeros((k, 4, 1))
            x0[:, 0, 0] = y[remain_det, 0, 0]
            x0[:, 2, 0] = y[remain_det, 1, 0]
            self.ids = np.concatenate([self.ids, np.arange(self._next_id, self._next_id + k)])
            self._next_id += k
            self.status = np.concatenate([self.status, np.full(k, TENTATIVE, np.int8)])
            self.death = np.concatenate([self.death, np.zeros(k, np.int64)])
            self.birth = np.concatenate([self.birth, np.zeros(k, np.int64)])
            self.detidx = np.concatenate([self.detidx, remain_det])
            self.w = np.concatenate([self.w, w[remain_det]])
            self.h = np.concatenate([self.h, h[remain_det]])
            self.x = np.concatenate([self.x, x0])
            self.P = np.concatenate([self.P, np.broadcast_to(self._P0, (k, 4, 4))])

        # deletion, then the matched tracks take their detection's size
        self.death += 1
        gone = ((self.status == COASTED) & (self.death >= self.cdt)) | ((self.status == TENTATIVE) & (self.death >= 2))
        if gone.any():
            keep_trk = ~gone
            for name in ("ids", "status", "death", "birth", "detidx", "w", "h", "x", "P"):
                setattr(self, name, getattr(self, name)[keep_trk])
        seen = self.detidx >= 0
        self.w[seen] = w[self.detidx[seen]]
        self.h[seen] = h[self.detidx[seen]]
        return self._report(tlbr, scores)

    def _matched(self, trk: np.ndarray, det: np.ndarray, y: np.ndarray, R: np.ndarray) -> None:
        self._update(trk, y[det], R[det])
        self.death[trk] = 0
        self.detidx[trk] = det
        self.status[trk] = CONFIRMED

    def _report(self, tlbr: np.ndarray, scores: np.ndarray) -> Tracks:
        """Confirmed tracks matched in this frame, with their detection's box and score; with head padding,
        the tentative tracks' boxes are kept aside until the track is confirmed (or dropped)."""
        seen = self.detidx >= 0
        out = np.flatnonzero(seen & (self.status == CONFIRMED))
        det = self.detidx[out]
        if self.head_padding:
            self._pad(tlbr, scores, seen)
        return Tracks(tlbr[det], self.ids[out], scores[det])

    def _pad(self, tlbr: np.ndarray, scores: np.ndarray, seen: np.ndarray) -> None:
        frame_id = self._frame_no
        for i in np.flatnonzero(seen & (self.status == TENTATIVE)):
            d = self.detidx[i]
            row = np.array([frame_id, self.ids[i], tlbr[d, 0], tlbr[d, 1], tlbr[d, 2] - tlbr[d, 0],
                            tlbr[d, 3] - tlbr[d, 1], scores[d], -1, -1, -1], dtype=np.float64)
            self._tentative_rows.setdefault(int(self.ids[i]), []).append(row)
        for i in np.flatnonzero(seen & (self.status == CONFIRMED)):
            rows = self._tentative_rows.pop(int(self.ids[i]), None)
            if rows:
                self._padding.extend(rows)
        alive = set(self.ids[self.status == TENTATIVE].tolist())
        for tid in [t for t in self._tentative_rows if t not in alive]:
            del self._tentative_rows[tid]

    def finish(self, rows: np.ndarray) -> np.ndarray:
        """With ``head_padding``: the online rows plus each confirmed track's tentative frames, by frame then
        id (the official ``--hp`` writer's order); otherwise the online rows."""
        if not self.head_padding or not self._padding:
            return rows
        out = np.vstack([np.asarray(rows, dtype=np.float64).reshape(-1, 10), np.stack(self._padding)])
        return out[np.lexsort((out[:, 1], out[:, 0]))]
