"""Speed and memory of a full analysis on synthetic data, and R's survey on the smallest size.

    .venv/bin/python -m bench.analysis [--sizes 100k,1M,10M] [--no-r]

Analysis: overall index, 6 criteria, 22 items and the overall item, per-desk breakdown,
post-stratified to desk volumes, linearisation, logit intervals and verdicts; 50 desks x
250 days (12,500 PSUs).  Each size runs in its own process; memory is the process's peak
resident set during the analysis (the data frame included; the kernel's peak mark is
reset after the data are generated), next to the resident size before it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}


def _child(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "bench.analysis.one", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M,10M", help="comma list of 100k, 1M, 10M")
    ap.add_argument("--no-r", action="store_true", help="skip the R comparison")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s not in SIZES:
            ap.error(f"unknown size {s!r}; use {', '.join(SIZES)}")
    rows = []
    r_result = None
    with tempfile.TemporaryDirectory() as tmp:
        for s in sizes:
            want_r = s == sizes[0] and not args.no_r and shutil.which("Rscript")
            csv = str(Path(tmp) / "data.csv")
            res = _child([str(SIZES[s])] + (["--csv", csv] if want_r else []))
            rows.append((s, res))
            if want_r:
                r = subprocess.run(
                    ["Rscript", str(ROOT / "bench/analysis/r_bench.R"), csv, csv + ".volumes"],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                r_result = (s, json.loads(r.stdout.strip().splitlines()[-1]))
    print(
        f"{'size':>6} {'analyze s':>10} {'gen s':>7} {'data MB':>8} {'RSS before MB':>14} "
        f"{'peak RSS MB':>12}  overall (SE)"
    )
    for s, r in rows:
        print(
            f"{s:>6} {r['analyze_s']:>10.2f} {r['generate_s']:>7.2f} {r['data_mb']:>8.0f} "
            f"{r['rss_before_mb']:>14.0f} {r['peak_rss_mb']:>12.0f}  "
            f"{r['overall']:.4f} ({r['overall_se']:.5f})"
        )
    if r_result:
        s, r = r_result
        py = dict(rows)[s]
        print(
            f"\nR survey on {s}: {r['analyze_s']:.2f} s (overall {r['overall']:.4f}, SE "
            f"{r['overall_se']:.5f}); Python {py['analyze_s']:.2f} s: "
            f"{r['analyze_s'] / py['analyze_s']:.0f}x faster"
        )


if __name__ == "__main__":
    main()
