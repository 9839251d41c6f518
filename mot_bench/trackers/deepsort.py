"""DeepSORT (Wojke et al., ICIP 2017), decision for decision as nwojke/deep_sort (``deep_sort_app.py``).

Per frame, as the application drives its tracker (the engine is :mod:`mot_bench.trackers.common.appearance`):

1. detections with height < ``min_detection_height`` are dropped, then those with score below
   ``min_confidence`` (non-strict: a score equal to the threshold is kept);
2. non-maximum suppression with the official +1-pixel overlap over the *other* box's area and
   ``np.argsort`` of the scores (its default sort, so ties fall where the official code puts them).
   At the default ``nms_max_overlap`` 1.0 nothing is removed but the detections are reordered by
   descending score, and that order decides which new track gets which id;
3. every track is Kalman-predicted (the deep_sort 8-d x, y, a, h filter);
4. matching cascade over the confirmed tracks, one level per ``time_since_update`` 1..``max_age``,
   each level solving only the detections left by the previous one: cost = smallest cosine distance
   between the detection's feature and the track's gallery, computed in float32 (features are kept as
   float32 and renormalised, as the official metric does), gated by the squared Mahalanobis distance
   (chi-square 95 %, 4 dof: 9.4877) to 1e5, costs above ``max_cosine_distance`` set to it + 1e-5,
   scipy's ``linear_sum_assignment``, pairs above the threshold rejected;
5. IoU matching (plain IoU, no +1, threshold ``max_iou_distance``) of the unconfirmed tracks and the
   confirmed ones missed exactly once, against the detections left; the candidate order reproduces the
   official list built from a Python ``set`` difference, which feeds the solver's tie-breaking;
6. matched tracks are updated, the others marked missed (a tentative track is deleted at its first
   miss, a confirmed one after more than ``max_age``), unmatched detections start tentative tracks in
   the order the matcher left them (not sorted), confirmed after ``n_init`` hits;
7. the galleries of confirmed tracks take the features of their updates (a tentative track's features
   wait until it is confirmed), cut to the last ``nn_budget`` when set; galleries of tracks that are no
   longer confirmed are dropped.

Output: confirmed tracks with ``time_since_update <= 1`` (a track missed this frame is written with its
predicted box), box from the Kalman mean, score 1, ids from 1. Defaults are those of
``deep_sort_app.py``; ``preset="motchallenge"`` gives ``evaluate_motchallenge.py``'s (min_confidence 0.3,
nn_budget 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from mot_bench.options import option
from mot_bench.trackers.common.appearance import CascadeTracker, Switches


@dataclass
class DeepSortOptions:
    preset: Literal["app", "motchallenge"] = option(
        "app", "named defaults: app = deep_sort_app.py, motchallenge = evaluate_motchallenge.py (min_confidence "
        "0.3, nn_budget 100); options given explicitly override it")
    min_confidence: float = option(0.8, "drop detections scoring below this (a score equal to it is kept)",
                                   range=(0.1, 0.9), bounds=(0.0, 1.0))
    nms_max_overlap: float = option(1.0, "NMS: drop boxes overlapping a better one by more than this (1: none, "
                                         "but detections are reordered by score)", bounds=(0.0, 1.0))
    min_detection_height: float = option(0.0, "drop detections lower than this (pixels)", bounds=(0.0, None))
    max_cosine_distance: float = option(0.2, "appearance gate: largest cosine distance of a cascade match",
                                        range=(0.05, 0.5), bounds=(0.0, 2.0))
    nn_budget: int | None = option(None, "features kept per track gallery (none: all)", range=(10, 300),
                                   bounds=(1, None))
    max_iou_distance: float = option(0.7, "IoU stage: largest 1 - IoU of a match", range=(0.3, 0.95),
                                     bounds=(0.0, 1.0))
    max_age: int = option(30, "frames a confirmed track survives without a match (also the cascade depth)",
                          range=(10, 120), bounds=(1, None))
    n_init: int = option(3, "hits before a track is confirmed (a miss before that deletes it)", range=(1, 6),
                         bounds=(1, None))

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "app": {},
        "motchallenge": {"min_confidence": 0.3, "nn_budget": 100},
    }


class DeepSortTracker(CascadeTracker):
    """DeepSORT: appearance cascade gated by motion, then IoU for new and just-missed tracks."""

    name = "deepsort"
    switches = Switches()
    Options = DeepSortOptions
