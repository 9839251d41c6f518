"""Camera-motion compensation (CMC): the global motion between two frames as a 2x3 affine warp.

The methods are those of BoT-SORT's ``GMC`` class (NirAharon/BoT-SORT, ``tracker/gmc.py``), on
grey images downscaled by ``downscale`` (2, as the official code), the translation scaled back to
full-resolution pixels:

* ``orb``: FAST corners (threshold 20) described by ORB, brute-force Hamming 2-NN matching;
* ``sift``: SIFT (3 octave layers, contrast 0.02, edge 20), brute-force L2 2-NN matching;
  both keep matches passing the 0.9 ratio test and moving less than a quarter of the image, drop
  outliers with the official one-sided 2.5-sigma test, then fit a partial affine (rotation, uniform
  scale, translation) with RANSAC (``cv2.estimateAffinePartial2D``); keypoints are searched inside
  the 2%..98% border and outside the given detection boxes (``prev_boxes``/``curr_boxes``, tlbr in
  full-resolution pixels), as the official code masks the current detections (its mask slices boxes as
  Python does: a box with x1 < 0 usually masks nothing, see :func:`_feature_mask`);
* ``sparseOptFlow``: up to 1000 Shi-Tomasi corners on the previous frame followed by pyramidal
  Lucas-Kanade, then the same RANSAC fit;
* ``ecc``: ``cv2.findTransformECC`` with a Euclidean model (5000 iterations, eps 1e-6) after a
  3x3 Gaussian blur (sigma 1.5). Two departures from the official code, on purpose: the official
  ``applyEcc`` never updates its stored frame (each warp is relative to the *first* frame of the
  sequence) and returns the translation in downscaled pixels; here the warp is previous -> current
  in full-resolution pixels like every other method;
* ``ecc_strongsort``: StrongSORT's ECC (dyhBUPT/StrongSORT ``others/ecc.py`` ``ECC`` as its
  ``__main__`` calls it per pair of consecutive frames): grey (``cv2.COLOR_BGR2GRAY``), both frames
  resized by the fixed scale 0.1 (``fx = fy = 0.1``, ``INTER_LINEAR``), ``cv2.findTransformECC``
  from a float32 2x3 identity with a Euclidean model, criteria EPS|COUNT (100 iterations, eps
  1e-5), no mask, Gaussian filter size 1, then the float32 translation divided by 0.1 (in float64
  and stored as float32, as under the numpy < 1.24 the script ran with). No blur, no
  border handling; ``downscale`` is ignored (the scale is always the official 0.1, recorded as
  downscale 10 by the runner). A failed estimate (``cv2.error``, e.g. no convergence, where the
  official script would stop) gives the identity;
* ``ecc_boosttrack``: BoostTrack's ECC (vukasin-stanojevic/BoostTrack ``tracker/ecc.py``, ``ECC(scale=350)``
  as ``BoostTrack`` builds it): grey, both frames resized to a width of 350 pixels (``fx = fy = 350 /
  width``, ``INTER_LINEAR``), ``cv2.findTransformECC`` from a float32 2x3 identity with a Euclidean model,
  criteria EPS|COUNT (100 iterations, eps 1e-4), no mask, Gaussian filter size 1, then the translation
  divided by the scale in float64 and stored back in the float32 matrix (numpy < 2's promotion of a
  float32 scalar divided by a Python float, which the official code ran under). ``downscale`` is
  ignored. A failed estimate (``cv2.error``; the official code would stop) gives the identity. OpenCV
  4.8 (the official environment's) and 5.x estimate slightly different warps (translations within
  0.02 px on PETS09-S2L1);
* ``file``: the official precomputed GMC files (``GMC-<SEQ>.txt``, one tab-separated row
  ``k a11 a12 tx a21 a22 ty`` per frame; see :func:`read_gmc_file` and :func:`file_warps`), or, where
  a sequence has none, BoostTrack's own ECC cache (``<video>.json``, written by its ``ECC.save_cache``:
  ``{"<video>:<frame>-<k>": 3x3 matrix}`` for the k-th frame the tracker saw, k >= 2; see
  :func:`read_boosttrack_cache`);
* ``none``: the identity.

Checked against the official code (``tests/test_cmc.py``, fixtures and their driver in
``tests/fixtures/cmc``): on TUD-Campus and PETS09-S2L1 frames with their detections, ``orb``, ``sift``,
``sparseOptFlow`` (a stateful ``GMC`` over the frames), ``ecc`` (per pair, translation scaled) and
``ecc_strongsort`` (StrongSORT's ``ECC``) give the official warps bit for bit under the same OpenCV, for
every OpenCV from 4.10 to 5.1 and for 4.6 (the one the official code ran with). The OpenCV version itself
moves the warps (docs/architecture.md, "OpenCV"). ``ecc_boosttrack`` is checked by BoostTrack's tests.

A warp ``W`` maps a pixel of the previous frame to the current one: ``x_cur = W[:, :2] @ x_prev +
W[:, 2]``. A failed estimate (too few points, no convergence) gives the identity, as the official
code does.

API (for trackers and for the runner)
--------------------------------------
* :func:`estimate_warp` ``(method, prev_image, curr_image, downscale=2, prev_boxes=None,
  curr_boxes=None) -> (2, 3) float64``: pure, BGR uint8 images of one sequence.
* :class:`MotionEstimator`: a per-sequence stateful wrapper holding the previous image;
  ``estimator(image, boxes) -> warp`` (identity on the first frame); ``reset()`` between sequences.
* :func:`file_warps` ``(gmc_dir, seq) -> {frame_id: warp}``: the official file of a sequence, rows
  mapped to frame numbers (full-sequence files start at frame 1, the MOT17 half-val ("ablation")
  files at frame N//2+2).
* :func:`sequence_warps` ``(seq, method, cache_dir=None, ...) -> (num_frames, 2, 3)``: the warps of
  every frame of ``seq.frame_ids`` (row k is frame ``seq.first_frame + k``, row 0 the identity),
  computed once per sequence, method and frame range and saved as ``<cache_dir>/<key>.npy``.

Runner integration (planned): for a tracker with ``needs_camera_motion = True`` the runner reads the
tracker's ``cmc_method`` (and ``gmc_dir`` for ``file``), obtains the warps with
:func:`sequence_warps` (decoding pixels only for the image methods, and only when the cache misses)
and hands each frame's warp to ``tracker.update`` as ``frame.camera_motion``. A tracker given no
warp may compute it itself from ``frame.image`` or read the file (BoT-SORT does both).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mot_bench.types import SeqInfo

IMAGE_METHODS = ("orb", "sift", "ecc", "sparseOptFlow", "ecc_strongsort", "ecc_boosttrack")
METHODS = (*IMAGE_METHODS, "file", "none")
# Methods whose downscale is fixed whatever a tracker asks (the runner records and caches this one;
# ecc_boosttrack resizes to a fixed width instead, recorded as 1).
FIXED_DOWNSCALE = {"file": 1, "ecc_strongsort": 10, "ecc_boosttrack": 1}
STRONGSORT_ECC_SCALE = 0.1
BOOSTTRACK_ECC_WIDTH = 350


def identity() -> np.ndarray:
    return np.eye(2, 3, dtype=np.float64)


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown camera-motion method {method!r}; valid: {', '.join(METHODS)}")
    return method


# --------------------------------------------------------------------------------------------------
# image methods
# --------------------------------------------------------------------------------------------------
def _grey(image: np.ndarray, downscale: int, blur: bool = False) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if downscale > 1:
        if blur:
            grey = cv2.GaussianBlur(grey, (3, 3), 1.5)
        h, w = grey.shape[:2]
        grey = cv2.resize(grey, (w // downscale, h // downscale))
    return grey


def _feature_mask(grey: np.ndarray, boxes: np.ndarray | None, downscale: int) -> np.ndarray:
    """Keypoints are searched inside the 2%..98% border and outside the boxes, exactly as the official
    mask: each box divided in its own dtype (float32 from the tracker) and truncated, then used as a Python
    slice, so a negative coordinate counts from the far edge (a box with x1 < 0 usually masks nothing)."""
    h, w = grey.shape[:2]
    mask = np.zeros_like(grey)
    mask[int(0.02 * h) : int(0.98 * h), int(0.02 * w) : int(0.98 * w)] = 255
    if boxes is not None:
        for box in np.asarray(boxes).reshape(-1, 4):
            x1, y1, x2, y2 = (box / downscale).astype(np.int_)
            mask[y1:y2, x1:x2] = 0
    return mask


def _features(method: str, grey: np.ndarray, mask: np.ndarray):
    import cv2

    if method == "orb":
        keypoints = cv2.FastFeatureDetector_create(20).detect(grey, mask)
        return cv2.ORB_create().compute(grey, keypoints)
    sift = cv2.SIFT_create(nOctaveLayers=3, contrastThreshold=0.02, edgeThreshold=20)
    keypoints = sift.detect(grey, mask)
    return sift.compute(grey, keypoints)


def _fit_partial_affine(prev_pts: np.ndarray, curr_pts: np.ndarray, downscale: int) -> np.ndarray:
    """RANSAC partial affine from matched points (downscaled pixels); identity if under 5 points."""
    import cv2

    if len(prev_pts) <= 4:
        return identity()
    warp, _ = cv2.estimateAffinePartial2D(prev_pts, curr_pts, method=cv2.RANSAC)
    if warp is None:
        return identity()
    warp = np.asarray(warp, dtype=np.float64)
    warp[:, 2] *= downscale
    return warp


def feature_warp(
    method: str,
    prev_image: np.ndarray,
    curr_image: np.ndarray,
    downscale: int = 2,
    prev_boxes: np.ndarray | None = None,
    curr_boxes: np.ndarray | None = None,
) -> np.ndarray:
    """``orb`` or ``sift``: matched keypoints outside the detections -> partial affine."""
    import cv2

    prev = _grey(prev_image, downscale)
    curr = _grey(curr_image, downscale)
    kp_prev, desc_prev = _features(method, prev, _feature_mask(prev, prev_boxes, downscale))
    kp_curr, desc_curr = _features(method, curr, _feature_mask(curr, curr_boxes, downscale))
    if desc_prev is None or desc_curr is None or len(kp_prev) == 0 or len(kp_curr) == 0:
        return identity()
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING if method == "orb" else cv2.NORM_L2)
    knn = matcher.knnMatch(desc_prev, desc_curr, k=2)
    h, w = curr.shape[:2]
    max_shift = 0.25 * np.array([w, h])
    shifts, pairs = [], []
    for cand in knn:
        if len(cand) < 2:
            continue
        best, second = cand[0], cand[1]
        if best.distance < 0.9 * second.distance:
            p = kp_prev[best.queryIdx].pt
            c = kp_curr[best.trainIdx].pt
            d = (p[0] - c[0], p[1] - c[1])
            if abs(d[0]) < max_shift[0] and abs(d[1]) < max_shift[1]:
                shifts.append(d)
                pairs.append((p, c))
    if not pairs:
        return identity()
    shifts_a = np.asarray(shifts)
    # The official inlier test is one-sided (no absolute value): kept as it is.
    keep = np.all(shifts_a - shifts_a.mean(0) < 2.5 * shifts_a.std(0), axis=1)
    prev_pts = np.array([pairs[i][0] for i in np.flatnonzero(keep)], dtype=np.float64).reshape(-1, 2)
    curr_pts = np.array([pairs[i][1] for i in np.flatnonzero(keep)], dtype=np.float64).reshape(-1, 2)
    return _fit_partial_affine(prev_pts, curr_pts, downscale)


def sparse_flow_warp(prev_image: np.ndarray, curr_image: np.ndarray, downscale: int = 2) -> np.ndarray:
    """``sparseOptFlow``: Shi-Tomasi corners of the previous frame tracked by pyramidal LK."""
    import cv2

    prev = _grey(prev_image, downscale)
    curr = _grey(curr_image, downscale)
    corners = cv2.goodFeaturesToTrack(
        prev, maxCorners=1000, qualityLevel=0.01, minDistance=1, blockSize=3, useHarrisDetector=False, k=0.04
    )
    if corners is None or len(corners) == 0:
        return identity()
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, curr, corners, None)
    ok = status.reshape(-1).astype(bool)
    return _fit_partial_affine(corners.reshape(-1, 2)[ok], moved.reshape(-1, 2)[ok], downscale)


def ecc_warp(prev_image: np.ndarray, curr_image: np.ndarray, downscale: int = 2) -> np.ndarray:
    """``ecc``: Euclidean ECC between the blurred, downscaled grey frames (identity if it fails)."""
    import cv2

    prev = _grey(prev_image, downscale, blur=True)
    curr = _grey(curr_image, downscale, blur=True)
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 5000, 1e-6)
    try:
        _, warp = cv2.findTransformECC(prev, curr, warp, cv2.MOTION_EUCLIDEAN, criteria, None, 1)
    except cv2.error:
        return identity()
    warp = np.asarray(warp, dtype=np.float64)
    warp[:, 2] *= downscale
    return warp


def _ecc_euclidean_warp(method: str, prev_image: np.ndarray, curr_image: np.ndarray, scale: float | None,
                        eps: float) -> np.ndarray:
    """The ECC both StrongSORT and BoostTrack run: grey frames resized by ``scale`` (None: to
    ``BOOSTTRACK_ECC_WIDTH`` pixels wide), ``findTransformECC`` with MOTION_EUCLIDEAN, 100 iterations and ``eps``;
    the translation scaled back in place on the float32 matrix, the result as float64 (identity if ECC fails)."""
    import cv2

    if prev_image.shape != curr_image.shape:
        raise ValueError(f"{method}: frames of different shapes {prev_image.shape} and {curr_image.shape}")
    prev, curr = prev_image, curr_image
    if prev.ndim == 3:
        prev = cv2.cvtColor(prev, cv2.COLOR_BGR2GRAY)
        curr = cv2.cvtColor(curr, cv2.COLOR_BGR2GRAY)
    if scale is None:
        scale = BOOSTTRACK_ECC_WIDTH / prev.shape[1]
    prev = cv2.resize(prev, (0, 0), fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    curr = cv2.resize(curr, (0, 0), fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, eps)
    try:
        _, warp = cv2.findTransformECC(prev, curr, warp, cv2.MOTION_EUCLIDEAN, criteria, None, 1)
    except cv2.error:
        return identity()
    # In place on the float32 matrix, as the official code under the numpy it ran with (< 2): there a
    # float32 scalar divided by a Python float is computed in float64 and rounded once to float32 when stored
    # (numpy 2 divides in float32, which can differ by one float32 ulp).
    warp[0, 2] = float(warp[0, 2]) / scale
    warp[1, 2] = float(warp[1, 2]) / scale
    return np.asarray(warp, dtype=np.float64)


def strongsort_ecc_warp(prev_image: np.ndarray, curr_image: np.ndarray) -> np.ndarray:
    """``ecc_strongsort``: StrongSORT's ``ECC(prev, curr, MOTION_EUCLIDEAN, eps=1e-5, max_iter=100,
    scale=0.1)``, the float32 result as float64 (identity if ECC fails)."""
    return _ecc_euclidean_warp("ecc_strongsort", prev_image, curr_image, STRONGSORT_ECC_SCALE, 1e-5)


def boosttrack_ecc_warp(prev_image: np.ndarray, curr_image: np.ndarray) -> np.ndarray:
    """``ecc_boosttrack``: BoostTrack's ``ecc(prev, curr, MOTION_EUCLIDEAN, eps=1e-4, max_iter=100,
    scale=350)`` (frames resized to 350 px wide), the float32 result as float64 (identity if ECC fails)."""
    return _ecc_euclidean_warp("ecc_boosttrack", prev_image, curr_image, None, 1e-4)


def estimate_warp(
    method: str,
    prev_image: np.ndarray,
    curr_image: np.ndarray,
    downscale: int = 2,
    prev_boxes: np.ndarray | None = None,
    curr_boxes: np.ndarray | None = None,
) -> np.ndarray:
    """The warp previous -> current frame by an image method (``none`` gives the identity)."""
    check_method(method)
    downscale = max(1, int(downscale))
    if method in ("orb", "sift"):
        return feature_warp(method, prev_image, curr_image, downscale, prev_boxes, curr_boxes)
    if method == "sparseOptFlow":
        return sparse_flow_warp(prev_image, curr_image, downscale)
    if method == "ecc":
        return ecc_warp(prev_image, curr_image, downscale)
    if method == "ecc_strongsort":
        return strongsort_ecc_warp(prev_image, curr_image)
    if method == "ecc_boosttrack":
        return boosttrack_ecc_warp(prev_image, curr_image)
    if method == "none":
        return identity()
    raise ValueError("the 'file' method reads precomputed warps: use file_warps() or sequence_warps()")


class MotionEstimator:
    """Per-sequence state for the image methods: remembers the previous image (and its boxes)."""

    def __init__(self, method: str, downscale: int = 2) -> None:
        if check_method(method) == "file":
            raise ValueError("MotionEstimator computes warps from images; 'file' warps come from file_warps()")
        self.method = method
        self.downscale = downscale
        self.reset()

    def reset(self) -> None:
        self._prev: np.ndarray | None = None
        self._prev_boxes: np.ndarray | None = None

    def __call__(self, image: np.ndarray, boxes: np.ndarray | None = None) -> np.ndarray:
        if self.method == "none":
            return identity()
        if self._prev is None:
            warp = identity()
        else:
            warp = estimate_warp(self.method, self._prev, image, self.downscale, self._prev_boxes, boxes)
        self._prev, self._prev_boxes = image, boxes
        return warp


# --------------------------------------------------------------------------------------------------
# the official precomputed files
# --------------------------------------------------------------------------------------------------
def read_gmc_file(path: str | Path) -> np.ndarray:
    """An official ``GMC-<SEQ>.txt`` -> (R, 2, 3) float64, row order kept (column 0, the row index,
    is checked to count 0, 1, 2 ...)."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh):
            tokens = line.split()
            if not tokens:
                continue
            if len(tokens) < 7:
                raise ValueError(f"{path}:{lineno + 1}: expected 7 tab-separated fields, got {len(tokens)}")
            if int(float(tokens[0])) != len(rows):
                raise ValueError(f"{path}:{lineno + 1}: row index {tokens[0]}, expected {len(rows)}")
            rows.append([float(t) for t in tokens[1:7]])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2, 3)


