"""Trackers: per-frame :class:`mot_bench.types.Detections` in, :class:`mot_bench.types.Tracks` out."""
