"""Security headers on every response, and the shape of form bodies checked once.

Headers (``after_request``, so error pages and the API get them too):

- a Content-Security-Policy with no inline script or style and no framing;
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, a minimal
  ``Permissions-Policy``;
- ``Referrer-Policy: same-origin``: nothing is sent to other sites, so a case
  link's token (``/l/<token>``) cannot leak through a link or a sub-resource.
  The survey page of a case link (``GET /l/...``) sends no referrer at all.
  Its answer page (``POST /l/...``: thanks, or the form again) keeps
  ``same-origin``, because the late-comment form there is checked by
  Flask-WTF, which over HTTPS refuses a POST whose Referer is missing;
- ``Strict-Transport-Security`` in production only (served behind TLS).

Form bodies (a ``Request`` subclass, so the check runs wherever the form is
first read, also inside Flask-WTF's CSRF check and after a view has raised its
own size limit): a urlencoded body must be UTF-8 (raw and percent-decoded) and
have at most ``MAX_FORM_PARTS`` fields (Werkzeug applies that limit to
multipart bodies only); no field name or value may contain a NUL character
(PostgreSQL cannot store one).  A NUL in the URL path is refused as well.
Violations are a 400 (413 for too many fields) before any view logic runs.
JSON nested too deeply for the parser is a malformed body (400), not a 500.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, request
from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000"
# Survey forms have about 35 fields and staff forms fewer than 20.
MAX_FORM_PARTS = 500
URLENCODED = "application/x-www-form-urlencoded"


class Request(FlaskRequest):
    """Flask's request, refusing malformed form bodies when they are first parsed."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:  # e.g. 60,000 "[": malformed, like any other bad JSON
            if silent:
                return None
            raise BadRequest("JSON nested too deeply") from None

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if self.mimetype == URLENCODED:
            # Cached, so the form parser reads the same bytes; the stream is
            # limited to max_content_length, so this is at most that much (or a 413).
            _check_urlencoded(self.get_data(cache=True), self.max_form_parts)
        super()._load_form_data()
        for key, values in self.form.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                # Whatever reads the form after this refusal finds it empty.
                self.__dict__["form"] = self.parameter_storage_class()
                raise BadRequest("NUL character in a form field")


def _check_urlencoded(raw: bytes, limit: int | None) -> None:
    try:
        parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=limit,
        )
    except UnicodeDecodeError:
        raise BadRequest("form body is not UTF-8") from None
    except ValueError:  # "Max number of fields exceeded"
        raise RequestEntityTooLarge("too many form fields") from None


def _referrer_policy() -> str:
    if request.path.startswith("/l/") and request.method != "POST":
        return "no-referrer"
    return "same-origin"


def init_app(app: Flask) -> None:
    app.request_class = Request
    if app.config["MAX_FORM_PARTS"] == Flask.default_config["MAX_FORM_PARTS"]:
        app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    production = app.config["SURVEY"]["ENV"] == "production"

    @app.before_request
    def _refuse_nul_in_path() -> None:
        if "\x00" in request.path:
            raise BadRequest("NUL character in the URL")

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", _referrer_policy())
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
