"""scipy's ``linear_sum_assignment`` (the solver TrackEval calls) without importing ``scipy.optimize``.

The solver is the compiled extension ``scipy/optimize/_lsap``, and ``scipy.optimize.linear_sum_assignment``
is that extension's function itself. Importing the ``scipy.optimize`` package, though, also loads
scipy.linalg, scipy.fft, scipy.special and the array-API layer: about 0.3 s, a fifth of a whole
``mot-bench eval`` of MOT17. So the extension is loaded from its file, as the package would load it:
the same machine code, hence the same assignments and the same tie-breaking as TrackEval's
``from scipy.optimize import linear_sum_assignment`` (tests/test_metrics_lsap.py checks the function
is scipy's own). Where the file cannot be found (another scipy layout) the package is imported as usual.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

_MODULE = "scipy.optimize._lsap"

Solver = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _extension_path() -> Path | None:
    """The file of scipy's ``_lsap`` extension, found without importing scipy."""
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / "optimize" / f"_lsap{suffix}"
            if path.is_file():
                return path
    return None


def _load() -> Solver:
    loaded = sys.modules.get(_MODULE)
    if loaded is not None:
        return loaded.linear_sum_assignment
    path = _extension_path()
    if path is not None:
        spec = importlib.util.spec_from_file_location(_MODULE, path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            # a single-phase extension registers itself in sys.modules; take it out again so that a later
            # ``import scipy.optimize`` (the trackeval engine) sets up its package attributes as usual
            if sys.modules.get(_MODULE) is module:
                del sys.modules[_MODULE]
            return module.linear_sum_assignment
    from scipy.optimize import linear_sum_assignment as solver

    return solver


linear_sum_assignment: Solver = _load()
