"""Both Kalman filters against the textbook equations they implement."""

from __future__ import annotations

import numpy as np

from mot_bench.trackers.common.kalman import (
    CHI2INV95,
    KalmanFilterXYAH,
    SortKalmanFilter,
    sort_bbox_to_z,
    sort_x_to_bbox,
)


def _textbook_update(x, P, z, H, R):
    S = H @ P @ H.T + R
    K = P @ H.T @ np.linalg.inv(S)
    return x + K @ (z - H @ x), (np.eye(len(x)) - K @ H) @ P


def test_xyah_initiate_and_predict_noise_follow_height():
    kf = KalmanFilterXYAH()
    mean, cov = kf.initiate(np.array([50.0, 80.0, 0.4, 120.0]))
    np.testing.assert_array_equal(mean, [50, 80, 0.4, 120, 0, 0, 0, 0])
    std = [2 * 120 / 20, 2 * 120 / 20, 1e-2, 2 * 120 / 20, 10 * 120 / 160, 10 * 120 / 160, 1e-5, 10 * 120 / 160]
    np.testing.assert_allclose(np.diag(cov), np.square(std))
    mean[4:] = [1.0, -2.0, 0.0, 0.5]
    pm, pc = kf.predict(mean, cov)
    np.testing.assert_allclose(pm[:4], [51, 78, 0.4, 120.5])
    F = np.eye(8) + np.eye(8, k=4)
    q = np.square([6.0, 6.0, 1e-2, 6.0, 0.75, 0.75, 1e-5, 0.75])
    np.testing.assert_allclose(pc, F @ cov @ F.T + np.diag(q))


def test_xyah_multi_predict_equals_predict():
    kf = KalmanFilterXYAH()
    rng = np.random.default_rng(0)
    means, covs = [], []
    for _ in range(5):
        m, c = kf.initiate(rng.uniform([0, 0, 0.3, 50], [500, 500, 0.6, 200]))
        m, c = kf.update(*kf.predict(m, c), m[:4] + rng.normal(0, 2, 4) * [1, 1, 0.01, 1])
        means.append(m)
        covs.append(c)
    mm, mc = kf.multi_predict(np.stack(means), np.stack(covs))
    for i in range(5):
        pm, pc = kf.predict(means[i], covs[i])
        np.testing.assert_allclose(mm[i], pm, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mc[i], pc, rtol=1e-13)


def test_xyah_update_is_the_kalman_update_and_gating_is_mahalanobis():
    kf = KalmanFilterXYAH()
    mean, cov = kf.predict(*kf.initiate(np.array([100.0, 200.0, 0.5, 80.0])))
    z = np.array([103.0, 198.0, 0.52, 83.0])
    H = np.eye(4, 8)
    R = np.diag(np.square([80 / 20, 80 / 20, 1e-1, 80 / 20]))
    xm, xc = _textbook_update(mean, cov, z, H, R)
    nm, nc = kf.update(mean, cov, z)
    np.testing.assert_allclose(nm, xm, rtol=1e-12)
    np.testing.assert_allclose(nc, xc, rtol=1e-9, atol=1e-12)
    S = H @ cov @ H.T + R
    meas = np.array([z, [300.0, 200.0, 0.5, 80.0]])
    d = meas - mean[:4]
    expected = np.einsum("ni,ij,nj->n", d, np.linalg.inv(S), d)
    np.testing.assert_allclose(kf.gating_distance(mean, cov, meas), expected, rtol=1e-10)
    got = kf.gating_distance(mean, cov, meas)
    assert got[0] < CHI2INV95[4] < got[1]
    pos = kf.gating_distance(mean, cov, meas, only_position=True)
    np.testing.assert_allclose(pos, np.einsum("ni,ij,nj->n", d[:, :2], np.linalg.inv(S[:2, :2]), d[:, :2]))
    np.testing.assert_allclose(kf.gating_distance(mean, cov, meas, metric="gaussian"), (d * d).sum(1))


def test_sort_filter_initial_matrices_are_sorts():
    kf = SortKalmanFilter(np.array([10.0, 20.0, 30.0, 60.0]))
    np.testing.assert_allclose(kf.x.ravel(), [20, 40, 800, 0.5, 0, 0, 0])
    np.testing.assert_allclose(np.diag(kf.P), [10, 10, 10, 10, 10000, 10000, 10000])
    np.testing.assert_allclose(np.diag(kf.Q), [1, 1, 1, 1, 0.01, 0.01, 0.0001])
    np.testing.assert_allclose(np.diag(kf.R), [1, 1, 10, 10])
    np.testing.assert_allclose(sort_x_to_bbox(kf.x), [10, 20, 30, 60])
    # A negative area gives NaN, which SORT uses to drop the track.
    assert np.isnan(sort_x_to_bbox(np.array([[0.0], [0], [-4], [1]]))).any()


def test_sort_filter_predict_update_match_textbook():
    kf = SortKalmanFilter(np.array([10.0, 20.0, 30.0, 60.0]))
    x, P = kf.x.copy(), kf.P.copy()
    kf.predict()
    x, P = kf.F @ x, kf.F @ P @ kf.F.T + kf.Q
    np.testing.assert_allclose(kf.x, x)
    np.testing.assert_allclose(kf.P, P)
    z = sort_bbox_to_z(np.array([12.0, 21.0, 33.0, 62.0]))
    kf.update(z)
    x, P = _textbook_update(x, P, z, kf.H, kf.R)
    np.testing.assert_allclose(kf.x, x, rtol=1e-12)
    np.testing.assert_allclose(kf.P, P, rtol=1e-8, atol=1e-9)  # Joseph form == simple form in exact math
    assert 2 < kf.x[4, 0] < 2.5  # velocity picks up most of the 2.5 px shift of the centre


def test_forward_substitution_matches_lapack_to_an_ulp():
    import scipy.linalg

    from mot_bench.trackers.common.kalman import _forward_substitution

    rng = np.random.default_rng(3)
    for _ in range(50):
        a = rng.normal(size=(4, 4))
        lower = np.linalg.cholesky(a @ a.T + 4 * np.eye(4))
        b = rng.normal(size=(4, 6)) * 100
        ref = scipy.linalg.solve_triangular(lower, b, lower=True)
        np.testing.assert_allclose(_forward_substitution(lower, b), ref, rtol=1e-13, atol=1e-12)
