"""Grids of variants (``mot-bench ablate``): train what they need, run and score each, compare to a base.

The roof's one place for sweeps: FairMOT training is one stage it calls (``mot_bench.detectors.fairmot.training``),
the runner runs each variant, ``mot_bench.reports.write_comparison`` writes the table.

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
Markdown + HTML) comes from ``mot_bench.reports.write_comparison`` and ``ablation.json`` is its manifest.

``"ddp_nproc": N`` trains each configuration with DDP over N processes (``torch.distributed.run --standalone``; N
GPUs on a cuda ``device``, gloo on CPU). ``"calibrate": {"conf_thres": [...], "eval": {...}, "metric": "HOTA"}`` picks
each trained model's detection threshold on held-out frames first (:func:`calibrate`). An axis named ``seed``
(``"repeat_axis"`` to name another) holds repetitions: the report groups over it (mean and min-max per metric,
training curves, wall times; :mod:`mot_bench.reports.ablation`).

Variants are scored as trials of a grid study (:func:`score_grid`, the tuner's storage and ask/tell loop):
``<out>/ablation.db`` by default, or ``"storage": URL``; a re-run skips every variant already scored with the
same configuration. ``"ray_address": "local" | "auto" | ADDRESS`` runs the trainings and the variants as Ray
tasks instead of ``parallel`` local processes: a training asks its ``threads`` (or 1) CPUs and, on a cuda
``device``, one GPU, and a failed one is retried and resumes; a variant asks ``"ray_cpus"``/``"ray_gpus"``.

A grid without training data (no ``datasets`` in ``base``) has no training stage: its axes are any of
``detector`` (default ``public``), ``detector_options`` (one object per value), ``tracker`` (default
``sort``) and ``tracker_options``, e.g. a tracker x detector-threshold grid on public detections::

    {"base": {"detector": "oracle"}, "axes": {"tracker": ["sort", "bytetrack"],
     "detector_options": [{"jitter": 0.0}, {"jitter": 0.05}]}, "eval": {"data": "...", "benchmark": "MOT17"}}
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

from mot_bench.atomic import atomic_write_json
from mot_bench.reports.compare import write_comparison

log = logging.getLogger(__name__)

# Options of a variant that are not training options: which detector and tracker run it, and FairMOT's
# evaluation overrides of a trained network (conf_thres, eval_input_w/h, nms_thres).
EVAL_KEYS = ("detector", "detector_options", "tracker", "tracker_options", "conf_thres", "eval_input_w",
             "eval_input_h", "nms_thres")


def trains(options: dict[str, Any]) -> bool:
    """A variant has a training stage when it names training data; otherwise it runs a ready detector."""
    return bool(options.get("datasets"))


def _train_fields() -> set[str]:
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig

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
    cal = cfg.get("calibrate")
    if cal is not None:
        if not trains(cfg["base"]):
            raise ValueError(f"{path}: 'calibrate' chooses the threshold of trained models; the grid trains none")
        if not isinstance(cal, dict) or not isinstance(cal.get("conf_thres"), list) or not cal["conf_thres"] \
                or not isinstance(cal.get("eval"), dict):
            raise ValueError(f"{path}: 'calibrate' needs {{\"conf_thres\": [values], \"eval\": {{data, benchmark, "
                             "split, seqs}}, \"metric\": \"HOTA\"}}")
        from mot_bench.metrics.fields import METRIC_FIELDS

        if cal.get("metric", "HOTA") not in METRIC_FIELDS:
            raise ValueError(f"{path}: calibrate metric {cal.get('metric')!r} is not a metric field")
    grids = cfg["axes"] if isinstance(cfg["axes"], list) else [cfg["axes"]]
    if not grids or not all(isinstance(g, dict) and g and all(isinstance(v, list) and v for v in g.values())
                            for g in grids):
        raise ValueError(f"{path}: 'axes' must map option names to non-empty lists of values (or be a list of such "
                         "maps: a union of grids)")
    axes = all_axes(cfg)
    allowed = set(EVAL_KEYS)
    if trains(cfg["base"]):
        allowed |= _train_fields() | {"amp"}  # amp: the old name of training's precision
    bad = [k for k in [*axes, *cfg["base"]] if k not in allowed]
    if bad:
        raise ValueError(f"{path}: unknown option(s) {bad}; valid: {sorted(allowed)}")
    if not trains(cfg["base"]):
        from mot_bench.registry import DETECTORS

        for det_opts in [cfg["base"].get("detector_options"), *axes.get("detector_options", [])]:
            for det in axes.get("detector") or [cfg["base"].get("detector", "public")]:
                try:
                    DETECTORS.get(det)
                except KeyError as exc:
                    raise ValueError(f"{path}: detector: {exc}") from None
                if det_opts is not None and not isinstance(det_opts, dict):
                    raise ValueError(f"{path}: detector_options must be an object, got {det_opts!r}")
    cfg.setdefault("out", str(path.with_suffix("")))
    from mot_bench.registry import TRACKERS

    trackers = grid_trackers(cfg)
    for opts in [cfg["base"].get("tracker_options"), *axes.get("tracker_options", [])]:
        for tracker in trackers:  # every variant's tracker options, checked before anything is trained
            try:
                TRACKERS.create(tracker, tracker_options_for(tracker, opts, trackers))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}: tracker_options: {exc}") from None
    return cfg


def all_axes(cfg: dict[str, Any]) -> dict[str, list[Any]]:
    """Every axis and its values; ``axes`` given as a list of grids is merged (values in order, no repeats)."""
    merged: dict[str, list[Any]] = {}
    for grid in cfg["axes"] if isinstance(cfg["axes"], list) else [cfg["axes"]]:
        for name, values in grid.items():
            seen = merged.setdefault(name, [])
            seen += [v for v in values if _same(v) not in {_same(x) for x in seen}]
    return merged


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def expand(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """All variants (base options + one value per axis) and the index of the base variant.

    ``axes`` is one grid (every combination of its values) or a list of grids, whose union is run: each
    grid varies its own axes and leaves the others at the base's values, so one-factor-at-a-time ablations
    (``[{"head": [...], "seed": [...]}, {"reid_dim": [...], "seed": [...]}]``) share their base variants; there
    the base's own value of an axis is its base value even when no grid lists it."""
    axes = all_axes(cfg)
    names = list(axes)
    union = isinstance(cfg["axes"], list)  # each grid varies its factors around the base's own values
    base_values = {n: cfg["base"][n] if (union and n in cfg["base"]) or _same(cfg["base"].get(n)) in
                   {_same(v) for v in axes[n]} else axes[n][0] for n in names}
    variants, base_index, seen = [], 0, set()
    for grid in cfg["axes"] if isinstance(cfg["axes"], list) else [cfg["axes"]]:
        grid_names = list(grid)
        for values in itertools.product(*(grid[n] for n in grid_names)):
            full = {**base_values, **dict(zip(grid_names, values, strict=True))}
            key = _same(full)
            if key in seen:
                continue
            seen.add(key)
            if key == _same(base_values):
                base_index = len(variants)
            variants.append({"options": {**cfg["base"], **full}, "axes": full})
    return variants, base_index


