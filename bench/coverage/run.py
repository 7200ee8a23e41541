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

``--scenario hard`` (issue 15): 12 desks, one holding 40% of the transactions;
m = ``--days-per-month`` (default 4) survey days per desk-month at that desk and
most others, 1.5 m or 2 m at three desks (168 days for m = 4, 84 for m = 2);
three months with a month effect N(0, 0.2^2) and desk x month post-strata
(volumes per desk and month), i.e. post-strata inside the desk strata;
Poisson(lambda - 1) + 1 respondents per day, lambda = n / days; three sectors whose
mix differs by desk, with a sector effect, so the sector domains cut across the
post-strata.  Cells: the overall index and the sector S1 domain.

Every interval variant (``--df``, ``--interval``, comma-separated) is computed on
the same replicates, side by side.  The Monte-Carlo SE of a coverage c from R
replicates is sqrt(c (1 - c) / R), printed per cell.
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


# The hard scenario (see the module docstring).
# Survey days of each desk in units of 3 x --days-per-month (one per month each).
HARD_DAY_FACTOR = np.array([2, 2, 2, 2, 3, 2, 2, 3, 2, 2, 4, 2]) / 2
HARD_SHARE = np.array([0.40, 0.08, 0.07, 0.07, 0.06, 0.06, 0.05, 0.05, 0.05, 0.04, 0.04, 0.03])
MONTH_SD, SECTOR_EFF = 0.2, np.array([0.0, -0.6, 0.5])
HARD_SIZES = (300, 800, 2000)


