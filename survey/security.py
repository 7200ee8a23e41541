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
(PostgreSQL cannot store one).  A NUL in the URL path or in a query key or
value is refused as well, and so is a raw query string that is not UTF-8.
Violations are a 400 (413 for too many fields) before any view logic runs.
JSON nested too deeply for the parser is a malformed body (400), not a 500.

Integers: ``<int:...>`` is bounded app-wide to the ids the database can hold
(``MAX_ID``, a PostgreSQL ``integer``): a larger one is a 404, not a database
error.  ``query_int`` reads a bounded integer from the query string.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, request
from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

from survey.config import settings

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
# Ids are PostgreSQL ``integer`` (int4) columns; SQLite would take up to 2**63-1.
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` with ``max`` defaulting to ``MAX_ID``: beyond it the rule does not match."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def query_int(name: str, default: int, low: int, high: int) -> int | None:
    """``request.args[name]`` as an integer in [low, high]; missing or empty is ``default``.

    None for anything else (not a number, out of range): the view says so.
    """
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    # isdigit() alone takes "²", which int() refuses; 18 digits keep int() cheap
    # and the value inside int8 whatever the bounds.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18 and low <= int(raw) <= high):
        return None
    return int(raw)


class Request(FlaskRequest):
    """Flask's request, refusing malformed form bodies when they are first parsed."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:  # e.g. 60,000 "[": malformed, like any other bad JSON
            if silent:
                return None
            raise BadRequest("JSON nested too deeply") from None

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query values, refused (400) if not UTF-8 or holding a NUL in a key or value.

        Checked where first read (the locale is chosen before any view runs);
        whatever reads them after a refusal (the error page) finds them empty.
        """
        try:
            # Werkzeug decodes it strictly here and in ``full_path``: a UnicodeDecodeError.
            self.query_string.decode("utf-8")
        except UnicodeDecodeError:
            problem = "query string is not UTF-8"
        else:
            args = super().args
            if not any("\x00" in k or any("\x00" in v for v in vs) for k, vs in args.lists()):
                return args
            problem = "NUL character in the query string"
        self.__dict__["args"] = self.parameter_storage_class()
        raise BadRequest(problem)

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
    production = settings(app).ENV == "production"

    # Rules are compiled when added, and the blueprints are registered before
    # this runs: rebind them so they get the bounded converter too (it has the
    # same regex, so the compiled matcher is unchanged).
    app.url_map.converters["int"] = BoundedIntConverter
    for rule in app.url_map.iter_rules():
        if "<int" in rule.rule:
            rule.bind(app.url_map, rebind=True)

    @app.before_request
    def _refuse_nul_in_url() -> None:
        if "\x00" in request.path:
            raise BadRequest("NUL character in the URL")
        request.args  # noqa: B018 - parsing it checks it (``Request.args``)

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
