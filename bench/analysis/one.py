"""One benchmark size in its own process: python -m bench.analysis.one N [--csv PATH]."""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark so it measures the analysis alone (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--csv", help="also write the data for the R benchmark here")
    args = ap.parse_args()

    from analysis import analyze
    from analysis.synthetic import questionnaire, simulate

    q = questionnaire()
    t0 = time.perf_counter()
    df, volumes = simulate(args.n, q, n_desks=50, n_days=250, seed=args.n % 9973)
    gen = time.perf_counter() - t0
    if args.csv:
        out = df.copy()
        for code in q.all_item_codes():
            out[code] = np.where(df[code] > 0, df[code], -9)  # R: NA for N/A and blank
        out["day"] = out["day"].dt.strftime("%Y-%m-%d")
        out.to_csv(args.csv, index=False)
        volumes.to_csv(args.csv + ".volumes", index=False)
    data_mb = df.memory_usage(deep=True).sum() / 2**20
    rss_before = _rss_mb()
    reset = _reset_peak()
    t0 = time.perf_counter()
    res = analyze(df, q, volumes, target=0.85, by=["desk"])
    elapsed = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "n": args.n,
                "generate_s": gen,
                "analyze_s": elapsed,
                "data_mb": data_mb,
                "rss_before_mb": rss_before,
                "peak_rss_mb": _peak_mb(),
                "peak_is_analysis_only": reset,
                "overall": res["overall"]["estimate"],
                "overall_se": res["overall"]["se"],
                "desks": len(res["groups"]["desk"]),
            }
        )
    )


if __name__ == "__main__":
    main()
