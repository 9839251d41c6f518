"""Grids of variants (``mot-bench ablate``): train what they need, run and score each, compare to a base.

The roof's one place for sweeps: FairMOT training is one stage it calls (``detectors.fairmot.training``),
the runner runs each variant, ``reports.write_comparison`` writes the table.

Config (JSON)::

    {
      "out": "ablations/heads",
      "base": {<TrainConfig options>, "tracker": "fairmot", "tracker_options": {}, "conf_thres": 0.4},
      "axes": {"head": ["anchor_free", "anchor_based"], "reid_dim": [64, 128]},
      "eval": {"data": "../shared/data", "benchmark": "MOT15", "split": "half-val", "seqs": ["TUD-Campus"],
               "device": "cpu", "precision": "fp32", "channels_last": false},
      "parallel": 1,
      "train_root": "ablations/trained"
    }

Every axis value may be a training option (a TrainConfig field: retrains, keyed by the training
config hash so identical trainings are shared and finished ones are skipped; they live in
``train_root/<hash>``, ``<out>/train`` unless set, so ablations that name one folder share them) or an evaluation option
(``tracker``, ``tracker_options``, ``conf_thres``, ``eval_input_w``/``eval_input_h``). ``tracker_options``
is ``{tracker: {option: value}}`` or, as ``--tracker-opt``, a flat dict of ``option`` (every tracker of the
grid that has it) and ``tracker.option`` keys (see :func:`tracker_options_for`). The base
variant takes, on each axis, the base config's value when the axis lists it, else the axis's first
value. Each variant becomes one run folder (``mot_bench.runner``); the comparison table (CSV +
Markdown + HTML) comes from ``reports.write_comparison`` and ``ablation.json`` is its manifest.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

from mot_bench.atomic import atomic_write_json
from reports.compare import write_comparison

log = logging.getLogger(__name__)

EVAL_KEYS = ("tracker", "tracker_options", "conf_thres", "eval_input_w", "eval_input_h", "nms_thres")


def _train_fields() -> set[str]:
    from detectors.fairmot.training.trainer import TrainConfig

    return {f.name for f in fields(TrainConfig)}


def load_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    for key in ("base", "axes", "eval"):
        if key not in cfg:
            raise ValueError(f"{path}: ablation config needs '{key}' (see mot_bench/sweep.py)")
    if not isinstance(cfg["axes"], dict) or not all(isinstance(v, list) and v for v in cfg["axes"].values()):
        raise ValueError(f"{path}: 'axes' must map option names to non-empty lists of values")
    allowed = _train_fields() | set(EVAL_KEYS) | {"amp"}  # amp: the old name of training's precision
    bad = [k for k in [*cfg["axes"], *cfg["base"]] if k not in allowed]
    if bad:
        raise ValueError(f"{path}: unknown option(s) {bad}; valid: {sorted(allowed)}")
    cfg.setdefault("out", str(path.with_suffix("")))
    from mot_bench.registry import TRACKERS

    trackers = grid_trackers(cfg)
    for opts in [cfg["base"].get("tracker_options"), *cfg["axes"].get("tracker_options", [])]:
        for tracker in trackers:  # every variant's tracker options, checked before anything is trained
            try:
                TRACKERS.create(tracker, tracker_options_for(tracker, opts, trackers))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}: tracker_options: {exc}") from None
    return cfg


def expand(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """All variants (base options + one value per axis) and the index of the base variant."""
    axes = cfg["axes"]
    names = list(axes)
    base_values = tuple(cfg["base"][n] if cfg["base"].get(n) in axes[n] else axes[n][0] for n in names)
    variants, base_index = [], 0
    for i, values in enumerate(itertools.product(*(axes[n] for n in names))):
        variants.append({"options": {**cfg["base"], **dict(zip(names, values, strict=True))},
                         "axes": dict(zip(names, values, strict=True))})
        if values == base_values:
            base_index = i
    return variants, base_index


def _label(axes: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in axes.items()).replace("/", "_").replace(" ", "")


def train_config_for(options: dict[str, Any], train_root: Path):
    from detectors.fairmot.training.trainer import TrainConfig

    tf = _train_fields()
    tcfg = TrainConfig.from_dict({k: v for k, v in options.items() if k in tf})
    tcfg.out = str(train_root / tcfg.key())
    return tcfg


def is_trained(tcfg) -> bool:
    last = Path(tcfg.out) / "model_last.pth"
    if not last.is_file():
        return False
    from detectors.fairmot.checkpoint import read_checkpoint

    return int(read_checkpoint(last)[1].get("epoch", -1)) >= tcfg.num_epochs


def train_one(tcfg_dict: dict[str, Any]) -> str:
    """Train (or finish) one configuration; a process-pool entry point."""
    from detectors.fairmot.training.trainer import TrainConfig, train

    tcfg = TrainConfig.from_dict(tcfg_dict)
    if is_trained(tcfg):
        return tcfg.out
    tcfg.resume = True  # an interrupted training continues where it stopped
    train(tcfg)
    return tcfg.out


def score_variant(train_dir: str, options: dict[str, Any], eval_cfg: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """The one "run and score" step: detector + tracker over the eval sequences -> run folder + metrics."""
    from detectors.fairmot.training.trainer import detector_options
    from mot_bench.runner import RunOptions, run

    det_opts = detector_options(train_dir, options)
    tracker = options.get("tracker", "fairmot")
    trk_opts = tracker_options_for(tracker, options.get("tracker_options"), options.get("grid_trackers"))
    if tracker == "fairmot":  # one conf_thres for detection and track start, as FairMOT's opts
        trk_opts.setdefault("conf_thres", det_opts["conf_thres"])
    result = run(RunOptions(
        detector="fairmot", tracker=tracker, data=eval_cfg.get("data"),
        benchmark=eval_cfg.get("benchmark"), split=eval_cfg.get("split", "half-val"), seqs=eval_cfg.get("seqs"),
        detector_options=det_opts, tracker_options=trk_opts,
        device=eval_cfg.get("device", "cpu"), precision=eval_cfg.get("precision", "fp32"),
        channels_last=bool(eval_cfg.get("channels_last", False)), out=run_dir, progress=False, label=Path(run_dir).name,
    ))
    return result.metrics.get("combined", {})


def tracker_options_for(tracker: str, options: dict[str, Any] | None,
                        trackers: list[str] | None = None) -> dict[str, Any]:
    """One tracker's options from a config's ``tracker_options``, in either form:

    - ``{tracker name: {options}}``: that tracker's dict (trackers not named get none);
    - a flat dict as ``--tracker-opt`` takes it: ``"bytetrack.track_thresh"`` for one tracker, a plain
      ``"track_thresh"`` for every tracker of the grid (``trackers``, default just ``tracker``) that has
      it; a plain name no tracker of the grid has, or a prefix naming a tracker outside it, is an error.
    """
    from mot_bench.options import option_names, split_tracker_options
    from mot_bench.registry import TRACKERS

    options = dict(options or {})
    if options and all(isinstance(v, dict) for v in options.values()):
        return dict(options.get(tracker, {}))
    names = list(dict.fromkeys([tracker, *(trackers or [])]))
    return split_tracker_options(options, {n: option_names(TRACKERS.get(n)) for n in names})[tracker]


def grid_trackers(cfg: dict[str, Any]) -> list[str]:
    """The trackers an ablation runs: the ``tracker`` axis, else the base's tracker (fairmot by default)."""
    return list(cfg["axes"].get("tracker") or [cfg["base"].get("tracker", "fairmot")])


