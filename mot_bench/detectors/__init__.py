"""Detectors: frames in, :class:`mot_bench.types.Detections` out."""
