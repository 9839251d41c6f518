"""`mot-bench eval` (default engine, one process) imports only what it uses.

Importing is a third of a whole `mot-bench eval` of MOT17 when it pulls in packages it does not need
(scipy.optimize alone was 0.33 s, pandas 0.12 s): the fast engine parses with numpy and calls scipy's
compiled assignment solver without importing the scipy package, and worker processes are set up only
when asked for.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "mot_bench" / "data" / "sample" / "MOT15" / "train" / "TUD-Campus"
NOT_NEEDED = ("pandas", "scipy", "matplotlib", "torch", "torchvision", "cv2", "trackeval", "optuna", "ray", "PIL",
              "sklearn", "multiprocessing", "concurrent")


def test_eval_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    shutil.copy(SAMPLE / "gt" / "gt.txt", tmp_path / "results" / "TUD-Campus.txt")
    code = ("import json, sys\n"
            "from mot_bench.cli import main\n"
            f"main(['eval', '--gt-root', {str(SAMPLE)!r}, '--results', {str(tmp_path / 'results')!r}, '--json', "
            f"{str(tmp_path / 'm.json')!r}], standalone_mode=False)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = {name.split(".")[0] for name in json.loads(out.strip().splitlines()[-1])}
    assert json.loads((tmp_path / "m.json").read_text())["combined"]["HOTA"] > 0.99  # it did score
    assert not loaded & set(NOT_NEEDED), sorted(loaded & set(NOT_NEEDED))
    assert {"numpy", "click", "mot_bench"} <= loaded
