"""In-memory model of a questionnaire version.

This is the contract between the definition files (loaded by
``questionnaires.loader``), the web app (which renders and stores answers) and
``analysis`` (which computes indices).  Pure Python: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCALES: tuple[str, ...] = ("vi", "en")
# Answer value stored for "Không áp dụng" (not applicable).
NA = "NA"


@dataclass(frozen=True)
class ScalePoint:
    value: int  # 1..5
    label: dict[str, str]  # locale -> text


@dataclass(frozen=True)
class Scale:
    points: tuple[ScalePoint, ...]  # ordered 1..5
    na_label: dict[str, str]  # "Không áp dụng" / "Not applicable"
    satisfied_min: int = 4  # top-two-box: answers >= this count as satisfied

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.points)


@dataclass(frozen=True)
class Item:
    code: str  # stable across versions, e.g. "TC1"
    text: dict[str, str]
    weight: float = 1.0
    allow_na: bool = True
    required: bool = True
    # Known only once the case is resolved ("Hồ sơ được giải quyết đúng hẹn"):
    # a form filled in at the desk pre-selects "Không áp dụng"; a case link,
    # answered later, asks it normally.  When it is asked, not what it asks:
    # left out of the content hash (see serialize.ANNOTATIONS).
    after_result: bool = False


@dataclass(frozen=True)
class Criterion:
    code: str  # e.g. "TC" (tiếp cận dịch vụ)
    name: dict[str, str]
    weight: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Choice:
    code: str
    label: dict[str, str]


@dataclass(frozen=True)
class Demographic:
    code: str  # client_type, sex, age_band, channel
    label: dict[str, str]
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Questionnaire:
    id: str  # e.g. "standard", "short"
    version: int
    title: dict[str, str]
    scale: Scale
    criteria: tuple[Criterion, ...]
    overall_item: Item | None = None  # reported alone, never in the composite
    demographics: tuple[Demographic, ...] = ()
    comment_prompt: dict[str, str] = field(default_factory=dict)
    # "top_two_box" (share of answers >= scale.satisfied_min) or "mean"
    aggregation: str = "top_two_box"

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def items(self) -> list[Item]:
        """Criterion items in order (the overall item excluded)."""
        return [it for c in self.criteria for it in c.items]

    def item_codes(self) -> list[str]:
        return [it.code for it in self.items()]

    def all_item_codes(self) -> list[str]:
        """Criterion items plus the overall item, as answers are stored."""
        codes = self.item_codes()
        if self.overall_item is not None:
            codes.append(self.overall_item.code)
        return codes

    def item_numbers(self) -> dict[str, int]:
        """Each item's number as the citizen sees it ("câu 5"): page order, from 1,
        the overall item last.  Progress ("Câu 5/24") and the error summary
        ("câu 15, câu 24") both use it, so they never disagree."""
        return {code: k for k, code in enumerate(self.all_item_codes(), start=1)}

    def criterion_of(self, item_code: str) -> Criterion | None:
        for c in self.criteria:
            if any(it.code == item_code for it in c.items):
                return c
        return None
