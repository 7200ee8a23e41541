"""Rate-limit keys and limits of the citizen POSTs, and the wait they impose.

Citizens' POSTs are limited per device, so that the citizens behind one
address (a centre's Wi-Fi, a carrier's CGNAT) do not share one bucket. The
device is the signed cookie handed out with the form: a made-up value is no
device and makes no new bucket. See docs/security.md, "Rate limits on the survey".
"""

from __future__ import annotations

import math
import time

from flask import g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from survey import i18n, keys
from survey.config import settings
from survey.services import public_desks, submission

DEVICE_COOKIE = "sv_dev"
PER_DEVICE = "20 per minute;200 per hour"
# POSTs without a valid device cookie share one bucket per address. A browser
# that can send an answer got the cookie with its form, so these are scripts or
# browsers that dropped it: more than one device's worth (several may sit
# behind the address), well under the network ceiling (a client stripping its
# cookies gets this, not a bucket per request).
WITHOUT_DEVICE = "60 per minute;600 per hour"


def desk_key() -> str:
    # The code as the desk lookup sees it, so "/s/%20CODE" or "/s/code%09" count
    # against the desk's own bucket; junk that cannot be a code (a 404 anyway)
    # shares one bucket instead of making a new key per request.
    code = public_desks.normalised((request.view_args or {}).get("code", ""))
    return "desk:" + (code or "?")


def device_id() -> str | None:
    """This browser's device id, if its cookie is one this server signed."""
    if "device_id" not in g:
        g.device_id = submission.verify_device_id(
            keys.verification_keys(settings()), request.cookies.get(DEVICE_COOKIE)
        )
    return g.device_id


def client_key() -> str:
    device = device_id()
    return f"device:{device}" if device else f"address:{get_remote_address()}"


def client_limits() -> str:
    return PER_DEVICE if device_id() else WITHOUT_DEVICE


def network_key() -> str:
    return "network:" + get_remote_address()


def network_limits() -> str:
    # The ceiling of one address, whatever its devices: only abuse from one
    # network reaches it (SURVEY_RATELIMIT_PER_NETWORK).
    return settings().RATELIMIT_PER_NETWORK


def wait_message(seconds: int) -> str:
    if seconds <= 90:
        return _(
            "Hệ thống đang nhận nhiều đánh giá. Vui lòng đợi %(n)d giây rồi bấm Gửi lại.",
            n=seconds,
        )
    return _(
        "Hệ thống đang nhận nhiều đánh giá. Vui lòng đợi %(n)d phút rồi bấm Gửi lại.",
        n=math.ceil(seconds / 60),
    )


def wait(limit) -> tuple[int, str]:
    """Seconds until the breached limit lets this client in again, and the words."""
    # The limiter checks before the other before-request hooks have run.
    if "lang" not in g:
        g.lang = i18n.select_locale()
    # As Flask-Limiter counts its own Retry-After, so the page and the header agree.
    seconds = max(1, int(limit.reset_at - time.time()))
    return seconds, wait_message(seconds)
