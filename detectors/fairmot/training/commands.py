"""``mot-bench train`` (registered lazily by mot_bench/cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _parse_dataset(text: str) -> dict:
    """ROOT[:BENCHMARK[:SPLIT[:SEQ,SEQ...[:EVERY]]]] -> dataset spec (a JSON object is accepted too)."""
    if text.lstrip().startswith("{"):
        return json.loads(text)
    parts = text.split(":")
    spec: dict = {"root": parts[0]}
    if len(parts) > 1 and parts[1]:
        spec["benchmark"] = parts[1]
    if len(parts) > 2 and parts[2]:
        spec["split"] = parts[2]
    if len(parts) > 3 and parts[3]:
        spec["seqs"] = [s for s in parts[3].split(",") if s]
    if len(parts) > 4 and parts[4]:
        spec["every"] = int(parts[4])
    return spec


@click.command("train")
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--data", "datasets", multiple=True,
              help="Training data, repeatable: ROOT[:BENCHMARK[:SPLIT[:SEQ,SEQ[:EVERY]]]] "
                   "(e.g. ../shared/data:MOT15:half-train:PETS09-S2L1,TUD-Campus) or a JSON object.")
@click.option("--out", help="Experiment folder (checkpoints, train_log.jsonl, train_config.json).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=JSON",
              help="Override any training option, e.g. --set lr=5e-4 --set lr_step=[5] --set head=anchor_based.")
@click.option("--resume", is_flag=True, help="Continue from OUT/model_last.pth (weights, optimiser, epoch).")
@click.option("--load-model", help="Start from a checkpoint (official FairMOT/CenterNet); mismatches are skipped "
                                   "and reported.")
def train(config, datasets, out, overrides, resume, load_model) -> None:
    """Train FairMOT (anchor-free, or the anchor-based ablation head) on MOTChallenge folders.

    CONFIG is a JSON file of options (see detectors/fairmot/training/trainer.py TrainConfig; docs/training.md).
    Multi-GPU: torchrun --nproc_per_node N -m mot_bench.cli train CONFIG.
    """
    from detectors.fairmot.training.trainer import TrainConfig
    from detectors.fairmot.training.trainer import train as run_training

    data = json.loads(Path(config).read_text(encoding="utf-8")) if config else {}
    if datasets:
        data["datasets"] = [_parse_dataset(d) for d in datasets]
    if out:
        data["out"] = out
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        try:
            data[key] = json.loads(value)
        except json.JSONDecodeError:
            data[key] = value
    if resume:
        data["resume"] = True
    if load_model:
        data["load_model"] = load_model
    try:
        cfg = TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not cfg.datasets:
        raise click.UsageError("no training data: give --data or 'datasets' in CONFIG")
    summary = run_training(cfg)
    last = summary["epochs"][-1] if summary["epochs"] else {}
    click.echo(f"trained {len(summary['epochs'])} epoch(s) on {summary['images']} images, nID={summary['num_ids']}; "
               f"last epoch loss {last.get('loss', float('nan')):.4f}; checkpoint {summary['checkpoint']}",
               file=sys.stderr)