MOT17_DETECTOR_SUFFIXES = ("-FRCNN", "-DPM", "-SDP")


def gmc_file_path(gmc_dir: str | Path, seq_name: str) -> Path:
    """``<gmc_dir>/GMC-<SEQ>.txt`` with the MOT17 detector suffix dropped, as the official code; where that
    file does not exist but a BoostTrack ECC cache of the sequence does (``<SEQ>.json``, or the same video
    under another MOT17 detector suffix, -FRCNN first as BoostTrack's evaluation names it), that cache."""
    video = seq_name
    for suffix in MOT17_DETECTOR_SUFFIXES:
        if seq_name.endswith(suffix):
            video = seq_name[: -len(suffix)]
            break
    gmc = Path(gmc_dir) / f"GMC-{video}.txt"
    if gmc.is_file():
        return gmc
    names = [seq_name] + ([video + s for s in MOT17_DETECTOR_SUFFIXES if video + s != seq_name]
                          if video != seq_name else [])
    for name in names:
        cache = Path(gmc_dir) / f"{name}.json"
        if cache.is_file():
            return cache
    return gmc


def read_boosttrack_cache(path: str | Path) -> np.ndarray:
    """BoostTrack's ECC cache ``{"<video>:<frame>-<k>": [[a11, a12, tx], [a21, a22, ty], [0, 0, 1]]}`` ->
    (R, 2, 3) float64, row k - 1 the warp of the k-th frame the tracker saw (row 0, the first frame, which
    the official code never looks up, the identity). Every k from 2 to the largest must be present."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            cache = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); expected BoostTrack's ECC cache") from None
    if not isinstance(cache, dict):
        raise ValueError(f"{path}:1: found a JSON {type(cache).__name__}, expected an object of 3x3 matrices")
    warps: dict[int, np.ndarray] = {}
    for key, value in cache.items():
        _, dash, count = str(key).rpartition("-")
        matrix = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
        if not dash or not count.isdigit() or int(count) < 2 or matrix is None or matrix.shape not in ((3, 3),
                                                                                                       (2, 3)):
            raise ValueError(f"{path}:1: entry {key!r}, expected '<video>:<frame>-<k>' (k >= 2) with a 3x3 matrix")
        warps[int(count)] = matrix[:2]
    rows = max(warps, default=1)
    missing = sorted(set(range(2, rows + 1)) - set(warps))
    if missing:
        raise ValueError(f"{path}:1: no entry for frame count {missing[0]} (the cache has 2..{rows} with gaps)")
    table = np.repeat(identity()[None], rows, axis=0)
    for k, m in warps.items():
        table[k - 1] = m
    return table


def file_first_frame(num_rows: int, seq: SeqInfo) -> int:
    """The frame of a GMC file's first row: 1 for a full-sequence file, N//2+2 for a MOT17 half-val
    ("ablation") file, else the split's first frame if the file covers exactly the split."""
    n = seq.length
    if num_rows == n:
        return 1
    if num_rows == n - n // 2 - 1:
        return n // 2 + 2
    if num_rows == seq.num_frames:
        return seq.first_frame
    raise ValueError(
        f"GMC file for {seq.name}: {num_rows} rows fit neither the sequence ({n} frames), its half-val "
        f"part ({n - n // 2 - 1}) nor the split ({seq.num_frames})"
    )


