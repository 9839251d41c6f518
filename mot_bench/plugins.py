"""The two plugin kinds: a detector turns a frame into Detections, a tracker turns Detections into Tracks.

Plugins (``mot_bench/detectors/``, ``mot_bench/trackers/``, third-party entry points) subclass these; they may
import only the harness's ground modules (types, plugins, options, runtime, timing, data, metrics.fields).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mot_bench.options import (
    SEQUENCE_OPTION,
    load_sequence_table,
    options_class,
    options_dict,
    options_for_sequence,
    parse_options,
    sequence_row,
)
from mot_bench.runtime import Runtime
from mot_bench.timing import NullTimer, StageTimer
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

log = logging.getLogger(__name__)


class Plugin:
    """What detectors and trackers share: options declared once in a dataclass (``Options``, fields made
    with :func:`mot_bench.options.option`), parsed strictly by the constructor from keywords (text or
    typed values), read back as attributes (``self.track_thresh``) and recorded whole by ``config()``.

    A plugin without ``Options`` (e.g. a third-party one with its own constructor) keeps working: the
    registry then types its keywords from the constructor's annotations.
    """

    name = "base"
    kind: ClassVar[str] = "plugin"
    Options: ClassVar[type | None] = None

    def __init__(self, **options: Any) -> None:
        cls = options_class(self)
        if cls is None:
            if options:
                raise TypeError(f"{self.kind} {self.name!r} declares no options; got {', '.join(options)}")
            self.options = None
        else:
            self.options = parse_options(cls, options, f"{self.kind} {self.name!r}")
            self._bind_options()

    def _bind_options(self) -> None:
        """Copy the options onto the instance (again after a per-sequence change of ``self.options``): a class
        attribute of the same name would hide an option, and a plain lookup is what a tracker's per-frame loop
        should pay (``__getattr__`` on every read cost OC-SORT a fifth of its time on MOT20-01)."""
        for name in _field_names(type(self.options)):
            if not isinstance(getattr(type(self), name, None), property):
                setattr(self, name, getattr(self.options, name))

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails (an option hidden by a property): read through to self.options.
        opts = self.__dict__.get("options")
        if opts is not None and not name.startswith("__") and name in _field_names(type(opts)):
            return getattr(opts, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def config(self) -> dict:
        """Everything needed to repeat this plugin's output (written to the run's config): its name and
        every declared option's value."""
        opts = self.__dict__.get("options")
        return {"name": self.name, **(options_dict(opts) if opts is not None else {})}


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


class Detector(Plugin):
    """Base class. Subclasses set the class attributes and implement ``__call__``.

    ``needs_images``: the runner decodes frames only for detectors that look at pixels.
    ``provides_embeddings``: trackers that need re-ID features check this before a run.
    ``timer``: the runner attaches its :class:`StageTimer`; split your work into its stages.
    ``runtime``: the run's :class:`~mot_bench.runtime.Runtime` (device, precision, channels_last,
    threads). The runner sets this attribute after construction and before the first ``reset``,
    ``config`` or frame, and does not change it afterwards; read it lazily (e.g. when the network
    is first built) rather than in ``__init__``. Never take a device or precision option of your own:
    the runner refuses ``device``/``fp16``/``precision``/``channels_last``/``threads`` options.
    Default (outside the runner): ``Runtime()``, CPU and float32.
    ``batch_size``: frames the runner hands to :meth:`detect_frames` at once (trackers never feed
    back into detection here, so batching does not change results).
    """

    kind = "detector"
    needs_images = False
    provides_embeddings = False
    batch_size = 1
    runtime: Runtime = Runtime()  # frozen, so one shared default is safe; the runner sets the run's own

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.timer: StageTimer = NullTimer()

    def input_files(self, seq: SeqInfo) -> dict[str, Path]:
        """The text files this detector reads for ``seq``, by kind (``det``, ``gt``, or a longer name ending in
        the format, e.g. ``looser-NMS det``): the runner checks them, with the strict reader, before any work
        starts. None by default."""
        return {}

    def reset(self, seq: SeqInfo) -> None:
        """Called before the first frame of each sequence."""

    def compose(self, make_detector: Callable[[str, dict[str, Any]], Detector]) -> None:
        """Build the detectors this one wraps, by name (default: none; the ``reid`` detector builds its base).

        Plugins never import the registry; instead the runner calls this once, right after setting
        ``runtime`` and before ``config``, ``reset`` or any frame, with ``make_detector(name, options)``:
        a detector built exactly as the runner builds its own (registry lookup, strict options, device
        options refused, the run's runtime, composed in turn). Outside the runner, pass a ready detector
        to the wrapping plugin instead (e.g. ``ReIDDetector.wrap(base, ...)``).
        """

    def __call__(self, frame: Frame) -> Detections:
        raise NotImplementedError

    def detect_frames(self, frames: list[Frame]) -> list[Detections]:
        """Detections of several frames; override to batch the work."""
        return [self(f) for f in frames]


