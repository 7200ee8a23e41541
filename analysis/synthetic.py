"""Synthetic clustered survey data with known structure (benchmarks, demos, studies).

Satisfaction of respondent i at desk h on day d, item j:
P(answer >= 4) = expit(base + desk_h + day_hd + person_i + item_j), with normal
random effects; unsatisfied answers spread over 1..3, satisfied over 4..5.  Item
columns are returned encoded (int8: value, -1 = NA, 0 = blank) to keep 10 million
rows small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from questionnaires.model import Criterion, Item, Questionnaire, Scale, ScalePoint


def questionnaire(
    sizes: tuple[int, ...] = (4, 4, 3, 4, 4, 3), overall_item: bool = True
) -> Questionnaire:
    """Six criteria and 22 items by default (codes C1_1.., overall item HL)."""
    txt = {"vi": "x", "en": "x"}
    crits = tuple(
        Criterion(
            code=f"C{k + 1}",
            name={"vi": f"Tiêu chí {k + 1}", "en": f"Criterion {k + 1}"},
            weight=1.0,
            items=tuple(Item(code=f"C{k + 1}_{j + 1}", text=txt) for j in range(size)),
        )
        for k, size in enumerate(sizes)
    )
    scale = Scale(
        points=tuple(ScalePoint(v, {"vi": str(v), "en": str(v)}) for v in range(1, 6)),
        na_label={"vi": "Không áp dụng", "en": "Not applicable"},
    )
    return Questionnaire(
        id="synthetic",
        version=1,
        title=txt,
        scale=scale,
        criteria=crits,
        overall_item=Item(code="HL", text=txt) if overall_item else None,
    )


def simulate(
    n: int,
    q: Questionnaire,
    *,
    n_desks: int = 20,
    n_days: int = 60,
    base: float = 2.0,
    desk_sd: float = 0.5,
    day_sd: float = 0.3,
    person_sd: float = 1.0,
    item_sd: float = 0.3,
    na_rate: float = 0.03,
    blank_rate: float = 0.02,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, volumes by desk).  Desks get unequal shares of responses."""
    rng = np.random.default_rng(seed)
    share = rng.gamma(2.0, size=n_desks)
    share /= share.sum()
    desk = rng.choice(n_desks, size=n, p=share).astype(np.int32)
    day = rng.integers(0, n_days, size=n).astype(np.int32)
    desk_eff = rng.normal(0, desk_sd, n_desks)
    day_eff = rng.normal(0, day_sd, (n_desks, n_days))
    eta = (base + desk_eff[desk] + day_eff[desk, day]).astype(np.float32)
    eta += rng.normal(0, person_sd, n).astype(np.float32)
    codes = q.all_item_codes()
    cols: dict[str, object] = {}
    cols["response_id"] = np.arange(1, n + 1, dtype=np.int64)
    desk_labels = np.array([f"D{h:03d}" for h in range(n_desks)])
    unit_of_desk = np.arange(n_desks) % max(n_desks // 4, 1)
    cols["unit"] = pd.Categorical.from_codes(
        unit_of_desk[desk], [f"U{u:02d}" for u in range(max(n_desks // 4, 1))]
    )
    cols["desk"] = pd.Categorical.from_codes(desk, desk_labels)
    sectors = ["dat_dai", "xay_dung", "dau_tu", "ho_tich", "tu_phap", "y_te", "giao_duc"]
    groups = ["dat_dai_xd_dt", "dat_dai_xd_dt", "dat_dai_xd_dt", "khac", "khac", "yt_gd", "yt_gd"]
    sec = rng.integers(0, len(sectors), size=n).astype(np.int8)
    cols["sector"] = pd.Categorical.from_codes(sec, sectors)
    group_names = sorted(set(groups))
    cols["sector_group"] = pd.Categorical.from_codes(
        np.array([group_names.index(g) for g in groups], dtype=np.int8)[sec], group_names
    )
    start = np.datetime64("2025-01-01", "D")
    cols["day"] = (start + day.astype("timedelta64[D]")).astype("datetime64[s]")
    item_eff = rng.normal(0, item_sd, len(codes))
    for j, code in enumerate(codes):
        u = rng.random(n, dtype=np.float32)
        p = 1.0 / (1.0 + np.exp(-(eta + np.float32(item_eff[j]))))
        sat = u < p
        # Reuse the same uniform draw to pick the scale point within each side.
        v = np.where(
            sat,
            np.where(u < p * 0.45, 5, 4),
            np.where(u < p + (1 - p) * 0.6, 3, np.where(u < p + (1 - p) * 0.85, 2, 1)),
        ).astype(np.int8)
        r = rng.random(n, dtype=np.float32)
        v[r < na_rate] = -1
        v[(r >= na_rate) & (r < na_rate + blank_rate)] = 0
        cols[code] = v
    df = pd.DataFrame(cols)
    counts = np.bincount(desk, minlength=n_desks)
    volume = np.maximum(counts * rng.uniform(2, 6, n_desks), counts + 1).round()
    present = counts > 0
    volumes = pd.DataFrame({"desk": desk_labels[present], "volume": volume[present]})
    return df, volumes
