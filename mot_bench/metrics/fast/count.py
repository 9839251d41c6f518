"""Count: detections and ids after preprocessing (TrackEval adds it to every evaluation)."""

from __future__ import annotations

from mot_bench.metrics.fast.preprocess import SeqData

NAME = "Count"
INTEGER_FIELDS = ("Dets", "GT_Dets", "IDs", "GT_IDs")
FLOAT_FIELDS: tuple[str, ...] = ()
FLOAT_ARRAY_FIELDS: tuple[str, ...] = ()
INTEGER_ARRAY_FIELDS: tuple[str, ...] = ()
FIELDS = INTEGER_FIELDS


def eval_sequence(data: SeqData) -> dict:
    return {"Dets": data.num_tracker_dets, "GT_Dets": data.num_gt_dets, "IDs": data.num_tracker_ids,
            "GT_IDs": data.num_gt_ids, "Frames": data.num_timesteps}


def combine_sequences(all_res: list[dict]) -> dict:
    return {f: sum(r[f] for r in all_res) for f in INTEGER_FIELDS}