class Tracker(Plugin):
    """Base class: reset per sequence (frame rate matters), updated per frame.

    ``needs_embeddings``: refuse detectors without re-ID features up front.
    ``motion_only``: uses boxes and scores only (run by default on the bundled sample).
    ``needs_camera_motion``: the runner hands each frame's camera warp as ``frame.camera_motion``,
    computed once per sequence with the tracker's ``cmc_method`` (``cmc_downscale``, ``gmc_dir`` for
    ``file``) and cached; for methods whose warp depends on the tracker's own detections (``orb``,
    ``sift`` mask them) the runner decodes the frames and the tracker estimates the warp itself.
    ``needs_images``: the runner decodes frames for this tracker even if the detector needs none.
    Declared options carry the search ``range`` a tuner may explore.

    Three optional per-sequence hooks, used alike by ``mot-bench run`` and ``mot-bench tune``:

    * per-sequence settings: an options class with a ``per_sequence`` field
      (:func:`mot_bench.options.per_sequence_option`) names a table of per-sequence values; the
      tracker calls :meth:`use_sequence_options` at the start of ``reset(seq)``;
    * per-sequence input files (:meth:`input_files`, parsed by :meth:`read_input`): checked before any
      work, read once per sequence by the runner (once per worker by the tuner) and handed over with
      :meth:`provide_inputs` before ``reset(seq)``; :meth:`sequence_input` gives them to the tracker
      (reading the file itself when nobody handed it over, e.g. in a test);
    * :meth:`finish`: the sequence's rows once its last frame is tracked, for trackers whose written
      output is not only the online one (UCMCTrack's head padding).
    """

    kind = "tracker"
    needs_embeddings = False
    needs_camera_motion = False
    needs_images = False
    motion_only = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._explicit = frozenset(options)
        self._constructed_options = self.options
        self._sequence_table: dict[str, dict[str, Any]] | None = None
        self._provided_inputs: tuple[str, dict[str, Any]] | None = None
        cls = options_class(self)
        if cls is not None and SEQUENCE_OPTION in _field_names(cls):
            self._sequence_table = load_sequence_table(cls, getattr(self.options, SEQUENCE_OPTION),
                                                       f"{self.kind} {self.name!r}")

    def config(self) -> dict:
        """The options as constructed (not one sequence's), and the per-sequence table in full when one
        is used, so a run folder records every sequence's values and notices a changed table file."""
        constructed = self.__dict__.get("_constructed_options")  # third parties may skip Tracker.__init__
        if constructed is None:
            return super().config()
        out = {"name": self.name, **options_dict(constructed)}
        if self.sequence_table is not None:
            out["per_sequence_table"] = self.sequence_table
        return out

    @property
    def sequence_table(self) -> dict[str, dict[str, Any]] | None:
        """The per-sequence table in use (sequence -> {option: value}), or None."""
        return self.__dict__.get("_sequence_table")

    def sequence_options(self, seq: SeqInfo) -> Any:
        """This tracker's options for ``seq``: the per-sequence table's row over the options as constructed,
        options given explicitly winning (:func:`mot_bench.options.options_for_sequence`)."""
        constructed = self.__dict__.get("_constructed_options")
        if constructed is None:  # no declared options, or a third party that skipped Tracker.__init__
            return self.__dict__.get("options")
        table = self.__dict__.get("_sequence_table")
        if table is not None and sequence_row(table, seq.name) is None and (self.name, seq.name) not in _UNLISTED:
            _UNLISTED.add((self.name, seq.name))
            log.warning("%s: the per-sequence table %s has no row for %s; its options are used as given",
                        self.name, getattr(constructed, SEQUENCE_OPTION), seq.name)
        return options_for_sequence(constructed, table, seq.name, self._explicit)

    def use_sequence_options(self, seq: SeqInfo | None) -> None:
        """Switch to ``seq``'s options (call first in ``reset``); None: back to the options as constructed."""
        if self.__dict__.get("_constructed_options") is None:
            return
        self.options = self._constructed_options if seq is None else self.sequence_options(seq)
        self._bind_options()

    def input_files(self, seq: SeqInfo) -> dict[str, Path]:
        """The per-sequence files this tracker reads (kind -> path, e.g. a camera calibration), from its
        options for ``seq``. The runner checks that each exists and parses (:meth:`read_input`) before any
        work starts. None by default."""
        return {}

    @classmethod
    def read_input(cls, kind: str, path: Path) -> Any:
        """One input file of :meth:`input_files`, parsed. Depends on ``kind`` and the file only (the
        runner and the tuner share one parse between tracker instances); a bad file raises an error that
        names it (``path:line: what was found, what was expected``)."""
        raise NotImplementedError(f"{cls.__name__} declares input files but no read_input")

    def provide_inputs(self, seq: SeqInfo, inputs: dict[str, Any]) -> None:
        """The parsed input files of ``seq`` (kind -> object), handed over before ``reset(seq)``."""
        self._provided_inputs = (seq.name, dict(inputs))

    def sequence_input(self, seq: SeqInfo, kind: str) -> Any:
        """Input ``kind`` of ``seq``: what :meth:`provide_inputs` handed over, else read from its file now."""
        provided = self.__dict__.get("_provided_inputs")
        if provided is not None and provided[0] == seq.name and kind in provided[1]:
            return provided[1][kind]
        return self.read_input(kind, Path(self.input_files(seq)[kind]))

    def finish(self, rows: np.ndarray) -> np.ndarray:
        """The rows written for the sequence just tracked, given its online rows (``(N, 10)`` MOTChallenge
        rows, frame-major): unchanged by default."""
        return rows

    def reset(self, seq: SeqInfo) -> None:
        raise NotImplementedError

    def update(self, detections: Detections, frame: Frame) -> Tracks:
        raise NotImplementedError


_UNLISTED: set[tuple[str, str]] = set()  # (tracker, sequence) pairs already warned about
