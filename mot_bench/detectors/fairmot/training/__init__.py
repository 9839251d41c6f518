"""FairMOT training: dataset, targets, losses, the anchor-head targets/loss, trainer, recall tool.

Beside inference, never imported by it: ``mot_bench.detectors.fairmot`` runs a trained network without this package.
"""
