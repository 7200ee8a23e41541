"""The per-desk limit counts a desk once, however its code is spelled in the URL.

The desk lookup strips and upper-cases the code, so ``/s/%20CODE`` is the
same desk as ``/s/CODE``; its rate-limit bucket must be the same too.
"""

from __future__ import annotations

import pytest

from tests.support import DESK, SHORT_DESK

PER_DESK = 120  # "120 per minute" on POST /s/<code>
PER_ADDRESS = 20


def _post(client, path: str, address: str) -> int:
    # A junk submission id: a 400 that stores nothing but counts against the limits.
    return client.post(
        path, data={"sid": "junk"}, environ_base={"REMOTE_ADDR": address}
    ).status_code


@pytest.mark.parametrize(
    "spelling",
    [f"%20{DESK}", f"{DESK}%20", f"%09{DESK}", f"%20{DESK.lower()}%0A"],
    ids=["leading space", "trailing space", "tab", "lower case and spaces"],
)
def test_another_spelling_of_the_code_shares_the_desks_bucket(demo_client, spelling):
    # The desk's bucket filled from many addresses, none over its own limit.
    for i in range(PER_DESK):
        assert _post(demo_client, f"/s/{DESK}", f"10.0.{i // PER_ADDRESS}.1") == 400
    # The same desk under another spelling, from a fresh address: still full.
    assert demo_client.get(f"/s/{spelling}").status_code == 200  # it is the same desk
    assert _post(demo_client, f"/s/{spelling}", "10.1.0.1") == 429
    # Another desk has its own bucket.
    assert _post(demo_client, f"/s/{SHORT_DESK}", "10.1.0.2") == 400
