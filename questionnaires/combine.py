"""Several questionnaire forms as one, so their responses can be analysed together.

The standard and the short forms share item codes (same wording, same
criterion): ``combined`` returns the union of their criteria and items by code,
in the order of the largest form, with each item's text and weight taken from
a form that has it.  ``analysis`` then estimates every item over the responses
that carry it and every criterion over the items it has, so a short-form
response counts towards each criterion through its one item.

Forms that do not measure the same thing are refused with ``IncompatibleForms``
(``reason`` names what differs): another answer scale or "satisfied" threshold,
another aggregation, an item code under two criteria, or a criterion or item
weighted differently (the combined index would depend on which form won).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Criterion, Demographic, Item, Questionnaire

REASONS = ("scale", "aggregation", "item_criterion", "weight", "overall_item")


class IncompatibleForms(ValueError):
    """Forms that cannot be analysed together; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CombinedQuestionnaire(Questionnaire):
    """The union of several forms; ``forms`` are their keys ("short@1", "standard@1")."""

    forms: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return "+".join(self.forms)


def combined(questionnaires: Sequence[Questionnaire]) -> Questionnaire:
    """One questionnaire covering every form given (itself when only one is given)."""
    forms = list({q.key: q for q in questionnaires}.values())
    if not forms:
        raise ValueError("combined() needs at least one questionnaire")
    if len(forms) == 1:
        return forms[0]
    # The largest form first: its order and texts lead; ties keep the order given.
    base = max(forms, key=lambda q: len(q.all_item_codes()))
    ordered = [base, *(q for q in forms if q is not base)]
    _check(ordered)

    criteria: dict[str, tuple[Criterion, dict[str, Item]]] = {}
    for q in ordered:
        for c in q.criteria:
            _crit, items = criteria.setdefault(c.code, (c, {}))
            for it in c.items:
                if it.code in items:
                    # "Không áp dụng" allowed on any form: the combined data may hold it.
                    items[it.code] = _merge_item(items[it.code], it)
                else:
                    items[it.code] = it
    overall = None
    for q in ordered:
        if q.overall_item is not None:
            overall = q.overall_item if overall is None else _merge_item(overall, q.overall_item)
    demographics: dict[str, Demographic] = {}
    for q in ordered:
        for d in q.demographics:
            demographics.setdefault(d.code, d)
    return CombinedQuestionnaire(
        id="+".join(q.id for q in ordered),
        version=0,
        title=base.title,
        scale=base.scale,
        criteria=tuple(
            Criterion(c.code, c.name, c.weight, tuple(items.values()))
            for c, items in criteria.values()
        ),
        overall_item=overall,
        demographics=tuple(demographics.values()),
        comment_prompt=base.comment_prompt,
        aggregation=base.aggregation,
        forms=tuple(sorted(q.key for q in forms)),
    )


def _merge_item(a: Item, b: Item) -> Item:
    return Item(a.code, a.text, a.weight, a.allow_na or b.allow_na, a.required and b.required)


def _check(forms: list[Questionnaire]) -> None:
    base = forms[0]
    home: dict[str, tuple[str, str]] = {}  # item code -> (criterion code, form key)
    crit_weight: dict[str, float] = {}
    item_weight: dict[str, float] = {}
    for q in forms:
        if (q.scale.values, q.scale.satisfied_min) != (base.scale.values, base.scale.satisfied_min):
            raise IncompatibleForms("scale", f"{q.key} and {base.key} use different answer scales")
        if q.aggregation != base.aggregation:
            raise IncompatibleForms(
                "aggregation", f"{q.key} ({q.aggregation}) and {base.key} ({base.aggregation})"
            )
        for c in q.criteria:
            if crit_weight.setdefault(c.code, c.weight) != c.weight:
                raise IncompatibleForms("weight", f"criterion {c.code} in {q.key}")
            for it in c.items:
                where, first = home.setdefault(it.code, (c.code, q.key))
                if where != c.code:
                    raise IncompatibleForms(
                        "item_criterion",
                        f"item {it.code} is under {where} in {first} and under {c.code} in {q.key}",
                    )
                if item_weight.setdefault(it.code, it.weight) != it.weight:
                    raise IncompatibleForms("weight", f"item {it.code} in {q.key}")
    overall = {q.overall_item.code for q in forms if q.overall_item is not None}
    if len(overall) > 1 or overall & set(home):
        raise IncompatibleForms("overall_item", ", ".join(sorted(overall)))
