"""mot-bench: benchmark multi-object trackers on MOTChallenge data with official metrics."""

__version__ = "0.1.0"
