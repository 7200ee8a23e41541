"""Sample size for a verdict against a target, by the verdict's own rule.

A report says "Đạt" when the two-sided (1 - a) interval lies entirely above the
target and "Không đạt" when it lies entirely below (``verdict``).  So by default
the planner asks for the n at which that happens with probability ``power`` if the
true share is the expected one (one-sample normal approximation):

n = [z(1 - a/s) sqrt(t (1 - t)) + z(power) sqrt(p (1 - p))]^2 / (p - t)^2 x deff

for target t, expected share p, level a, s = 2 sides (the verdict's rule) or 1
(a one-sided test, which is not what a report applies), and the design effect.
Example: t = 0.85, p = 0.88, a = 0.05, power 0.8: 1,052.7 -> 1,053 two-sided;
823.4 -> 824 one-sided, which gives the report's rule only about 69% power.
When p < t the same n shows the share BELOW the target.

``verdict.more_needed`` uses ``required`` with the current estimate as p and the
current design effect, so "cần thêm N phiếu" means the same thing as a plan.
"""

from __future__ import annotations

import math

from scipy import special

ALPHA = 0.05
POWER = 0.8
SIDES = (1, 2)


def required(
    target: float,
    expected: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    deff: float = 1.0,
    sides: int = 2,
) -> float:
    """The n of the formula above, unrounded, with the design effect (no input checks:
    ``expected`` may be 0 or 1 here, as an estimate may be)."""
    za = float(special.ndtri(1 - alpha / sides))
    zb = float(special.ndtri(power))
    t, p = target, expected
    root = za * math.sqrt(t * (1 - t)) + zb * math.sqrt(p * (1 - p))
    return root**2 / (p - t) ** 2 * deff


def round_up(x: float) -> int:
    # Guard against 824.0000000001 becoming 825.
    return math.ceil(x - 1e-9)


def sample_size(
    target: float,
    expected: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    deff: float = 1.0,
    sides: int = 2,
) -> dict:
    """Responses needed; rounded up.  ``n_srs`` is before the design effect.

    ``direction`` is "above" when expected > target (the n to show Đạt), "below"
    otherwise (the n to show Không đạt).
    """
    for name, value in (("target", target), ("expected", expected)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    if sides not in SIDES:
        raise ValueError(f"sides must be 1 or 2, got {sides}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if not 0.5 <= power < 1:
        raise ValueError(f"power must be in [0.5, 1), got {power}")
    if not deff > 0 or math.isinf(deff):
        raise ValueError(f"deff must be a positive number, got {deff}")
    if expected == target:
        raise ValueError("expected equals target: no sample size can separate them")
    srs = required(target, expected, alpha=alpha, power=power, sides=sides)
    exact = srs * deff
    return {
        "target": target,
        "expected": expected,
        "direction": "above" if expected > target else "below",
        "alpha": alpha,
        "sides": sides,
        "power": power,
        "deff": deff,
        "n_srs": round_up(srs),
        "n": round_up(exact),
        "n_exact": exact,
    }
