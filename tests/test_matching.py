"""IoU flavours, assignment and cost fusion as the official SORT/FairMOT/ByteTrack code computes them."""

from __future__ import annotations

import numpy as np
import pytest

from mot_bench.trackers.common.kalman import CHI2INV95, KalmanFilterXYAH
from mot_bench.trackers.common.matching import (
    bbox_ious,
    embedding_distance,
    fuse_motion,
    fuse_score,
    gate_cost_matrix,
    iou_distance,
    iou_sort,
    linear_assignment,
    sort_associate,
)


def _cython_bbox_loop(boxes, query):
    """The loop of cython_bbox.bbox_overlaps written out literally, as the reference."""
    out = np.zeros((len(boxes), len(query)))
    for k in range(len(query)):
        qa = (query[k, 2] - query[k, 0] + 1) * (query[k, 3] - query[k, 1] + 1)
        for n in range(len(boxes)):
            iw = min(boxes[n, 2], query[k, 2]) - max(boxes[n, 0], query[k, 0]) + 1
            if iw > 0:
                ih = min(boxes[n, 3], query[k, 3]) - max(boxes[n, 1], query[k, 1]) + 1
                if ih > 0:
                    ua = float((boxes[n, 2] - boxes[n, 0] + 1) * (boxes[n, 3] - boxes[n, 1] + 1) + qa - iw * ih)
                    out[n, k] = iw * ih / ua
    return out


def test_iou_conventions_differ_by_the_plus_one():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 5.0, 15.0, 15.0]])
    assert iou_sort(a, b)[0, 0] == pytest.approx(25 / 175)
    assert bbox_ious(a, b)[0, 0] == pytest.approx(36 / (121 + 121 - 36))
    # Touching boxes: SORT gives 0, the +1 convention counts the shared pixel column.
    c = np.array([[10.0, 0.0, 20.0, 10.0]])
    assert iou_sort(a, c)[0, 0] == 0
    assert bbox_ious(a, c)[0, 0] == pytest.approx(11 / (121 + 121 - 11))


def test_bbox_ious_equals_the_cython_loop_bit_for_bit():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 300, (40, 2))
    a = np.c_[xy, xy + rng.uniform(-2, 80, (40, 2))]
    xy = rng.uniform(0, 300, (30, 2))
    b = np.c_[xy, xy + rng.uniform(1, 80, (30, 2))]
    assert np.array_equal(bbox_ious(a, b), _cython_bbox_loop(a, b))
    assert bbox_ious(a[:0], b).shape == (0, 30)
    assert iou_distance(a, b[:0]).shape == (40, 0)


def test_linear_assignment_respects_threshold():
    cost = np.array([[0.1, 0.9, 0.95], [0.85, 0.2, 0.9]])
    m, ua, ub = linear_assignment(cost, 0.5)
    assert m.tolist() == [[0, 0], [1, 1]] and list(ua) == [] and list(ub) == [2]
    m, ua, ub = linear_assignment(cost, 0.15)
    assert m.tolist() == [[0, 0]] and list(ua) == [1] and list(ub) == [1, 2]
    m, ua, ub = linear_assignment(np.zeros((0, 3)), 0.5)
    assert m.shape == (0, 2) and list(ub) == [0, 1, 2]
    # inf (gated) entries are never matched
    m, _, _ = linear_assignment(np.array([[np.inf, 0.3]]), 0.4)
    assert m.tolist() == [[0, 1]]


def test_sort_associate_fast_path_and_full_assignment():
    trks = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    dets = np.array([[21, 0, 31, 10], [1, 0, 11, 10], [100, 100, 110, 110]], float)
    m, ud, ut = sort_associate(dets, trks)
    assert sorted(map(tuple, m.tolist())) == [(0, 1), (1, 0)] and ud.tolist() == [2] and ut.tolist() == []
    # Two detections over one tracker: assignment keeps the better one, the other starts a track.
    dets = np.array([[0, 0, 10, 10], [2, 0, 12, 10]], float)
    m, ud, ut = sort_associate(dets, trks[:1])
    assert m.tolist() == [[0, 0]] and ud.tolist() == [1] and ut.tolist() == []
    # Assigned but under the threshold: both become unmatched.
    m, ud, ut = sort_associate(np.array([[8, 8, 18, 18]], float), trks[:1])
    assert m.shape == (0, 2) and ud.tolist() == [0] and ut.tolist() == [0]
    m, ud, ut = sort_associate(dets, np.zeros((0, 4)))
    assert ud.tolist() == [0, 1]


def test_embedding_fuse_motion_gate_and_fuse_score():
    f = np.eye(3, dtype=np.float32)
    d = embedding_distance(f[:2], f)
    np.testing.assert_allclose(d, [[0, 1, 1], [1, 0, 1]], atol=1e-7)
    assert embedding_distance(f[:0], f).shape == (0, 3)

    kf = KalmanFilterXYAH()
    mean, cov = kf.predict(*kf.initiate(np.array([100.0, 100.0, 0.5, 100.0])))
    meas = np.array([[101.0, 100.0, 0.5, 100.0], [400.0, 100.0, 0.5, 100.0]])
    gd = kf.gating_distance(mean, cov, meas)
    cost = fuse_motion(kf, np.array([[0.2, 0.1]]), [mean], [cov], meas)
    assert cost[0, 0] == pytest.approx(0.98 * 0.2 + 0.02 * gd[0]) and gd[0] < CHI2INV95[4]
    assert np.isinf(cost[0, 1])
    gated = gate_cost_matrix(kf, np.array([[0.2, 0.1]]), [mean], [cov], meas)
    assert gated[0, 0] == 0.2 and np.isinf(gated[0, 1])

    np.testing.assert_allclose(fuse_score(np.array([[0.2, 0.6]]), np.array([0.5, 1.0])), [[0.6, 0.6]])