def _score_entry(args: tuple) -> dict[str, Any]:
    return score_variant(*args)


def ablate(cfg: dict[str, Any], parallel: int | None = None) -> dict[str, Any]:
    """Train, run, score and compare every variant; returns the comparison table (and writes it)."""
    out = Path(cfg["out"])
    out.mkdir(parents=True, exist_ok=True)
    train_root = Path(cfg.get("train_root") or out / "train")
    variants, base_index = expand(cfg)
    parallel = int(parallel or cfg.get("parallel", 1))
    for v in variants:
        v["train"] = train_config_for(v["options"], train_root)
        v["label"] = _label(v["axes"])
        v["run_dir"] = str(out / "runs" / v["label"])
    # 1. train each distinct configuration once
    todo = {v["train"].out: v["train"] for v in variants}
    pending = [t.to_dict() for t in todo.values() if not is_trained(t)]
    log.warning("ablate: %d variant(s), %d distinct training(s), %d to train", len(variants), len(todo), len(pending))
    _map(train_one, pending, parallel)
    # 2. run and score each variant
    trackers = grid_trackers(cfg)
    jobs = [(v["train"].out, {**v["options"], "grid_trackers": trackers}, cfg["eval"], v["run_dir"])
            for v in variants]
    scores = _map(_score_entry, jobs, parallel)
    for v, s in zip(variants, scores, strict=True):
        v["combined"] = s
    manifest = {
        "base": str(Path(variants[base_index]["run_dir"]).relative_to(out)),
        "variants": [{"run": str(Path(v["run_dir"]).relative_to(out)), "axes": v["axes"],
                      "train_dir": v["train"].out} for i, v in enumerate(variants) if i != base_index],
        "base_axes": variants[base_index]["axes"],
    }
    atomic_write_json(out / "ablation.json", manifest)
    table = write_comparison(Path(variants[base_index]["run_dir"]),
                             [(Path(v["run_dir"]), v["axes"]) for i, v in enumerate(variants) if i != base_index],
                             out, figures=bool(cfg.get("figures", True)))
    return table


def _map(fn, items: list, parallel: int) -> list:
    if parallel <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    import multiprocessing as mp

    # Share the cores: N workers each running torch's default thread count oversubscribe the CPU,
    # and OpenMP's spinning threads then make every worker many times slower.
    threads = max(1, (os.cpu_count() or 1) // parallel)
    with ProcessPoolExecutor(
        max_workers=parallel, mp_context=mp.get_context("spawn"), initializer=_limit_threads, initargs=(threads,)
    ) as pool:
        return list(pool.map(fn, items))


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