def file_warps(gmc_dir: str | Path, seq: SeqInfo) -> dict[int, np.ndarray]:
    """The official warps of ``seq`` keyed by frame number (a GMC file, or a BoostTrack ECC cache)."""
    path = gmc_file_path(gmc_dir, seq.name)
    table = read_boosttrack_cache(path) if path.suffix == ".json" else read_gmc_file(path)
    first = file_first_frame(len(table), seq)
    return {first + k: table[k] for k in range(len(table))}


# --------------------------------------------------------------------------------------------------
# per-sequence cache
# --------------------------------------------------------------------------------------------------
# The revision of the pixel methods' arithmetic, part of their cache key: bumped whenever a fix changes the warps
# they compute, so a cache written before the fix is recomputed rather than reused (r2: boxes with x < 0 masked
# as the official slicing masks them; ecc_strongsort's translation divided in float64).
PIXEL_WARPS_REVISION = 2


def _cache_key(seq: SeqInfo, method: str, downscale: int, gmc_dir: str | Path | None) -> str:
    extra = ""
    if method == "file":
        path = gmc_file_path(gmc_dir, seq.name)
        extra = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    elif method == "ecc_strongsort":
        extra = f"s{STRONGSORT_ECC_SCALE:g}"  # the fixed official scale, whatever downscale was asked
    elif method == "ecc_boosttrack":
        extra = f"w{BOOSTTRACK_ECC_WIDTH}"  # the fixed official width
    else:
        extra = f"d{downscale}"
    if method not in ("file", "none"):
        extra += f"-r{PIXEL_WARPS_REVISION}"
    return f"{seq.name}-{method}-{seq.first_frame}-{seq.last_frame}-{extra}"