class HardWorld(World):
    def __init__(self, seed: int, days_per_month: int = 4):
        super().__init__(seed)
        rng = np.random.default_rng(seed + 100)
        h = len(HARD_SHARE)
        self.days = (3 * days_per_month * HARD_DAY_FACTOR).astype(int)
        self.desk_eff = rng.normal(0, DESK_SD, h)
        self.month_eff = rng.normal(0, MONTH_SD, 3)
        self.month_share = rng.dirichlet(np.full(3, 8.0), h)  # (desk, month) volume mix
        self.sector_mix = rng.dirichlet(np.full(3, 2.0), h)  # (desk, sector)
        # Days of each desk spread over the months in turn: every desk-month has one.
        self.day_month = [np.arange(d) % 3 for d in self.days]

    def _cellp(self, base: float) -> np.ndarray:
        """(desk, month, sector, item) expected item shares."""
        eta = (
            base
            + self.desk_eff[:, None, None, None]
            + self.month_eff[None, :, None, None]
            + SECTOR_EFF[None, None, :, None]
            + self.item_eff[None, None, None, :]
        )
        return (special.expit(eta[..., None] + self.gh_x) * self.gh_w).sum(axis=-1)

    def truth(self, base: float, sector: int | None = None) -> float:
        vol = HARD_SHARE[:, None, None] * self.month_share[:, :, None] * self.sector_mix[:, None, :]
        if sector is not None:
            mask = np.zeros(3)
            mask[sector] = 1.0
            vol = vol * mask
        item = np.einsum("dms,dmsj->j", vol, self._cellp(base)) / vol.sum()
        return float(np.mean([item[ix].mean() for ix in self.crit_items]))

    def sample(self, n: int, base: float, rng: np.random.Generator) -> pd.DataFrame:
        lam = n / self.days.sum()
        desk, month, day, sector = [], [], [], []
        for h, days in enumerate(self.days):
            for d in range(days):
                m = int(rng.poisson(max(lam - 1, 0.0))) + 1
                desk += [h] * m
                month += [self.day_month[h][d]] * m
                day += [d] * m
                sector += list(rng.choice(3, m, p=self.sector_mix[h]))
        desk, month, day, sector = map(np.asarray, (desk, month, day, sector))
        size = len(desk)
        day_eff = rng.normal(0, DAY_SD, (len(self.days), self.days.max()))
        eta = (
            base
            + self.desk_eff[desk]
            + self.month_eff[month]
            + SECTOR_EFF[sector]
            + day_eff[desk, day]
            + rng.normal(0, PERSON_SD, size)
        )
        # Day d of a desk falls in month d % 3, three days apart within the month.
        dates = np.datetime64("2025-01-01") + (month * 31 + day // 3 * 3 + desk % 3).astype(
            "timedelta64[D]"
        )
        cols = {
            "response_id": np.arange(size),
            "unit": "U",
            "desk": pd.Categorical.from_codes(desk, [f"D{k:02d}" for k in range(len(self.days))]),
            "sector": pd.Categorical.from_codes(sector, ["S0", "S1", "S2"]),
            "day": dates,
        }
        for j, code in enumerate(self.codes):
            sat = rng.random(size) < special.expit(eta + self.item_eff[j])
            v = np.where(sat, rng.integers(4, 6, size), rng.integers(1, 4, size)).astype(np.int8)
            r = rng.random(size)
            v[r < NA_RATE] = -1
            v[(r >= NA_RATE) & (r < NA_RATE + BLANK_RATE)] = 0
            cols[code] = v
        return pd.DataFrame(cols)

    def volumes(self) -> pd.DataFrame:
        rows = [
            {"desk": f"D{h:02d}", "month": f"2025-{m + 1:02d}", "volume": 1e5 * s * ms}
            for h, s in enumerate(HARD_SHARE)
            for m, ms in enumerate(self.month_share[h])
        ]
        return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="default", choices=["default", "hard"])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--sizes", default=None, help="default 100,400,2000; hard 300,800,2000")
    ap.add_argument("--truths", default="0.85,0.90,0.95")
    ap.add_argument("--interval", default="logit", help="logit, korn-graubard or both")
    ap.add_argument(
        "--df", default="design", help="design, satterthwaite or both (comma-separated)"
    )
    ap.add_argument(
        "--strata",
        default=None,
        help="desk, desk+month or both (desk/desk+month); hard: desk+month",
    )
    ap.add_argument(
        "--days-per-month", type=int, default=4, help="hard: survey days per desk-month (min.)"
    )
    ap.add_argument("--method", default="linearization", choices=["linearization", "bootstrap"])
    ap.add_argument("--replicates", type=int, default=200, help="bootstrap replicates")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    hard = args.scenario == "hard"
    default_sizes = HARD_SIZES if hard else tuple(LAYOUT)
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else list(default_sizes)
    truths = [float(t) for t in args.truths.split(",")]
    strata_opts = (args.strata or ("desk+month" if hard else "desk")).split("/")
    variants = [
        (d, i, st)
        for st in strata_opts
        for d in args.df.split(",")
        for i in args.interval.split(",")
    ]
    for n in sizes:
        if not hard and n not in LAYOUT:
            ap.error(f"size {n} not in {sorted(LAYOUT)}")
    world = HardWorld(args.seed, args.days_per_month) if hard else World(args.seed)
    vol = world.volumes()
    rng = np.random.default_rng(args.seed + 1)
    domains = [("overall", None), ("sector S1", 1)] if hard else [("overall", None)]
    print(
        f"Coverage of 95% intervals ({args.scenario} scenario, {args.method}), "
        f"{args.reps} replicates per cell; Monte-Carlo SE per cell in brackets"
    )
    print(
        f"{'n':>6} {'truth':>6} {'domain':>10} {'strata':>10} {'df rule':>13} {'interval':>13} "
        f"{'coverage':>15} {'below':>6} {'above':>6} {'width':>7} {'df':>5} {'flag':>5}"
    )
    for n in sizes:
        for truth in truths:
            base = world.base_for(truth)
            truth_of = {name: world.truth(base, sec) if hard else truth for name, sec in domains}
            tally = {
                (name, v): {"cover": 0, "low": 0, "high": 0, "width": [], "df": []}
                for name, _ in domains
                for v in variants
            }
            t0 = time.perf_counter()
            for _ in range(args.reps):
                sample = world.sample(n, base, rng)
                seed = int(rng.integers(2**31))
                for v in variants:
                    res = analyze(
                        sample,
                        world.q,
                        vol,
                        level=0.95,
                        interval=v[1],
                        method=args.method,
                        replicates=args.replicates,
                        seed=seed,
                        df_rule=v[0],
                        strata=tuple(v[2].split("+")),
                        by=["sector"] if hard else [],
                    )
                    for name, sec in domains:
                        if sec is None:
                            st = res["overall"]
                        else:
                            st = next(e for e in res["groups"]["sector"] if e["key"] == "S1")
                            st = st["overall"]
                        tt = tally[(name, v)]
                        tr = truth_of[name]
                        if st["ci_low"] is None:
                            continue  # counted as not covering (width unknown)
                        tt["width"].append(st["ci_high"] - st["ci_low"])
                        tt["df"].append(st["df_interval"])
                        if st["ci_high"] < tr:
                            tt["high"] += 1
                        elif st["ci_low"] > tr:
                            tt["low"] += 1
                        else:
                            tt["cover"] += 1
            sec_used = time.perf_counter() - t0
            for name, _ in domains:
                for v in variants:
                    tt = tally[(name, v)]
                    c = tt["cover"] / args.reps
                    mc = np.sqrt(max(c * (1 - c), 0.95 * 0.05) / args.reps)
                    flag = (
                        "ok"
                        if 0.94 <= c <= 0.96
                        else ("GAP" if abs(c - 0.95) > 0.01 + 2 * mc else "~")
                    )
                    print(
                        f"{n:>6} {tr_fmt(truth_of[name]):>6} {name:>10} {v[2]:>10} {v[0]:>13} "
                        f"{v[1]:>13} "
                        f"{100 * c:>6.1f}% (±{100 * mc:.1f}) "
                        f"{100 * tt['high'] / args.reps:>5.1f}% {100 * tt['low'] / args.reps:>5.1f}% "
                        f"{np.mean(tt['width']):>7.4f} {np.mean(tt['df']):>5.1f} {flag:>5}",
                        flush=True,
                    )
            print(f"   ({sec_used:.0f} s)", flush=True)
    print(
        "below/above: intervals lying wholly below/above the truth; df: mean df of the "
        "quantiles; flag: ok = within 94-96%, ~ = outside but within 2 Monte-Carlo SE of "
        "that band, GAP otherwise."
    )


def tr_fmt(x: float) -> str:
    return f"{x:.3f}"


if __name__ == "__main__":
    main()
