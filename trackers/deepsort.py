"""DeepSORT (Wojke et al., ICIP 2017), decision for decision as nwojke/deep_sort (``deep_sort_app.py``).

Per frame, as the application drives its tracker (the engine is :mod:`trackers.common.appearance`):

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

from trackers.common.appearance import CascadeTracker, Switches

PRESETS = {
    "app": {"min_confidence": 0.8, "nn_budget": None},
    "motchallenge": {"min_confidence": 0.3, "nn_budget": 100},
}


class DeepSortTracker(CascadeTracker):
    """DeepSORT: appearance cascade gated by motion, then IoU for new and just-missed tracks."""

    name = "deepsort"
    switches = Switches()
    SEARCH_SPACE = {
        "min_confidence": (0.1, 0.9),
        "max_cosine_distance": (0.05, 0.5),
        "max_iou_distance": (0.3, 0.95),
        "max_age": (10, 120),
        "n_init": (1, 6),
        "nn_budget": (10, 300),
    }

    def __init__(
        self,
        min_confidence: float | None = None,
        nms_max_overlap: float = 1.0,
        min_detection_height: float = 0.0,
        max_cosine_distance: float = 0.2,
        nn_budget: int | None = None,
        max_iou_distance: float = 0.7,
        max_age: int = 30,
        n_init: int = 3,
        preset: str = "app",
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"deepsort preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        base = PRESETS[preset]
        self.preset = preset
        super().__init__(
            min_confidence=base["min_confidence"] if min_confidence is None else min_confidence,
            nms_max_overlap=nms_max_overlap, min_detection_height=min_detection_height,
            max_cosine_distance=max_cosine_distance,
            nn_budget=base["nn_budget"] if nn_budget is None else nn_budget,
            max_iou_distance=max_iou_distance, max_age=max_age, n_init=n_init,
        )

    def config(self) -> dict:
        return {"name": self.name, "preset": self.preset, "min_confidence": self.min_confidence,
                "nms_max_overlap": self.nms_max_overlap, "min_detection_height": self.min_detection_height,
                "max_cosine_distance": self.max_cosine_distance, "nn_budget": self.nn_budget,
                "max_iou_distance": self.max_iou_distance, "max_age": self.max_age, "n_init": self.n_init}
