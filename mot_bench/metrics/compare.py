"""Field-by-field comparison of two evaluate() results (``mot-bench eval --compare-engines``)."""

from __future__ import annotations

from typing import Any


def _values(res: dict[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    """field -> [(sequence or COMBINED, value)], alpha lists spread into one value per alpha."""
    out: dict[str, list[tuple[str, Any]]] = {}
    rows = [*res["per_sequence"].items(), ("COMBINED", res["combined"])]
    for name, fields in rows:
        for field, value in fields.items():
            items = value if isinstance(value, list) else [value]
            out.setdefault(field, []).extend((name, v) for v in items)
    return out


def engine_diff_table(a: dict[str, Any], b: dict[str, Any], engine_a: str = "fast") -> tuple[str, int]:
    """A table with, per field, how many values differ and the largest absolute difference.

    Values are compared with ``==`` (floats bit for bit). Returns the table and the number of differing
    values (0 when the engines agree everywhere).
    """
    engine_b = "trackeval" if engine_a == "fast" else "fast"
    va, vb = _values(a), _values(b)
    fields = list(va) + [f for f in vb if f not in va]
    width = max(len(f) for f in fields) + 2
    lines = [f"{engine_a} vs {engine_b}: per field, values compared (sequences + COMBINED, each alpha), "
             "values that differ, largest |difference|",
             f"{'field':<{width}}{'values':>8}{'differ':>8}{'max |diff|':>14}"]
    total = 0
    for f in fields:
        xa, xb = va.get(f, []), vb.get(f, [])
        if len(xa) != len(xb):
            lines.append(f"{f:<{width}}{max(len(xa), len(xb)):>8}{'missing':>8}{'-':>14}")
            total += abs(len(xa) - len(xb)) or 1
            continue
        differ = [(x, y) for (_, x), (_, y) in zip(xa, xb, strict=True) if x != y]
        biggest = max((abs(float(x) - float(y)) for x, y in differ), default=0.0)
        lines.append(f"{f:<{width}}{len(xa):>8}{len(differ):>8}{biggest:>14.3g}")
        total += len(differ)
    lines.append(f"{'all fields':<{width}}{sum(len(v) for v in va.values()):>8}{total:>8}")
    return "\n".join(lines), total
