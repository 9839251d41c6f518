"""The run's runtime: device, precision, memory layout, threads and the timing sync policy, in one record.

The runner builds one :class:`Runtime` from the command line and hands it to the detector (as the
``runtime`` attribute, before its first frame; see :class:`mot_bench.plugins.Detector`). Detectors
never choose a device or a precision of their own; ``env.json``, ``config.json`` and the stage timer
all read this record, so what a run says it measured is what it ran.

A ground module: imports nothing of the roof, and torch only when a CUDA/MPS device or a thread
count asks for it (a SORT run on public detections never imports torch).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

PRECISIONS = ("fp32", "fp16")
Precision = Literal["fp32", "fp16"]

_DEVICE = re.compile(r"^(cpu|cuda|cuda:\d+|mps)$")

# Detector options that would contradict the run's runtime, and the flag that sets each instead.
RUNTIME_OPTIONS = {
    "device": "--device",
    "fp16": "--precision fp16",
    "amp": "--precision fp16",
    "precision": "--precision",
    "half": "--precision fp16",
    "channels_last": "--channels-last",
    "threads": "--threads",
}


class RuntimeConfigError(ValueError):
    """An invalid or unavailable runtime (a ValueError, so command lines report it as a usage error)."""


@dataclass(frozen=True)
class Runtime:
    """Where and how the network runs: one record per run.

    ``device``: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    ``precision``: ``fp32``, or ``fp16`` (float16 autocast; CUDA only).
    ``channels_last``: NHWC memory layout for convolutional networks.
    ``threads``: torch intra-op threads (None: torch's default).
    The sync policy is derived: on CUDA the timer synchronises the device at every stage boundary
    (kernels are asynchronous; without it a stage's time lands in the next one); CPU work is synchronous.
    """

    device: str = "cpu"
    precision: Precision = "fp32"
    channels_last: bool = False
    threads: int | None = None

    def __post_init__(self) -> None:
        device = str(self.device).strip().lower()
        if not _DEVICE.match(device):
            raise RuntimeConfigError(
                f"unknown device {self.device!r}: expected cpu, cuda, cuda:N (N a GPU index) or mps")
        object.__setattr__(self, "device", device)
        if self.precision not in PRECISIONS:
            raise RuntimeConfigError(f"unknown precision {self.precision!r}: expected one of {', '.join(PRECISIONS)}")
        if self.precision == "fp16" and not self.is_cuda:
            raise RuntimeConfigError(
                f"precision fp16 (float16 autocast) needs a CUDA device, not {self.device!r}: "
                "use --precision fp32 on this device, or --device cuda"
            )
        if not isinstance(self.channels_last, bool):
            raise RuntimeConfigError(f"channels_last must be true or false, got {self.channels_last!r}")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise RuntimeConfigError(f"threads must be a positive integer (or unset), got {self.threads!r}")

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def sync(self) -> bool:
        """Whether stage timings synchronise the device (CUDA: yes)."""
        return self.is_cuda

    @property
    def sync_policy(self) -> str:
        return ("torch.cuda.synchronize() at every stage boundary" if self.sync else
                "none needed: CPU work is synchronous" if self.device == "cpu" else
                f"none: {self.device} is not synchronised by the timer")

    def sync_fn(self) -> Callable[[], None] | None:
        """The function the stage timer calls at each boundary (None when no sync is needed)."""
        if not self.sync:
            return None
        import torch

        device = self.device

        def synchronize() -> None:
            torch.cuda.synchronize(device)

        return synchronize

    def check_available(self) -> None:
        """Refuse a device this machine does not have (before anything is built or written)."""
        if self.device == "cpu":
            return
        try:
            import torch
        except ImportError:
            raise RuntimeConfigError(f"device {self.device!r} needs torch, which is not installed") from None
        if self.is_cuda:
            if not torch.cuda.is_available():
                raise RuntimeConfigError(f"device {self.device!r} requested but CUDA is not available on this machine")
            index = int(self.device.partition(":")[2] or 0)
            if index >= torch.cuda.device_count():
                raise RuntimeConfigError(f"device {self.device!r} requested but this machine has "
                                    f"{torch.cuda.device_count()} CUDA device(s)")
        elif self.device == "mps" and not torch.backends.mps.is_available():
            raise RuntimeConfigError("device 'mps' requested but MPS is not available on this machine")

    def apply(self) -> None:
        """Process-wide settings: torch's intra-op thread count when ``threads`` is set."""
        if self.threads is not None:
            import torch

            torch.set_num_threads(self.threads)

    def autocast(self):
        """The context a forward pass runs in: float16 autocast for fp16, nothing for fp32."""
        import contextlib

        if self.precision == "fp16":
            import torch

            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def to_dict(self) -> dict[str, Any]:
        """The record as ``config.json`` and ``env.json`` write it."""
        return {"device": self.device, "precision": self.precision, "channels_last": self.channels_last,
                "threads": self.threads, "sync": self.sync, "sync_policy": self.sync_policy}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Runtime:
        return cls(**{k: d[k] for k in ("device", "precision", "channels_last", "threads") if k in d})


def refuse_runtime_options(options: dict[str, Any], what: str) -> None:
    """Refuse plugin options that would choose a device, precision, layout or threads of their own."""
    clash = [k for k in options if k in RUNTIME_OPTIONS]
    if clash:
        hints = "; ".join(f"{k}: use {RUNTIME_OPTIONS[k]}" for k in clash)
        raise RuntimeConfigError(
            f"{what} option(s) {', '.join(repr(k) for k in clash)} would contradict the run's runtime: the run "
            f"decides device, precision, memory layout and threads for every detector ({hints})"
        )