def _label(axes: dict[str, Any]) -> str:
    def text(v: Any) -> str:
        if isinstance(v, dict):  # e.g. a detector_options value: its items, in a stable order
            return ",".join(f"{k}:{v[k]}" for k in sorted(v)) or "default"
        return str(v)

    return "-".join(f"{k}={text(v)}" for k, v in axes.items()).replace("/", "_").replace(" ", "")


def train_config_for(options: dict[str, Any], train_root: Path):
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig

    tf = _train_fields()
    tcfg = TrainConfig.from_dict({k: v for k, v in options.items() if k in tf})
    tcfg.out = str(train_root / tcfg.key())
    return tcfg


def is_trained(tcfg) -> bool:
    last = Path(tcfg.out) / "model_last.pth"
    if not last.is_file():
        return False
    from mot_bench.detectors.fairmot.checkpoint import read_checkpoint

    return int(read_checkpoint(last)[1].get("epoch", -1)) >= tcfg.num_epochs


def train_one(tcfg_dict: dict[str, Any], nproc: int = 1) -> str:
    """Train (or finish) one configuration; a process-pool entry point. ``nproc`` > 1: DDP over that many
    processes on this machine (``torch.distributed.run --standalone``; one GPU each on CUDA)."""
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig, train

    tcfg = TrainConfig.from_dict(tcfg_dict)
    if is_trained(tcfg):
        return tcfg.out
    tcfg.resume = True  # an interrupted training continues where it stopped
    if nproc > 1:
        import subprocess
        import sys

        Path(tcfg.out).mkdir(parents=True, exist_ok=True)
        cfg_path = Path(tcfg.out) / "ddp_train_config.json"
        atomic_write_json(cfg_path, tcfg.to_dict())
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                        "-m", "mot_bench.cli", "train", str(cfg_path)], check=True)
        return tcfg.out
    train(tcfg)
    return tcfg.out


