"""Per-frame, per-stage timers that synchronise the device, plus a hardware stamp.

Stages nest: time spent in an inner stage is charged to the inner stage only (exclusive time),
so a detector can split the runner's ``model`` stage into ``preprocess``/``model``/``postprocess``
(and ``reid``) and the columns still add up to the frame's wall time.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# ``reid``: re-ID embeddings of the detected boxes (crops + network), the ``reid`` detector's own stage.
STAGES = ("read", "preprocess", "model", "postprocess", "reid", "track", "write")


class StageTimer:
    """Accumulates exclusive seconds per stage for the current frame.

    ``sync``: called at every stage boundary; the runner passes the run's
    ``Runtime.sync_fn()`` (``torch.cuda.synchronize`` on CUDA, None on CPU).
    """

    def __init__(self, sync: Callable[[], None] | None = None) -> None:
        self.sync = sync
        self.current: dict[str, float] = {}
        self._stack: list[list[float]] = []  # [start, child_seconds]

    def new_frame(self) -> None:
        self.current = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.sync is not None:
            self.sync()
        entry = [time.perf_counter(), 0.0]
        self._stack.append(entry)
        try:
            yield
        finally:
            if self.sync is not None:
                self.sync()
            elapsed = time.perf_counter() - entry[0]
            self._stack.pop()
            self.current[name] = self.current.get(name, 0.0) + elapsed - entry[1]
            if self._stack:
                self._stack[-1][1] += elapsed

    def add(self, name: str, seconds: float) -> None:
        """Charge time measured elsewhere (e.g. a background decode thread) to a stage."""
        self.current[name] = self.current.get(name, 0.0) + seconds


class NullTimer(StageTimer):
    """A timer that records nothing: the default for detectors used outside the runner."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_stamp(device: str = "cpu") -> dict:
    """Which machine ran a sequence (its completion record): host, CPU, core count, GPU name. Light:
    torch is asked for the GPU only when it is already loaded (a CUDA run has loaded it)."""
    import socket
    import sys

    gpu = None
    torch = sys.modules.get("torch")
    if torch is not None and str(device).startswith("cuda") and torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(torch.device(device))
    return {"host": socket.gethostname(), "cpu": _cpu_name(), "cpu_count": os.cpu_count(), "gpu": gpu}


def hardware_stamp(device: str = "cpu") -> dict:
    """What the numbers were measured on: CPU, core count, GPU name, library versions."""
    import numpy

    stamp = {
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "device": device,
        "gpu": None,
    }
    try:
        import torch

        stamp["torch"] = torch.__version__
        stamp["torch_threads"] = torch.get_num_threads()
        if str(device).startswith("cuda") and torch.cuda.is_available():
            stamp["gpu"] = torch.cuda.get_device_name(torch.device(device))
            stamp["cuda"] = torch.version.cuda
    except ImportError:
        stamp["torch"] = None
    try:
        import trackeval

        stamp["trackeval"] = getattr(trackeval, "__version__", "1.3.0")
    except ImportError:
        stamp["trackeval"] = None
    return stamp
