"""``mot-bench --help`` and every command's ``--help`` import no heavy library (measured by imports, not time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "matplotlib", "trackeval", "pandas", "cv2")  # run --help lists tracker options: scipy is fine

_PROBE = """
import json, sys
from mot_bench.cli import main
try:
    main(sys.argv[1:], prog_name="mot-bench")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def _heavy_imports(*args: str) -> list[str]:
    code = _PROBE.replace("{heavy}", repr(set(HEAVY)))
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_group_help_lists_every_command_without_heavy_imports() -> None:
    assert _heavy_imports("--help") == []


@pytest.mark.parametrize("command", ["run", "eval", "report", "check", "train", "ablate", "show"])
def test_command_help_without_heavy_imports(command: str) -> None:
    assert _heavy_imports(command, "--help") == []
