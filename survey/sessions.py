"""Two session cookies: one for citizens, one for staff.

Citizens arrive from a QR code, a receipt or a link in a chat app, so their
cookie (the CSRF token, the open forms) must survive a cross-site top-level
navigation: ``SameSite=Lax``, path ``/``.  The staff cookie carries a signed-in
identity, so it is ``SameSite=Strict`` and sent to ``/staff`` only: another
site can neither ride it (even with a GET) nor see it on citizen pages.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

STAFF_PREFIX = "/staff"
STAFF_COOKIE = "staff_session"


def _staff_request() -> bool:
    if not has_request_context():
        return False
    path = request.path
    return path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/")


class SplitSessionInterface(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        return STAFF_COOKIE if _staff_request() else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return STAFF_PREFIX if _staff_request() else super().get_cookie_path(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Strict" if _staff_request() else super().get_cookie_samesite(app)

    def save_session(self, app: Flask, session, response) -> None:
        super().save_session(app, session, response)
        # "Vary: Cookie" keeps shared caches from serving one citizen's page to
        # another; a private response never reaches one.  In the browser's own
        # cache it would only make Back miss (the session changes on every
        # submission) and ask "Confirm Form Resubmission" for a form sent back.
        if not _staff_request() and response.cache_control.private:
            response.vary.discard("Cookie")


def init_app(app: Flask) -> None:
    app.session_interface = SplitSessionInterface()
