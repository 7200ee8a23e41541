"""Coverage of the 95% intervals on simulated clustered desk data with a known truth.

    .venv/bin/python -m bench.coverage [--reps 1000] [--sizes 100,400,2000]
                                       [--truths 0.85,0.90,0.95] [--interval logit]
                                       [--method linearization] [--seed 1]

Model (the standard 6-criterion, 22-item form; one draw of fixed desk effects):
five desks (strata) with unequal transaction volumes; every replicate draws new days
(PSUs) with a day effect N(0, 0.3^2) and respondents with a person effect N(0, 1);
P(answer >= 4) = expit(base + desk + day + person + item), 3% N/A and 2% blanks at
random.  The sample spreads equally over desks while volumes do not, so the
post-stratification weights vary (Kish deff about 1.3).  The truth is the
volume-weighted composite of the expected item shares (Gauss-Hermite quadrature over
day + person effects); ``base`` is solved so that it equals each target truth.

Sizes: n = 100 (5 desks x 4 days x 5), 400 (5 x 8 x 10), 2000 (5 x 20 x 20).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import optimize, special

from analysis import analyze
from analysis.synthetic import questionnaire

DESK_SD, DAY_SD, PERSON_SD, ITEM_SD = 0.5, 0.3, 1.0, 0.3
NA_RATE, BLANK_RATE = 0.03, 0.02
VOLUME_SHARE = np.array([0.40, 0.25, 0.15, 0.12, 0.08])
LAYOUT = {100: (4, 5), 400: (8, 10), 2000: (20, 20)}  # days per desk, responses per day


class World:
    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.q = questionnaire()
        self.codes = self.q.all_item_codes()
        self.desk_eff = rng.normal(0, DESK_SD, len(VOLUME_SHARE))
        self.item_eff = rng.normal(0, ITEM_SD, len(self.codes))
        self.crit_items = [[self.codes.index(it.code) for it in c.items] for c in self.q.criteria]
        x, w = np.polynomial.hermite_e.hermegauss(80)
        self.gh_x, self.gh_w = x * np.hypot(DAY_SD, PERSON_SD), w / w.sum()

    def truth(self, base: float) -> float:
        eta = base + self.desk_eff[:, None, None] + self.item_eff[None, :, None]
        p = (special.expit(eta + self.gh_x) * self.gh_w).sum(axis=2)  # (desks, items)
        item = VOLUME_SHARE @ p / VOLUME_SHARE.sum()
        return float(np.mean([item[ix].mean() for ix in self.crit_items]))

    def base_for(self, truth: float) -> float:
        return optimize.brentq(lambda b: self.truth(b) - truth, -5, 10, xtol=1e-12)

    def sample(self, n: int, base: float, rng: np.random.Generator) -> pd.DataFrame:
        days, per_day = LAYOUT[n]
        h = len(VOLUME_SHARE)
        desk = np.repeat(np.arange(h), days * per_day)
        day = np.tile(np.repeat(np.arange(days), per_day), h)
        day_eff = rng.normal(0, DAY_SD, (h, days))
        eta = base + self.desk_eff[desk] + day_eff[desk, day] + rng.normal(0, PERSON_SD, n)
        cols = {
            "response_id": np.arange(n),
            "unit": "U",
            "desk": pd.Categorical.from_codes(desk, [f"D{k}" for k in range(h)]),
            "sector": "S",
            "day": np.datetime64("2025-01-01") + day.astype("timedelta64[D]"),
        }
        for j, code in enumerate(self.codes):
            sat = rng.random(n) < special.expit(eta + self.item_eff[j])
            v = np.where(sat, rng.integers(4, 6, n), rng.integers(1, 4, n)).astype(np.int8)
            r = rng.random(n)
            v[r < NA_RATE] = -1
            v[(r >= NA_RATE) & (r < NA_RATE + BLANK_RATE)] = 0
            cols[code] = v
        return pd.DataFrame(cols)

    def volumes(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"desk": [f"D{k}" for k in range(len(VOLUME_SHARE))], "volume": VOLUME_SHARE * 1e5}
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--sizes", default="100,400,2000")
    ap.add_argument("--truths", default="0.85,0.90,0.95")
    ap.add_argument("--interval", default="logit", choices=["logit", "korn-graubard"])
    ap.add_argument("--method", default="linearization", choices=["linearization", "bootstrap"])
    ap.add_argument("--replicates", type=int, default=200, help="bootstrap replicates")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    truths = [float(t) for t in args.truths.split(",")]
    for n in sizes:
        if n not in LAYOUT:
            ap.error(f"size {n} not in {sorted(LAYOUT)}")
    world = World(args.seed)
    vol = world.volumes()
    rng = np.random.default_rng(args.seed + 1)
    print(
        f"Coverage of {args.interval} 95% intervals ({args.method}), {args.reps} replicates "
        f"per cell; Monte Carlo SE about {100 * np.sqrt(0.95 * 0.05 / args.reps):.1f} points"
    )
    print(
        f"{'n':>6} {'truth':>6} {'coverage':>9} {'below':>6} {'above':>6} "
        f"{'mean est':>9} {'mean width':>11} {'df':>4} {'sec':>6}"
    )
    for n in sizes:
        for truth in truths:
            base = world.base_for(truth)
            t0 = time.perf_counter()
            cover = low = high = 0
            est, width = [], []
            df = 0
            for _ in range(args.reps):
                res = analyze(
                    world.sample(n, base, rng),
                    world.q,
                    vol,
                    level=0.95,
                    interval=args.interval,
                    method=args.method,
                    replicates=args.replicates,
                    seed=int(rng.integers(2**31)),
                )
                s = res["overall"]
                df = s["df"]
                est.append(s["estimate"])
                width.append(s["ci_high"] - s["ci_low"])
                if s["ci_high"] < truth:
                    high += 1  # interval entirely below the truth
                elif s["ci_low"] > truth:
                    low += 1
                else:
                    cover += 1
            sec = time.perf_counter() - t0
            print(
                f"{n:>6} {truth:>6.2f} {100 * cover / args.reps:>8.1f}% "
                f"{100 * high / args.reps:>5.1f}% {100 * low / args.reps:>5.1f}% "
                f"{np.mean(est):>9.4f} {np.mean(width):>11.4f} {df:>4} {sec:>6.1f}",
                flush=True,
            )
    print("below/above: intervals lying wholly below/above the truth.")


if __name__ == "__main__":
    main()
