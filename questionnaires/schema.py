"""Validate a raw definition and build the model from it.

The raw shape is the same whether it comes from a TOML file or from
``to_dict()``, so one validator serves both ``load_text`` and ``from_dict``.
Every check records a problem and carries on, so one run reports all of them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from .errors import QuestionnaireError
from .model import (
    LOCALES,
    Choice,
    Criterion,
    Demographic,
    Item,
    Questionnaire,
    Scale,
    ScalePoint,
)

# Codes become answer keys and DataFrame columns: keep them plain ASCII.
CODE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# Ids appear in file names and in "id@version" keys, hence no "@" or spaces.
ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
AGGREGATIONS = ("top_two_box", "mean")
SCALE_VALUES = (1, 2, 3, 4, 5)

_TOP_REQUIRED = ("id", "version", "title", "scale", "criteria")
_TOP_OPTIONAL = ("aggregation", "comment_prompt", "overall_item", "demographics")
_SCALE_REQUIRED = ("points", "na_label")
_SCALE_OPTIONAL = ("satisfied_min",)
_POINT_KEYS = ("value", "label")
_CRITERION_REQUIRED = ("code", "name")
_CRITERION_OPTIONAL = ("weight", "items")
_ITEM_REQUIRED = ("code", "text")
_ITEM_OPTIONAL = ("weight", "allow_na", "required", "after_result")
_DEMOGRAPHIC_KEYS = ("code", "label", "choices")
_CHOICE_KEYS = ("code", "label")


class _Problems:
    """Collects messages of the form ``<source>: <key path>: <problem>``."""

    def __init__(self, source: str):
        self.source = source
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        where = f"{self.source}: {path}" if path else self.source
        self.messages.append(f"{where}: {message}")


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _valid_code(raw: Any) -> str | None:
    code = raw.get("code") if isinstance(raw, Mapping) else None
    return code if isinstance(code, str) and CODE_RE.match(code) else None


def _label(raw: Any, index: int) -> str:
    """Name an array element by its code when usable, else by 1-based position."""
    return _valid_code(raw) or f"#{index + 1}"


def _table(
    value: Any,
    path: str,
    p: _Problems,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        p.add(path, f"must be a table, got {_kind(value)}")
        return None
    allowed = required + optional
    for key in value:
        if key not in allowed:
            p.add(
                f"{path}.{key}" if path else str(key),
                f"unknown key '{key}' (expected one of: {', '.join(allowed)})",
            )
    for key in required:
        if key not in value:
            p.add(path, f"missing key '{key}'")
    return value


def _list(value: Any, path: str, p: _Problems) -> list[Any] | None:
    if not isinstance(value, list):
        p.add(path, f"must be a list, got {_kind(value)}")
        return None
    return value


def _string(value: Any, path: str, p: _Problems) -> str | None:
    if not isinstance(value, str):
        p.add(path, f"must be text, got {_kind(value)}")
        return None
    if not value.strip():
        p.add(path, "text is empty")
        return None
    if not unicodedata.is_normalized("NFC", value):
        # Decomposed ("Unicode tổ hợp") text looks right but breaks search and
        # comparison; point at the first offending word so it can be retyped.
        words = (w for w in value.split() if not unicodedata.is_normalized("NFC", w))
        word = next(words, value)
        p.add(
            path,
            f"text is not NFC-normalised near {word!r}: retype it with precomposed "
            "Unicode (Unicode dựng sẵn)",
        )
        return None
    return value


def _text(value: Any, path: str, p: _Problems) -> dict[str, str] | None:
    """A {vi, en} table; every locale is required."""
    table = _table(value, path, p, required=(), optional=LOCALES)
    if table is None:
        return None
    out: dict[str, str] = {}
    for locale in LOCALES:
        if locale not in table:
            p.add(path, f"missing '{locale}' translation")
            continue
        text = _string(table[locale], f"{path}.{locale}", p)
        if text is not None:
            out[locale] = text
    return out


def _code(value: Any, path: str, p: _Problems, what: str) -> str | None:
    if not isinstance(value, str):
        p.add(path, f"{what} code must be text, got {_kind(value)}")
        return None
    if not CODE_RE.match(value):
        p.add(
            path,
            f"invalid {what} code {value!r}: use ASCII letters, digits and underscore, "
            "starting with a letter",
        )
        return None
    return value


def _weight(value: Any, path: str, p: _Problems) -> float | None:
    # bool is an int in Python; "weight = true" is a typo, not 1.
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
    if not ok:
        p.add(path, f"weight must be a positive number, got {value!r}")
        return None
    return float(value)


def _bool(value: Any, path: str, p: _Problems) -> bool | None:
    if not isinstance(value, bool):
        p.add(path, f"must be true or false, got {value!r}")
        return None
    return value


def _item(raw: Any, path: str, p: _Problems) -> Item | None:
    table = _table(raw, path, p, _ITEM_REQUIRED, _ITEM_OPTIONAL)
    if table is None:
        return None
    code = _code(table["code"], f"{path}.code", p, "item") if "code" in table else None
    text = _text(table["text"], f"{path}.text", p) if "text" in table else None
    weight = _weight(table.get("weight", 1.0), f"{path}.weight", p)
    allow_na = _bool(table.get("allow_na", True), f"{path}.allow_na", p)
    required = _bool(table.get("required", True), f"{path}.required", p)
    after_result = _bool(table.get("after_result", False), f"{path}.after_result", p)
    if after_result and allow_na is False:
        # At the desk the form pre-selects "Không áp dụng" for it: it must exist.
        p.add(
            f"{path}.after_result",
            "an item asked only after the result (after_result = true) must allow "
            '"Không áp dụng" (allow_na = true)',
        )
    return Item(
        code=code,
        text=text,
        weight=weight,
        allow_na=allow_na,
        required=required,
        after_result=bool(after_result),
    )


def _scale(raw: Any, p: _Problems) -> Scale | None:
    table = _table(raw, "scale", p, _SCALE_REQUIRED, _SCALE_OPTIONAL)
    if table is None:
        return None
    na_label = _text(table["na_label"], "scale.na_label", p) if "na_label" in table else None
    points: list[ScalePoint] = []
    raw_points = _list(table["points"], "scale.points", p) if "points" in table else None
    values: list[Any] = []
    for i, raw_point in enumerate(raw_points or []):
        path = f"scale.points[#{i + 1}]"
        point = _table(raw_point, path, p, _POINT_KEYS)
        if point is None:
            continue
        value = point.get("value")
        values.append(value)
        label = _text(point["label"], f"{path}.label", p) if "label" in point else None
        if type(value) is int and label is not None:
            points.append(ScalePoint(value=value, label=label))
    # type() check: True == 1 and 1.0 == 1 in Python, but neither is a scale point.
    exact = all(type(v) is int for v in values) and tuple(values) == SCALE_VALUES
    if raw_points is not None and not exact:
        shown = ", ".join(repr(v) for v in values) or "none"
        p.add(
            "scale.points",
            f"the scale must have exactly the points 1, 2, 3, 4, 5 in order, got {shown}",
        )
    satisfied_min = table.get("satisfied_min", 4)
    if type(satisfied_min) is not int or not 2 <= satisfied_min <= 5:
        p.add("scale.satisfied_min", f"must be a whole number from 2 to 5, got {satisfied_min!r}")
    return Scale(points=tuple(points), na_label=na_label, satisfied_min=satisfied_min)


class _ItemRegistry:
    """Item codes must be unique across criteria and the overall item.

    Works on the raw code so a duplicate is reported even when the item has
    other problems too.
    """

    def __init__(self, p: _Problems):
        self.p = p
        self.seen: dict[str, str] = {}

    def claim(self, raw_item: Any, path: str, where: str) -> None:
        code = _valid_code(raw_item)
        if code is None:
            return
        if code in self.seen:
            self.p.add(path, f"duplicate item code '{code}' (already used in {self.seen[code]})")
        else:
            self.seen[code] = where


def _criteria(raw: Any, p: _Problems, registry: _ItemRegistry) -> list[Criterion]:
    raw_list = _list(raw, "criteria", p)
    if raw_list is None:
        return []
    if not raw_list:
        p.add("criteria", "at least one criterion is required")
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for i, raw_criterion in enumerate(raw_list):
        path = f"criteria[{_label(raw_criterion, i)}]"
        table = _table(raw_criterion, path, p, _CRITERION_REQUIRED, _CRITERION_OPTIONAL)
        if table is None:
            continue
        code = _code(table["code"], f"{path}.code", p, "criterion") if "code" in table else None
        if code is not None:
            if code in seen:
                p.add(path, f"duplicate criterion code '{code}'")
            seen.add(code)
        name = _text(table["name"], f"{path}.name", p) if "name" in table else None
        weight = _weight(table.get("weight", 1.0), f"{path}.weight", p)
        items: list[Item] = []
        raw_items = _list(table.get("items", []), f"{path}.items", p)
        if raw_items is not None and not raw_items:
            p.add(path, f"criterion {code or path} has no items")
        for j, raw_item in enumerate(raw_items or []):
            item_path = f"{path}.items[{_label(raw_item, j)}]"
            items.append(_item(raw_item, item_path, p))
            registry.claim(raw_item, item_path, f"criterion {code or path}")
        criteria.append(Criterion(code=code, name=name, weight=weight, items=tuple(items)))
    return criteria


def _demographics(raw: Any, p: _Problems) -> list[Demographic]:
    raw_list = _list(raw, "demographics", p)
    demographics: list[Demographic] = []
    seen: set[str] = set()
    for i, raw_demo in enumerate(raw_list or []):
        path = f"demographics[{_label(raw_demo, i)}]"
        table = _table(raw_demo, path, p, _DEMOGRAPHIC_KEYS)
        if table is None:
            continue
        code = _code(table["code"], f"{path}.code", p, "demographic") if "code" in table else None
        if code is not None:
            if code in seen:
                p.add(path, f"duplicate demographic code '{code}'")
            seen.add(code)
        label = _text(table["label"], f"{path}.label", p) if "label" in table else None
        choices: list[Choice] = []
        raw_choices = _list(table["choices"], f"{path}.choices", p) if "choices" in table else None
        if raw_choices is not None and not raw_choices:
            p.add(path, f"demographic {code or path} has no choices")
        choice_codes: set[str] = set()
        for j, raw_choice in enumerate(raw_choices or []):
            c_path = f"{path}.choices[{_label(raw_choice, j)}]"
            choice = _table(raw_choice, c_path, p, _CHOICE_KEYS)
            if choice is None:
                continue
            c_code = (
                _code(choice["code"], f"{c_path}.code", p, "choice") if "code" in choice else None
            )
            if c_code is not None:
                if c_code in choice_codes:
                    p.add(c_path, f"duplicate choice code '{c_code}' in demographic {code or path}")
                choice_codes.add(c_code)
            c_label = _text(choice["label"], f"{c_path}.label", p) if "label" in choice else None
            choices.append(Choice(code=c_code, label=c_label))
        demographics.append(Demographic(code=code, label=label, choices=tuple(choices)))
    return demographics


def build(raw: Any, source: str) -> Questionnaire:
    """Validate ``raw`` and return the model, or raise QuestionnaireError with all problems.

    The helpers above record problems and return partial values; nothing partial
    escapes because this function raises whenever any problem was recorded.
    """
    p = _Problems(source)
    table = _table(raw, "", p, _TOP_REQUIRED, _TOP_OPTIONAL)
    if table is None:
        raise QuestionnaireError(p.messages)

    qid = table.get("id")
    if "id" in table and (not isinstance(qid, str) or not ID_RE.match(qid)):
        p.add("id", f"id must be lowercase text (letters, digits, '-', '_'), got {qid!r}")
    version = table.get("version")
    if "version" in table and (type(version) is not int or version < 1):
        p.add("version", f"version must be a whole number of at least 1, got {version!r}")
    title = _text(table["title"], "title", p) if "title" in table else None
    aggregation = table.get("aggregation", "top_two_box")
    if aggregation not in AGGREGATIONS:
        p.add(
            "aggregation",
            f"unknown aggregation rule {aggregation!r} (expected one of: {', '.join(AGGREGATIONS)})",
        )
    # Absent, None or {} (as to_dict writes a missing prompt) mean "no prompt".
    comment_prompt = table.get("comment_prompt")
    if comment_prompt is None or comment_prompt == {}:
        comment_prompt = {}
    else:
        comment_prompt = _text(comment_prompt, "comment_prompt", p)
    scale = _scale(table["scale"], p) if "scale" in table else None

    registry = _ItemRegistry(p)
    criteria = _criteria(table["criteria"], p, registry) if "criteria" in table else None
    overall_item = None
    if table.get("overall_item") is not None:
        overall_item = _item(table["overall_item"], "overall_item", p)
        if (
            isinstance(table["overall_item"], Mapping)
            and table["overall_item"].get("after_result") is True
        ):
            # Reported on its own from every response: never skipped at the desk.
            p.add("overall_item.after_result", "not allowed on the overall item")
        registry.claim(table["overall_item"], "overall_item", "overall_item")
    demographics = _demographics(table.get("demographics", []), p)

    if p.messages:
        raise QuestionnaireError(p.messages)
    return Questionnaire(
        id=qid,
        version=version,
        title=title,
        scale=scale,
        criteria=tuple(criteria),
        overall_item=overall_item,
        demographics=tuple(demographics),
        comment_prompt=dict(comment_prompt),
        aggregation=aggregation,
    )
