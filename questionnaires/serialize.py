"""JSON-able form of a questionnaire, its inverse, and a content fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .model import LOCALES, Item, Questionnaire
from .schema import build


def _text(text: Mapping[str, str]) -> dict[str, str]:
    # Fixed locale order keeps the output stable for diffs and humans.
    return {loc: text[loc] for loc in LOCALES if loc in text}


def _item(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "text": _text(item.text),
        "weight": item.weight,
        "allow_na": item.allow_na,
        "required": item.required,
    }


def to_dict(q: Questionnaire) -> dict[str, Any]:
    """Plain dict/list/str/number form; the same shape as a definition file."""
    return {
        "id": q.id,
        "version": q.version,
        "title": _text(q.title),
        "aggregation": q.aggregation,
        "comment_prompt": _text(q.comment_prompt),
        "scale": {
            "points": [{"value": pt.value, "label": _text(pt.label)} for pt in q.scale.points],
            "na_label": _text(q.scale.na_label),
            "satisfied_min": q.scale.satisfied_min,
        },
        "criteria": [
            {
                "code": c.code,
                "name": _text(c.name),
                "weight": c.weight,
                "items": [_item(it) for it in c.items],
            }
            for c in q.criteria
        ],
        "overall_item": _item(q.overall_item) if q.overall_item is not None else None,
        "demographics": [
            {
                "code": d.code,
                "label": _text(d.label),
                "choices": [{"code": ch.code, "label": _text(ch.label)} for ch in d.choices],
            }
            for d in q.demographics
        ],
    }


def from_dict(data: Mapping[str, Any], source_name: str = "<dict>") -> Questionnaire:
    """Inverse of to_dict, validated like a file (raises QuestionnaireError)."""
    return build(data, source_name)


def content_hash(q: Questionnaire) -> str:
    """sha256 hex of the canonical JSON of to_dict(q).

    Weights are floats after loading, so "1" and "1.0" in a file hash alike;
    any change to wording, codes, weights, flags or order changes the hash.
    """
    canonical = json.dumps(
        to_dict(q), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
