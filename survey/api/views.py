"""POST /api/v1/survey-links: a signed per-case survey link and its QR code."""

from __future__ import annotations

import base64

from flask import jsonify, request

from survey.api import bp
from survey.config import settings
from survey.extensions import csrf, limiter
from survey.keys import verification_keys
from survey.posters import qr_png, qr_svg
from survey.services import links
from survey.web_db import get_session


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def _error(status: int, field: str, message: str):
    return jsonify({"error": {"field": field, "message": message}}), status


@bp.post("/survey-links")
@csrf.exempt  # API clients authenticate with a bearer key, not a browser session
@limiter.limit("600 per minute", key_func=lambda: "api:" + (_bearer() or "")[:12])
def create_survey_link():
    session = get_session()
    unit_id = links.api_key_unit(session, _bearer())
    if unit_id is None:
        return _error(401, "Authorization", "missing, unknown or revoked API key")
    payload = request.get_json(silent=True)
    if payload is None:
        return _error(400, "body", "expected a JSON object (Content-Type: application/json)")
    try:
        # Signed with the current key; hashed under the previous one too, so a
        # case answered through a link from before a key rotation stays answered.
        url, claims = links.issue(
            session, verification_keys(settings()), settings().BASE_URL, unit_id, payload
        )
    except links.LinkError as exc:
        return _error(422, exc.field, exc.message)
    return jsonify(
        {
            "url": url,
            "desk": claims.desk,
            "expires_at": claims.expires,
            "qr_png_base64": base64.b64encode(qr_png(url, box_size=4)).decode(),
            "qr_svg": qr_svg(url),
        }
    ), 201
