"""Synthetic MOTChallenge sequences made by the project itself, for fast offline tests.

People are coloured, textured rectangles (tall, aspect about 1:2.5) walking in straight lines
with small jitter over a textured background; each id keeps its colour so appearance carries
identity. The folder has the real layout: ``img1/*.jpg``, ``gt/gt.txt`` (MOT16 columns: consider
flag 1, class 1, visibility 1), ``det/det.txt`` (gt with jitter and scores) and ``seqinfo.ini``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_bench.atomic import atomic_write_text


def make_sequence(
    root: str | Path,
    name: str = "SYN-01",
    length: int = 30,
    width: int = 320,
    height: int = 192,
    num_people: int = 4,
    fps: float = 30.0,
    seed: int = 0,
    write_images: bool = True,
) -> Path:
    """Write one sequence under ``root/name`` and return its folder."""
    import cv2

    rng = np.random.default_rng(seed)
    seq_dir = Path(root) / name
    (seq_dir / "img1").mkdir(parents=True, exist_ok=True)
    (seq_dir / "gt").mkdir(exist_ok=True)
    (seq_dir / "det").mkdir(exist_ok=True)
    h = rng.uniform(0.3, 0.55, num_people) * height
    w = h / rng.uniform(2.2, 2.8, num_people)
    x0 = rng.uniform(0, width - w)
    y0 = rng.uniform(0, height - h)
    vx = rng.uniform(-2.0, 2.0, num_people) * width / 320
    vy = rng.uniform(-0.5, 0.5, num_people) * height / 192
    colours = rng.integers(40, 255, (num_people, 3))
    yy, xx = np.mgrid[0:height, 0:width]
    background = (
        96 + 40 * np.sin(xx[..., None] / 9.0 + np.array([0, 1, 2])) * np.cos(yy[..., None] / 13.0)
    ).astype(np.uint8)
    gt_lines, det_lines = [], []
    for f in range(1, length + 1):
        image = background.copy()
        for i in range(num_people):
            x = float(np.clip(x0[i] + vx[i] * f, 0, width - w[i]))
            y = float(np.clip(y0[i] + vy[i] * f, 0, height - h[i]))
            x1, y1, x2, y2 = int(x), int(y), int(x + w[i]), int(y + h[i])
            image[y1:y2, x1:x2] = colours[i]
            image[y1 : y1 + (y2 - y1) // 4, x1:x2] = (colours[i] * 0.5).astype(np.uint8)  # a "head" band
            gt_lines.append(f"{f},{i + 1},{x1},{y1},{x2 - x1},{y2 - y1},1,1,1\n")
            jx, jy = rng.normal(0, 1.0, 2)
            det_lines.append(f"{f},-1,{x1 + jx:.2f},{y1 + jy:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                             f"{rng.uniform(0.6, 1.0):.3f},-1,-1,-1\n")
        if write_images:
            cv2.imwrite(str(seq_dir / "img1" / f"{f:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    atomic_write_text(seq_dir / "gt" / "gt.txt", "".join(gt_lines))
    atomic_write_text(seq_dir / "det" / "det.txt", "".join(det_lines))
    atomic_write_text(
        seq_dir / "seqinfo.ini",
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps:g}\nseqLength={length}\n"
        f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n",
    )
    return seq_dir
