"""The two Kalman filters the official trackers use, re-implemented in numpy.

* :class:`KalmanFilterXYAH`: the 8-d constant-velocity filter of deep_sort/JDE, used unchanged by
  FairMOT (``tracking_utils/kalman_filter.py``) and ByteTrack (``yolox/tracker/kalman_filter.py``):
  state (cx, cy, a=w/h, h) and their velocities, noise proportional to the box height.
* :class:`KalmanFilterXYWH`: BoT-SORT's variant (``tracker/kalman_filter.py``): the same 8-d
  constant-velocity model on (cx, cy, w, h), every noise term proportional to the width (x and w
  entries) or the height (y and h entries) instead of the height alone.
* :class:`SortKalmanFilter`: SORT's 7-d filter (cx, cy, s=area, r=w/h, vx, vy, vs) with the initial
  F, H, R, P, Q that ``sort.py`` sets on a ``filterpy.kalman.KalmanFilter``, and filterpy's predict
  and (Joseph-form) update arithmetic, so SORT needs no filterpy.

The arithmetic follows the reference code operation by operation (same matrix products, same
Cholesky solve), so results agree with it to the last few ulps rather than only approximately.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.linalg.lapack import dpotrf, dpotrs

# 0.95 quantile of the chi-square distribution with N degrees of freedom (N = 1..9), the table
# deep_sort/JDE/FairMOT/ByteTrack use as Mahalanobis gating threshold.
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592, 7: 14.067, 8: 15.507, 9: 16.919}


class KalmanFilterXYAH:
    """JDE/ByteTrack/FairMOT box filter: x, y, a, h (+ velocities), std weights 1/20 and 1/160."""

    ndim = 4

    def __init__(self) -> None:
        ndim, dt = self.ndim, 1.0
        self._motion_mat = np.eye(2 * ndim, 2 * ndim)
        for i in range(ndim):
            self._motion_mat[i, ndim + i] = dt
        self._update_mat = np.eye(ndim, 2 * ndim)
        self._std_weight_position = 1.0 / 20
        self._std_weight_velocity = 1.0 / 160

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New track from an (x, y, a, h) measurement; velocities start at 0 with wide uncertainty."""
        h = measurement[3]
        mean = np.concatenate([measurement, np.zeros_like(measurement)])
        wp, wv = self._std_weight_position, self._std_weight_velocity
        std = [2 * wp * h, 2 * wp * h, 1e-2, 2 * wp * h, 10 * wv * h, 10 * wv * h, 1e-5, 10 * wv * h]
        return mean, np.diag(np.square(std))

    def _motion_std(self, h: np.ndarray | float) -> list:
        wp, wv = self._std_weight_position, self._std_weight_velocity
        ones = np.ones_like(h)
        return [wp * h, wp * h, 1e-2 * ones, wp * h, wv * h, wv * h, 1e-5 * ones, wv * h]

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One constant-velocity step for one track."""
        motion_cov = np.diag(np.square(np.r_[self._motion_std(mean[3])]))
        mean = np.dot(mean, self._motion_mat.T)
        covariance = np.linalg.multi_dot((self._motion_mat, covariance, self._motion_mat.T)) + motion_cov
        return mean, covariance

    def multi_predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`predict` over (N, 8) means and (N, 8, 8) covariances, bit for bit as the
        official ``multi_predict`` (``np.dot`` with the motion matrix F = [[I, I], [0, I]]).

        Every element of F·x and F·P·F' is a sum of at most two non-zero terms per product (F is
        0/1), which any summation order rounds identically; so the products are written as the
        additions they are: rows i += rows i+4, then columns j += columns j+4 (i, j < 4). Adding
        the motion noise as a full matrix (zeros off the diagonal) turns -0.0 into +0.0 exactly
        as the reference's sums do.
        """
        n = len(mean)
        wp, wv = self._std_weight_position, self._std_weight_velocity
        std = mean[:, 3, None] * np.array([wp, wp, 0.0, wp, wv, wv, 0.0, wv])  # weight * h, as the reference
        std[:, 2] = 1e-2
        std[:, 6] = 1e-5
        motion_cov = np.zeros((n, 64))
        motion_cov[:, ::9] = np.square(std)  # the diagonals
        new_mean = np.array(mean, dtype=np.float64)
        new_mean[:, :4] += mean[:, 4:]
        cov = np.array(covariance, dtype=np.float64)
        cov[:, :4, :] += covariance[:, 4:, :]
        cov[:, :, :4] += cov[:, :, 4:]
        cov += motion_cov.reshape(n, 8, 8)
        return new_mean, cov

    def project(
        self, mean: np.ndarray, covariance: np.ndarray, confidence: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """State distribution -> measurement space, plus measurement noise.

        ``confidence``: StrongSORT's NSA filter, each measurement std scaled by ``1 - confidence``.
        """
        wp = self._std_weight_position
        std = [wp * mean[3], wp * mean[3], 1e-1, wp * mean[3]]
        if confidence is not None:
            std = [(1 - confidence) * x for x in std]
        innovation_cov = np.diag(np.square(std))
        mean = np.dot(self._update_mat, mean)
        covariance = np.linalg.multi_dot((self._update_mat, covariance, self._update_mat.T))
        return mean, covariance + innovation_cov

    def update(
        self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray, confidence: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correction step with a Cholesky solve for the gain (as the official code); ``confidence`` as
        in :meth:`project`."""
        projected_mean, projected_cov = (self.project(mean, covariance) if confidence is None
                                         else self.project(mean, covariance, confidence))
        chol_factor, lower = scipy.linalg.cho_factor(projected_cov, lower=True, check_finite=False)
        kalman_gain = scipy.linalg.cho_solve(
            (chol_factor, lower), np.dot(covariance, self._update_mat.T).T, check_finite=False
        ).T
        innovation = measurement - projected_mean
        new_mean = mean + np.dot(innovation, kalman_gain.T)
        new_covariance = covariance - np.linalg.multi_dot((kalman_gain, projected_cov, kalman_gain.T))
        return new_mean, new_covariance

    def _innovation_stds(self, mean: np.ndarray) -> np.ndarray:
        """(N, 4) measurement-noise stds of :meth:`project` for (N, 8) means, the same products."""
        wp = self._std_weight_position
        std = mean[:, 3, None] * np.array([wp, wp, 0.0, wp])
        std[:, 2] = 1e-1
        return std

    def multi_update(
        self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`update` of (N, 8) means and (N, 8, 8) covariances with (N, 4) measurements, bit for bit.

        The projection is elementwise; the Cholesky factor and solve are the LAPACK routines
        ``cho_factor``/``cho_solve`` call (dpotrf, dpotrs, same arguments), one track at a time;
        the products are ``np.matmul`` on stacks, which calls per track the BLAS routine ``np.dot``
        calls (same shapes and memory layouts: the gain is kept as the transpose of dpotrs'
        Fortran-ordered solution, as the reference's ``.T`` views are).
        """
        n = len(mean)
        if n == 0:
            return mean.reshape(0, 8), covariance.reshape(0, 8, 8)
        std = self._innovation_stds(mean)
        innovation_cov = np.zeros((n, 16))
        innovation_cov[:, ::5] = np.square(std)  # the diagonals
        projected_mean = mean[:, :4]
        projected_cov = covariance[:, :4, :4] + innovation_cov.reshape(n, 4, 4)
        # The solve's right-hand side: np.dot(covariance, H.T).T, one (4, 8) view per track.
        rhs = np.matmul(covariance, self._update_mat.T).transpose((0, 2, 1))
        gain = np.empty((n, 8, 4))
        for i in range(n):
            c, info = dpotrf(projected_cov[i], 1, 0)  # lower, clean=False: cho_factor(lower=True)
            if info != 0:  # let scipy raise its own error
                scipy.linalg.cho_factor(projected_cov[i], lower=True, check_finite=False)
            x, info = dpotrs(c, rhs[i], 1)  # lower: cho_solve
            if info != 0:
                raise ValueError(f"illegal value in {-info}th argument of internal potrs")
            gain[i] = x.T
        gain_t = gain.transpose((0, 2, 1))
        innovation = measurement - projected_mean
        new_mean = mean + np.matmul(innovation[:, None, :], gain_t)[:, 0, :]
        new_covariance = covariance - np.matmul(gain, np.matmul(projected_cov, gain_t))
        return new_mean, new_covariance

    def gating_distance(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        measurements: np.ndarray,
        only_position: bool = False,
        metric: str = "maha",
    ) -> np.ndarray:
        """Squared Mahalanobis (or squared Euclidean, ``metric='gaussian'``) distance to each measurement;
        compare with ``CHI2INV95[4]`` (or ``[2]`` with ``only_position``)."""
        mean, covariance = self.project(mean, covariance)
        if only_position:
            mean, covariance = mean[:2], covariance[:2, :2]
            measurements = measurements[:, :2]
        d = measurements - mean
        if metric == "gaussian":
            return np.sum(d * d, axis=1)
        if metric == "maha":
            cholesky_factor = np.linalg.cholesky(covariance)
            z = _forward_substitution(cholesky_factor, d.T)
            return np.sum(z * z, axis=0)
        raise ValueError(f"invalid distance metric {metric!r}; expected 'maha' or 'gaussian'")



class KalmanFilterXYWH(KalmanFilterXYAH):
    """BoT-SORT's box filter: state (cx, cy, w, h) and velocities; the std of each x/w entry scales
    with the width and of each y/h entry with the height (weights 1/20 and 1/160 as XYAH).

    ``gating_distance`` and ``multi_update`` are inherited: they only go through :meth:`project` and
    :meth:`_innovation_stds`.
    """

    def _stds(self, w, h, kp: float, kv: float) -> list:
        wp, wv = kp * self._std_weight_position, kv * self._std_weight_velocity
        return [wp * w, wp * h, wp * w, wp * h, wv * w, wv * h, wv * w, wv * h]

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New track from an (x, y, w, h) measurement; velocities 0; stds 2/20 and 10/160 of w or h."""
        mean = np.r_[measurement, np.zeros_like(measurement)]
        std = self._stds(measurement[2], measurement[3], 2, 10)
        return mean, np.diag(np.square(std))

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        motion_cov = np.diag(np.square(np.r_[self._stds(mean[2], mean[3], 1, 1)]))
        mean = np.dot(mean, self._motion_mat.T)
        covariance = np.linalg.multi_dot((self._motion_mat, covariance, self._motion_mat.T)) + motion_cov
        return mean, covariance

    def multi_predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sqr = np.square(np.stack(self._stds(mean[:, 2], mean[:, 3], 1, 1), axis=1))  # (N, 8)
        motion_cov = np.zeros((len(mean), 8, 8))
        idx = np.arange(8)
        motion_cov[:, idx, idx] = sqr
        mean = np.dot(mean, self._motion_mat.T)
        left = np.dot(self._motion_mat, covariance).transpose((1, 0, 2))
        covariance = np.dot(left, self._motion_mat.T) + motion_cov
        return mean, covariance

    def _innovation_stds(self, mean: np.ndarray) -> np.ndarray:
        return np.stack(self._stds(mean[:, 2], mean[:, 3], 1, 1)[:4], axis=1)

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        innovation_cov = np.diag(np.square(self._stds(mean[2], mean[3], 1, 1)[:4]))
        mean = np.dot(self._update_mat, mean)
        covariance = np.linalg.multi_dot((self._update_mat, covariance, self._update_mat.T))
        return mean, covariance + innovation_cov

    def update(
        self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The inherited correction step, calling the LAPACK routines behind ``scipy.linalg.cho_factor``
        and ``cho_solve`` (dpotrf, dpotrs) directly: the same numbers without scipy's per-call
        wrapper overhead, which dominated BoT-SORT's tracking time on crowded sequences."""
        projected_mean, projected_cov = self.project(mean, covariance)
        chol, info = dpotrf(projected_cov, lower=True, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError(f"Kalman update: projected covariance not positive definite (potrf {info})")
        gain_t, info = dpotrs(chol, np.dot(covariance, self._update_mat.T).T, lower=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"Kalman update: potrs failed ({info})")
        kalman_gain = gain_t.T
        innovation = measurement - projected_mean
        new_mean = mean + np.dot(innovation, kalman_gain.T)
        new_covariance = covariance - np.linalg.multi_dot((kalman_gain, projected_cov, kalman_gain.T))
        return new_mean, new_covariance


def _forward_substitution(lower: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``lower @ z = b`` for a small lower-triangular matrix, column-oriented as BLAS trsm.

    The official code calls ``scipy.linalg.solve_triangular``; on a loaded machine OpenBLAS's
    threaded trsm costs milliseconds per 4x4 solve (measured: 8 ms vs 5 us single-threaded), which
    dominated FairMOT's tracking time. This loop gives the same values up to 1 ulp (BLAS kernels may
    use fused multiply-adds), deterministically and without threads.
    """
    z = np.array(b, dtype=np.float64, copy=True)
    for k in range(lower.shape[0]):
        z[k] /= lower[k, k]
        if k + 1 < lower.shape[0]:
            z[k + 1 :] -= lower[k + 1 :, k, None] * z[k]
    return z


def sort_bbox_to_z(bbox: np.ndarray) -> np.ndarray:
    """SORT's measurement: [x1, y1, x2, y2] -> (4, 1) [cx, cy, area, w/h]."""
    w = bbox[2] - bbox[0]
    h = bbox[3] - bbox[1]
    x = bbox[0] + w / 2.0
    y = bbox[1] + h / 2.0
    return np.array([x, y, w * h, w / float(h)]).reshape((4, 1))


def sort_x_to_bbox(x: np.ndarray) -> np.ndarray:
    """SORT's state -> [x1, y1, x2, y2] (NaN when area*ratio went negative, as the original)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.sqrt(x[2] * x[3])
        h = x[2] / w
    return np.array([x[0] - w / 2.0, x[1] - h / 2.0, x[0] + w / 2.0, x[1] + h / 2.0]).reshape(4)


def sort_bboxes_to_z(bboxes: np.ndarray) -> np.ndarray:
    """:func:`sort_bbox_to_z` for (N, 4+) boxes at once: (N, 4) [cx, cy, area, w/h], same arithmetic."""
    w = bboxes[:, 2] - bboxes[:, 0]
    h = bboxes[:, 3] - bboxes[:, 1]
    z = np.empty((len(bboxes), 4))
    z[:, 0] = bboxes[:, 0] + w / 2.0
    z[:, 1] = bboxes[:, 1] + h / 2.0
    z[:, 2] = w * h
    z[:, 3] = w / h
    return z


def sort_xs_to_bboxes(x: np.ndarray) -> np.ndarray:
    """:func:`sort_x_to_bbox` for (N, 7) states at once: (N, 4) boxes, same arithmetic."""
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.sqrt(x[:, 2] * x[:, 3])
        h = x[:, 2] / w
    out = np.empty((len(x), 4))
    out[:, 0] = x[:, 0] - w / 2.0
    out[:, 1] = x[:, 1] - h / 2.0
    out[:, 2] = x[:, 0] + w / 2.0
    out[:, 3] = x[:, 1] + h / 2.0
    return out


class SortKalmanFilter:
    """SORT's per-track 7-d filter with filterpy's ``KalmanFilter(dim_x=7, dim_z=4)`` semantics.

    filterpy starts with x=0, P=Q=I, R=I(4); ``sort.py`` then sets F, H and scales R[2:,2:] by 10,
    P[4:,4:] by 1000, all of P by 10, Q[-1,-1] by 0.01 and Q[4:,4:] by 0.01 (in that order).
    """

    F = np.array(
        [
            [1, 0, 0, 0, 1, 0, 0],
            [0, 1, 0, 0, 0, 1, 0],
            [0, 0, 1, 0, 0, 0, 1],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
        ],
        dtype=np.float64,
    )
    H = np.array(
        [[1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]],
        dtype=np.float64,
    )
    _I = np.eye(7)

    def __init__(self, bbox: np.ndarray) -> None:
        self.R = np.eye(4)
        self.R[2:, 2:] *= 10.0
        self.P = np.eye(7)
        self.P[4:, 4:] *= 1000.0
        self.P *= 10.0
        self.Q = np.eye(7)
        self.Q[-1, -1] *= 0.01
        self.Q[4:, 4:] *= 0.01
        self.x = np.zeros((7, 1))
        self.x[:4] = sort_bbox_to_z(bbox)

    def predict(self) -> None:
        """filterpy predict: x = F x; P = F P F' + Q (fading memory alpha = 1)."""
        self.x = np.dot(self.F, self.x)
        self.P = 1.0 * np.dot(np.dot(self.F, self.P), self.F.T) + self.Q

    def update(self, z: np.ndarray) -> None:
        """filterpy update with an explicit inverse of S and the Joseph-form covariance update."""
        H, R = self.H, self.R
        y = z - np.dot(H, self.x)
        PHT = np.dot(self.P, H.T)
        S = np.dot(H, PHT) + R
        SI = np.linalg.inv(S)
        K = np.dot(PHT, SI)
        self.x = self.x + np.dot(K, y)
        I_KH = self._I - np.dot(K, H)
        self.P = np.dot(np.dot(I_KH, self.P), I_KH.T) + np.dot(np.dot(K, R), K.T)


class SortKalmanBank:
    """:class:`SortKalmanFilter` for all tracks at once: states (N, 7), covariances (N, 7, 7).

    Every step is the per-track filterpy arithmetic applied to the whole stack: ``np.matmul`` on
    stacks calls the same BLAS routine (dgemm/dgemv, same shapes, same transposition flags) per
    track as ``np.dot`` does on one track, and ``np.linalg.inv`` on a stack runs the same LAPACK
    solve per matrix, so the results are the per-track ones bit for bit, without a Python loop.
    """

    F = SortKalmanFilter.F
    H = SortKalmanFilter.H
    _I = SortKalmanFilter._I
    R = np.eye(4)
    R[2:, 2:] *= 10.0
    P0 = np.eye(7)
    P0[4:, 4:] *= 1000.0
    P0 *= 10.0
    Q = np.eye(7)
    Q[-1, -1] *= 0.01
    Q[4:, 4:] *= 0.01

    def __init__(self) -> None:
        self.x = np.zeros((0, 7))
        self.P = np.zeros((0, 7, 7))

    def __len__(self) -> int:
        return len(self.x)

    def add(self, z: np.ndarray) -> None:
        """New filters from (K, 4) measurements (velocities 0, SORT's initial P), appended."""
        x = np.zeros((len(z), 7))
        x[:, :4] = z
        self.x = np.concatenate([self.x, x])
        self.P = np.concatenate([self.P, np.broadcast_to(self.P0, (len(z), 7, 7))])

    def keep(self, mask: np.ndarray) -> None:
        self.x = self.x[mask]
        self.P = self.P[mask]

    def predict(self) -> None:
        """SORT's area-velocity clamp, then x = F x; P = F P F' + Q for every filter."""
        x = self.x
        x[(x[:, 6] + x[:, 2]) <= 0, 6] *= 0.0
        self.x = np.matmul(self.F, x[:, :, None])[:, :, 0]
        self.P = 1.0 * np.matmul(np.matmul(self.F, self.P), self.F.T) + self.Q

    def update(self, idx: np.ndarray, z: np.ndarray) -> None:
        """filterpy's update (explicit inverse of S, Joseph form) of filters ``idx`` with (K, 4) ``z``."""
        if len(idx) == 0:
            return
        H, R = self.H, self.R
        x = self.x[idx][:, :, None]
        P = self.P[idx]
        y = z[:, :, None] - np.matmul(H, x)
        PHT = np.matmul(P, H.T)
        S = np.matmul(H, PHT) + R
        SI = np.linalg.inv(S)
        K = np.matmul(PHT, SI)
        x = x + np.matmul(K, y)
        KT = K.transpose(0, 2, 1)
        I_KH = self._I - np.matmul(K, H)
        P = np.matmul(np.matmul(I_KH, P), I_KH.transpose(0, 2, 1)) + np.matmul(np.matmul(K, R), KT)
        self.x[idx] = x[:, :, 0]
        self.P[idx] = P