def _train_ddp_entry(job: tuple[dict[str, Any], int]) -> str:
    return train_one(*job)


def score_variant(train_dir: str | None, options: dict[str, Any], eval_cfg: dict[str, Any],
                  run_dir: str) -> dict[str, Any]:
    """The one "run and score" step: detector + tracker over the eval sequences -> run folder + metrics.

    With a training stage the detector is FairMOT on the trained checkpoint (``train_dir``); without one
    it is the variant's ``detector`` (default ``public``) with its ``detector_options``.
    """
    from mot_bench.runner import RunOptions, run

    if train_dir is not None:
        from mot_bench.detectors.fairmot.training.trainer import detector_options

        detector = "fairmot"
        det_opts = {**detector_options(train_dir, options), **(options.get("detector_options") or {})}
    else:
        detector = options.get("detector", "public")
        det_opts = dict(options.get("detector_options") or {})
    tracker = options.get("tracker", "fairmot" if train_dir is not None else "sort")
    trk_opts = tracker_options_for(tracker, options.get("tracker_options"), options.get("grid_trackers"))
    if tracker == "fairmot" and detector == "fairmot":  # one conf_thres for detection and track start (FairMOT)
        trk_opts.setdefault("conf_thres", det_opts["conf_thres"])
    result = run(RunOptions(
        detector=detector, tracker=tracker, data=eval_cfg.get("data"),
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
    """The trackers a grid runs: the ``tracker`` axis, else the base's tracker (fairmot after a training
    stage, sort otherwise)."""
    default = "fairmot" if trains(cfg["base"]) else "sort"
    return list(all_axes(cfg).get("tracker") or [cfg["base"].get("tracker", default)])


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
        v["train"] = train_config_for(v["options"], train_root) if trains(v["options"]) else None
        v["label"] = _label(v["axes"])
        v["run_dir"] = str(out / "runs" / v["label"])
    # 1. the training stage: each distinct configuration trained once (grids without training skip it)
    todo = {v["train"].out: v["train"] for v in variants if v["train"] is not None}
    pending = [t.to_dict() for t in todo.values() if not is_trained(t)]
    log.warning("ablate: %d variant(s), %d distinct training(s), %d to train", len(variants), len(todo), len(pending))
    nproc = int(cfg.get("ddp_nproc", 1))  # DDP processes per training (GPUs per training on CUDA)
    trainer, jobs = (train_one, pending) if nproc <= 1 else (_train_ddp_entry, [(t, nproc) for t in pending])
    if cfg.get("ray_address") is not None and pending:
        # one Ray task per training: its threads as CPUs, a GPU (ddp_nproc GPUs) when it trains on cuda; a retried
        # task resumes
        _ray_map(trainer, jobs, cfg, parallel,
                 [{"num_cpus": max(1, int(t.get("threads") or 1)) * max(1, nproc),
                   "num_gpus": max(1, nproc) if str(t.get("device", "")).startswith("cuda") else 0} for t in pending])
    else:
        _map(trainer, jobs, parallel)
    # 1b. the detection threshold of each trained model, chosen on held-out frames (cfg["calibrate"])
    chosen = calibrate(cfg, variants, parallel)
    for v in variants:
        if v["train"] is not None and v["train"].out in chosen and "conf_thres" not in v["axes"]:
            v["options"]["conf_thres"] = chosen[v["train"].out]
    # 2. run and score each variant
    trackers = grid_trackers(cfg)
    jobs = [(None if v["train"] is None else v["train"].out, {**v["options"], "grid_trackers": trackers},
             cfg["eval"], v["run_dir"]) for v in variants]
    scores = score_grid(cfg, [v["label"] for v in variants], jobs, parallel)
    for v, s in zip(variants, scores, strict=True):
        v["combined"] = s
    manifest = {
        "base": str(Path(variants[base_index]["run_dir"]).relative_to(out)),
        "variants": [{"run": str(Path(v["run_dir"]).relative_to(out)), "axes": v["axes"],
                      "train_dir": None if v["train"] is None else v["train"].out,
                      **({"conf_thres": v["options"]["conf_thres"]} if "conf_thres" in v["options"] else {})}
                     for i, v in enumerate(variants) if i != base_index],
        "base_axes": variants[base_index]["axes"],
        "base_train_dir": None if variants[base_index]["train"] is None else variants[base_index]["train"].out,
    }
    atomic_write_json(out / "ablation.json", manifest)
    repeat = cfg.get("repeat_axis", "seed")
    table = write_comparison(Path(variants[base_index]["run_dir"]),
                             [(Path(v["run_dir"]), v["axes"]) for i, v in enumerate(variants) if i != base_index],
                             out, figures=bool(cfg.get("figures", True)), base_axes=variants[base_index]["axes"],
                             repeat_axis=repeat if repeat in all_axes(cfg) else None,
                             train_dirs={v["run_dir"]: None if v["train"] is None else v["train"].out
                                         for v in variants})
    return table


def calibrate(cfg: dict[str, Any], variants: list[dict[str, Any]], parallel: int) -> dict[str, float]:
    """The detection threshold of every trained model, chosen on held-out frames, never on the evaluation frames.

    ``cfg["calibrate"] = {"conf_thres": [values], "eval": {data, benchmark, split, seqs}, "metric": "HOTA"}``:
    each trained model runs with the base tracker at every value on the ``eval`` frames (e.g. frames held out
    from the training data), and the value with the best ``metric`` (ties: the first listed) is used for its
    variants, except those that set ``conf_thres`` on an axis. The scored runs are grid trials like the
    variants (resumable); ``<out>/calibration.json`` records every score and choice. Returns
    {training folder: chosen conf_thres}."""
    cal = cfg.get("calibrate")
    if not cal:
        return {}
    values = [float(c) for c in cal["conf_thres"]]
    metric = cal.get("metric", "HOTA")
    out = Path(cfg["out"])
    base_tracker = {"tracker": cfg["base"].get("tracker", "fairmot"), "tracker_options": cfg["base"].get(
        "tracker_options")}
    trainings: dict[str, dict[str, Any]] = {}
    for v in variants:
        if v["train"] is not None and "conf_thres" not in v["axes"]:
            trainings.setdefault(v["train"].out, {**v["options"], **base_tracker})
    labels, jobs, keys = [], [], []
    for tdir, opts in trainings.items():
        for c in values:
            run_dir = out / "calibrate" / Path(tdir).name / f"conf_thres={c}"
            labels.append(str(run_dir.relative_to(out)))
            jobs.append((tdir, {**opts, "conf_thres": c, "grid_trackers": [base_tracker["tracker"]]}, cal["eval"],
                         str(run_dir)))
            keys.append((tdir, c))
    if not jobs:
        return {}
    log.warning("ablate: choosing conf_thres of %d trained model(s) on held-out frames (%d runs)", len(trainings),
                len(jobs))
    scores = score_grid(cfg, labels, jobs, parallel)
    record: dict[str, dict[str, Any]] = {}
    for (tdir, c), combined in zip(keys, scores, strict=True):
        value = combined.get(metric)
        record.setdefault(tdir, {"metric": metric, "eval": cal["eval"], "scores": {}})["scores"][str(c)] = value
    chosen = {}
    for tdir, rec in record.items():
        finite = [(float(v), i) for i, v in enumerate(rec["scores"].values()) if v is not None and v == v]
        if not finite:
            raise ValueError(f"calibrate: no {metric} for {tdir} on {cal['eval']} (no gt there?)")
        best = max(finite, key=lambda t: (t[0], -t[1]))[1]
        rec["chosen"] = chosen[tdir] = values[best]
    atomic_write_json(out / "calibration.json", record)
    return chosen


def score_grid(cfg: dict[str, Any], labels: list[str], jobs: list[tuple], parallel: int) -> list[dict[str, Any]]:
    """Run and score every variant as one trial of a grid study (the tuner's storage and ask/tell loop,
    :mod:`mot_bench.tune`): ``<out>/ablation.db`` by default (``storage`` in the config: any SQLAlchemy URL),
    so a re-run skips the variants already scored and a killed run's variant is failed and run again;
    ``ray_address`` in the config (``local``, ``auto`` or a cluster) runs the variants as Ray tasks
    (``ray_cpus``/``ray_gpus`` per variant; ``parallel`` at once), else ``parallel`` local processes."""
    import optuna
    from optuna.trial import TrialState

    from mot_bench.tune import _owner, recover_stale

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = cfg.get("storage") or f"sqlite:///{(Path(cfg['out']) / 'ablation.db').resolve()}"
    grid_id = hashlib.sha256(json.dumps(labels).encode()).hexdigest()[:12]  # one study per grid
    study = optuna.create_study(storage=storage, study_name=cfg.get("study", f"ablate-{grid_id}"), direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0), load_if_exists=True)
    recover_stale(study, requeue=False)  # a killed run's variant is failed here and run again below
    dist = {"variant": optuna.distributions.CategoricalDistribution(labels)}
    keys = {label: hashlib.sha256(json.dumps(job, sort_keys=True, default=str).encode()).hexdigest()[:16]
            for label, job in zip(labels, jobs, strict=True)}

    def done() -> dict[str, dict[str, Any]]:
        """Variants scored with exactly this configuration (a changed config runs its variant again)."""
        return {t.params["variant"]: t.user_attrs["combined"]
                for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.params.get("variant") in labels and t.user_attrs.get("key") == keys[t.params["variant"]]}

    finished = done()
    if finished:
        log.warning("ablate: %d of %d variant(s) already scored in %s", len(finished), len(labels), storage)
    for _ in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):  # left by a killed run
        study.tell(study.ask(dist), state=TrialState.FAIL)
    trials = []
    for label in labels:
        if label not in finished:
            study.enqueue_trial({"variant": label}, user_attrs={"key": keys[label], "owner": _owner()})
            trials.append(study.ask(dist))
    index = {label: i for i, label in enumerate(labels)}
    todo = [jobs[index[t.params["variant"]]] for t in trials]
    try:
        if cfg.get("ray_address") is not None and todo:
            results = _ray_map(_score_entry, todo, cfg, parallel,
                               [{"num_cpus": cfg.get("ray_cpus", 1), "num_gpus": cfg.get("ray_gpus", 0)}] * len(todo))
        else:
            results = _map(_score_entry, todo, parallel)
    except BaseException:
        for t in trials:
            study.tell(t, state=TrialState.FAIL)
        raise
    for t, combined in zip(trials, results, strict=True):
        scalars = {k: v for k, v in combined.items() if isinstance(v, int | float)}
        t.set_user_attr("combined", scalars)
        hota = scalars.get("HOTA")
        if hota is None or hota != hota:  # not scored (no gt): kept out of the study, run again next time
            study.tell(t, state=TrialState.FAIL)
        else:
            study.tell(t, float(hota))
        finished[t.params["variant"]] = combined
    return [finished[label] for label in labels]


def _ray_map(fn, jobs: list, cfg: dict[str, Any], parallel: int, resources: list[dict[str, Any]]) -> list:
    """``fn`` over ``jobs`` as Ray tasks (``resources[i]``: job i's ``num_cpus``/``num_gpus``; failures
    retried twice) on ``cfg["ray_address"]``, started here (``local``: a ``parallel``-CPU cluster) and shut
    down after unless Ray was already initialised."""
    try:
        import ray
    except ImportError:
        raise ValueError("ablate: ray_address needs Ray: pip install 'mot-bench[distributed]'") from None
    started = not ray.is_initialized()
    if started:
        address = cfg["ray_address"]
        if address in ("", "local"):
            ray.init(num_cpus=max(1, parallel), include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(max_retries=2)(fn)
        if started and cfg["ray_address"] in ("", "local"):  # a task asking more CPUs than the cluster has never runs
            cpus = ray.cluster_resources().get("CPU", 1)
            resources = [{**r, "num_cpus": min(r["num_cpus"], cpus)} for r in resources]
        return ray.get([task.options(**r).remote(job) for job, r in zip(jobs, resources, strict=True)])
    finally:
        if started:
            ray.shutdown()


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