def sequence_warps(
    seq: SeqInfo,
    method: str,
    cache_dir: str | Path | None = None,
    *,
    downscale: int = 2,
    gmc_dir: str | Path | None = None,
    load_image: Callable[[SeqInfo, int], np.ndarray] | None = None,
    boxes: Callable[[int], np.ndarray | None] | None = None,
) -> np.ndarray:
    """Warps of every frame of the split, (num_frames, 2, 3); row 0 (the split's first frame) is the
    identity. Loaded from ``<cache_dir>/<key>.npy`` when present, else computed and saved there.

    ``load_image(seq, frame_id)`` defaults to :func:`mot_bench.data.frames.decode_image`; ``boxes``
    (frame_id -> tlbr boxes or None) masks detections for ``orb``/``sift``.
    """
    check_method(method)
    if method == "file" and gmc_dir is None:
        raise ValueError("camera-motion method 'file' needs gmc_dir")
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{_cache_key(seq, method, downscale, gmc_dir)}.npy"
        if cache.is_file():
            warps = np.load(cache)
            if warps.shape == (seq.num_frames, 2, 3):
                return warps
    warps = np.repeat(identity()[None], seq.num_frames, axis=0)
    if method == "file":
        table = file_warps(gmc_dir, seq)
        for k, frame_id in enumerate(seq.frame_ids):
            if k > 0 and frame_id in table:
                warps[k] = table[frame_id]
    elif method != "none":
        if load_image is None:
            from mot_bench.data.frames import decode_image as load_image
        estimator = MotionEstimator(method, downscale)
        for k, frame_id in enumerate(seq.frame_ids):
            warps[k] = estimator(load_image(seq, frame_id), None if boxes is None else boxes(frame_id))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npy")
        np.save(tmp, warps)
        tmp.replace(cache)
    return warps
