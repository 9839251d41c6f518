"""mot-bench owns no generic top-level name: it installs beside roboflow's ``trackers`` (and any ``detectors`` or
``reports``) without shadowing them, from the installed package and from a checkout alike.

CI runs this file again with roboflow's ``trackers==2.6.1`` installed into the same environment
(``MOT_BENCH_EXPECT_ROBOFLOW=1``): then the name ``trackers`` must be theirs and both packages must work in one process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENERIC = ("trackers", "detectors", "reports")
ENV = Path(sys.prefix).resolve()  # CI's virtual environment lives inside the checkout (.venv): installed, not shadowing


def _from_checkout(origin: str | None) -> bool:
    """True when ``origin`` is a file of this checkout's own tree rather than of the installed environment."""
    if origin is None:
        return False
    path = Path(origin).resolve()
    return path.is_relative_to(REPO) and not path.is_relative_to(ENV)


def _specs_from(cwd: Path) -> dict[str, str | None]:
    """Where each generic name resolves in a fresh interpreter started in ``cwd`` (as ``python -m pytest`` or
    ``python benchmarks/x.py`` run from a checkout would: the working directory first on sys.path)."""
    code = (
        "import importlib.util, json, sys; sys.path.insert(0, '');"
        f"print(json.dumps({{n: getattr(importlib.util.find_spec(n), 'origin', None) for n in {GENERIC!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_checkout_provides_no_generic_top_level_package() -> None:
    for name, origin in _specs_from(REPO).items():
        assert not _from_checkout(origin), (
            f"'{name}' resolves inside this checkout ({origin}): it would shadow another distribution's package")


def test_the_distribution_declares_only_mot_bench() -> None:
    import tomllib

    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert cfg["tool"]["setuptools"]["packages"]["find"]["include"] == ["mot_bench*"]
    assert cfg["tool"]["importlinter"]["root_packages"] == ["mot_bench"]


def test_plugins_import_under_the_project_namespace() -> None:
    from mot_bench.registry import DETECTORS, TRACKERS

    for registry in (DETECTORS, TRACKERS):
        for name in registry.names():
            cls = registry.get(name)
            assert cls.__module__.startswith("mot_bench."), (name, cls.__module__)


@pytest.mark.skipif(os.environ.get("MOT_BENCH_EXPECT_ROBOFLOW") != "1",
                    reason="run by .ci/run after installing roboflow's trackers==2.6.1 beside mot-bench")
def test_roboflow_trackers_installed_beside_us_is_theirs() -> None:
    import trackers  # roboflow's

    assert not _from_checkout(trackers.__file__), trackers.__file__
    assert "site-packages" in Path(trackers.__file__).parts, trackers.__file__
    assert hasattr(trackers, "ByteTrackTracker"), dir(trackers)
    from mot_bench.trackers.bytetrack import ByteTracker

    assert ByteTracker.__module__ == "mot_bench.trackers.bytetrack"
    assert sys.modules["trackers"] is trackers
