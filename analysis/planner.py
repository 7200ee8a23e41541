"""Sample size to show that satisfaction exceeds a target.

n = [z(1-a) sqrt(t (1 - t)) + z(1-b) sqrt(p (1 - p))]^2 / (p - t)^2 x deff

for target t, expected share p, one-sided level a and power 1 - b.  Example:
t = 0.85, p = 0.88, a = 0.05, power 0.8 gives 823.4 -> 824 before the design effect.
"""

from __future__ import annotations

import math

from scipy import stats


def sample_size(
    target: float,
    expected: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    deff: float = 1.0,
) -> dict:
    """Responses needed; rounded up.  ``n_srs`` is before the design effect."""
    for name, value in (("target", target), ("expected", expected)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if not 0.5 <= power < 1:
        raise ValueError(f"power must be in [0.5, 1), got {power}")
    if deff <= 0:
        raise ValueError(f"deff must be positive, got {deff}")
    if expected == target:
        raise ValueError("expected equals target: no sample size can separate them")
    za, zb = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
    t, p = target, expected
    exact = (za * math.sqrt(t * (1 - t)) + zb * math.sqrt(p * (1 - p))) ** 2 / (p - t) ** 2

    # Guard against 824.0000000001 becoming 825.
    def up(x: float) -> int:
        return math.ceil(x - 1e-9)

    return {
        "target": target,
        "expected": expected,
        "alpha": alpha,
        "power": power,
        "deff": deff,
        "n_srs": up(exact),
        "n": up(exact * deff),
        "n_exact": exact * deff,
    }
