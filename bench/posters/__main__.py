"""Time render_posters on 100 synthetic desks, per size (goal: under 5 s each).

Each run starts with an empty QR cache, so QR encoding is counted every time;
the one-off font registration is timed separately. Wall time is the goal; CPU
time is printed too because it does not move when the machine is busy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from survey.posters import SIZES, PosterDesk, render_posters
from survey.posters.fonts import register_fonts
from survey.posters.qr import clear_cache
from survey.services.codes import ALPHABET, LENGTH

GOAL_S = 5.0
UNITS = ["Phường Cam Ranh", "Xã Diên Khánh", "Trung tâm Phục vụ hành chính công tỉnh"]
DESKS = ["Quầy Hộ tịch", "Quầy 2 – Đất đai, xây dựng", "Bộ phận một cửa xã", "Quầy Y tế"]


def synthetic_desks(n: int, seed: int = 1) -> list[PosterDesk]:
    rng = random.Random(seed)
    desks = []
    for i in range(n):
        code = "".join(rng.choice(ALPHABET) for _ in range(LENGTH))
        desks.append(
            PosterDesk(
                unit_name=UNITS[i % len(UNITS)],
                desk_name=f"{DESKS[i % len(DESKS)]} {i + 1}",
                url=f"https://khaosat.example.gov.vn/s/{code}",
                code=code,
            )
        )
    return desks


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.posters", description=__doc__)
    parser.add_argument("--desks", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    register_fonts()
    print(f"font registration (once per process): {time.perf_counter() - start:.3f} s")

    desks = synthetic_desks(args.desks)
    print(f"{args.desks} desks, median of {args.runs} runs\n")
    header = ("size", "pages", "wall median s", "min s", "max s", "CPU median s", "PDF KiB")
    print(f"{header[0]:<6}" + "".join(f"{h:>14}" for h in header[1:]) + "  goal")
    slow = False
    for size in SIZES:
        wall, cpu = [], []
        for _ in range(args.runs):
            clear_cache()
            t0, c0 = time.perf_counter(), time.process_time()
            pdf = render_posters(desks, size)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        pages = pdf.count(b"/Type /Page\n")
        median = statistics.median(wall)
        slow |= median >= GOAL_S
        cells = (pages, median, min(wall), max(wall), statistics.median(cpu), len(pdf) / 1024)
        print(
            f"{size:<6}{cells[0]:>14}"
            + "".join(f"{v:>14.3f}" for v in cells[1:5])
            + f"{cells[5]:>14.0f}  {'ok' if median < GOAL_S else f'SLOW (>= {GOAL_S:g} s)'}"
        )
    raise SystemExit(1 if slow else 0)


if __name__ == "__main__":
    main()
