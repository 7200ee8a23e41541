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


# Item keys that say when an item is asked, not what it asks or how it is
# scored.  The content hash leaves them out, so annotating a published version
# is not a new version (see docs/questionnaires.md).
ANNOTATIONS = ("after_result",)


def _item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": item.code,
        "text": _text(item.text),
        "weight": item.weight,
        "allow_na": item.allow_na,
        "required": item.required,
    }
    if item.after_result:  # only when set: unannotated forms serialise as before
        out["after_result"] = True
    return out


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
    Annotations (``ANNOTATIONS``) do not.
    """
    data = to_dict(q)
    items = [it for c in data["criteria"] for it in c["items"]]
    if data["overall_item"] is not None:
        items.append(data["overall_item"])
    for item in items:
        for key in ANNOTATIONS:
            item.pop(key, None)
    canonical = json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
