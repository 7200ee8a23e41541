"""Reports: a selection of responses -> the analysis result and what pages and files show.

``build`` checks the selection against the user's scope (``reports.data.resolve``),
reads the tidy table, weights it to the transaction volumes of each desk and
month when every desk-month with responses has a volume (otherwise it falls back
to equal weights and says so in a note), judges the indices against the
targets that apply, and returns a ``Report``.  The dashboard, every export
and ``survey report`` use that one object, so they show the same numbers.

``public_board`` is the citizen-side summary (latest complete month and
quarter) for a unit; it shows nothing for a period with fewer than the
configured minimum of responses.

Texts (notes, method, verdicts) are produced by functions that take the
gettext function to use: ``flask_babel.gettext`` on pages, ``plain`` (the
Vietnamese source) in report files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from analysis import analyze
from questionnaires.model import Questionnaire
from survey.models import Unit
from survey.reports import data
from survey.reports import fmt as f
from survey.reports.data import NONE_CODE, Labels, Selection, SelectionError, Targets
from survey.services import units
from survey.services.access import Actor

__all__ = [
    "BREAKDOWNS",
    "LEVEL",
    "SMALL_N",
    "Board",
    "Report",
    "SelectionError",
    "build",
    "build_for",
    "public_board",
    "to_json",
]

LEVEL = 0.95
# Fewer responses than this: the estimate is shown, marked as a small sample.
SMALL_N = 30
BREAKDOWNS = ("unit", "desk", "sector", "sector_group", "month")

Gettext = Callable[..., str]


def plain(message: str, **params: Any) -> str:
    """The Vietnamese source text (report files are Vietnamese documents)."""
    return message % params if params else message


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rate:
    """Responses over transactions, for the desk-months that have a volume."""

    responses: int
    volume: int

    @property
    def share(self) -> float | None:
        return self.responses / self.volume if self.volume > 0 else None


@dataclass
class Report:
    selection: Selection
    result: dict
    labels: Labels
    targets: Targets
    weighted: bool
    notes: list[Note]
    n_received: int
    rate: Rate | None
    rates: dict[str, dict[str, Rate]]
    comment_counts: dict[str, int]
    generated_at: datetime

    @property
    def questionnaire(self) -> Questionnaire:
        return self.selection.questionnaire

    @property
    def overall(self) -> dict:
        return self.result["overall"]

    def ranked(self, name: str) -> list[dict]:
        """Breakdown entries best first; those without an estimate last."""
        entries = self.result["groups"].get(name, [])
        return sorted(
            entries,
            key=lambda e: (e["overall"]["estimate"] is None, -(e["overall"]["estimate"] or 0)),
        )

    def months(self) -> list[dict]:
        return sorted(self.result["groups"].get("month", []), key=lambda e: e["key"])

    def label(self, name: str, key: str) -> str:
        """The display name of a breakdown value (code when the name is unknown)."""
        table = {
            "unit": self.labels.units,
            "desk": self.labels.desks,
            "sector": self.labels.sectors,
            "sector_group": self.labels.groups,
        }.get(name, {})
        return table.get(key) or key


# --- building -------------------------------------------------------------------
def build(
    session: Session,
    user: Actor,
    *,
    today: date,
    action: str = "results.view",
    progress: data.Progress | None = None,
    **values: Any,
) -> Report:
    """Resolve the selection for ``user`` (Forbidden / SelectionError) and build its report."""
    sel = data.resolve(session, user, today=today, action=action, **values)
    return build_for(session, sel, progress=progress)


def build_for(
    session: Session,
    sel: Selection,
    progress: data.Progress | None = None,
    by: tuple[str, ...] = BREAKDOWNS,
) -> Report:
    """The report of an already checked selection (``by``: the breakdowns to estimate)."""
    frame, labels = data.read_frame(session, sel, progress)
    volumes = data.desk_volumes(session, sel)
    targets = data.targets_for(session, sel, frame)
    table, notes = weighting(frame, volumes, sel)
    result = analyze(
        frame,
        sel.questionnaire,
        volumes=table,
        target=targets.overall.threshold,
        targets=targets.by,
        by=by,
        level=LEVEL,
    )
    if sel.other_versions:
        notes.append(Note("other_versions", {"n": sel.other_versions}))
    rate, rates = response_rates(data.response_counts(session, sel), volumes)
    if sel.sector is not None or sel.group is not None:
        rate, rates = None, {}
    notes += [Note("analysis", {"text": text}) for text in result["design"]["notes"]]
    return Report(
        selection=sel,
        result=result,
        labels=labels,
        targets=targets,
        weighted=table is not None,
        notes=notes,
        n_received=len(frame),
        rate=rate,
        rates=rates,
        comment_counts=data.comment_counts(session, sel),
        generated_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _kept(frame: pd.DataFrame) -> pd.DataFrame:
    kept = frame.loc[~frame["excluded"], ["unit", "desk", "day"]]
    return kept.assign(month=kept["day"].dt.strftime("%Y-%m"))


def weighting(
    frame: pd.DataFrame, volumes: pd.DataFrame, sel: Selection
) -> tuple[pd.DataFrame | None, list[Note]]:
    """The desk x month volume table, or None (equal weights) with the reason."""
    kept = _kept(frame)
    if kept.empty:
        return None, []
    if volumes.empty:
        return None, [Note("no_volumes")]
    table = volumes.groupby(["desk", "month"], as_index=False)["volume"].sum()
    cells = kept[["desk", "month"]].drop_duplicates()
    merged = cells.merge(table, how="left", on=["desk", "month"])
    missing = merged[merged["volume"].isna() | (merged["volume"] <= 0)]
    if len(missing):
        examples = ", ".join(
            f"{d} {m[5:]}/{m[:4]}" for d, m in missing[["desk", "month"]].head(3).itertuples(False)
        )
        return None, [Note("missing_volumes", {"n": len(missing), "examples": examples})]
    notes = []
    if sel.sector is not None or sel.group is not None:
        notes.append(Note("sector_weights"))
    merged["volume"] = merged["volume"].astype("int64")
    return merged[["desk", "month", "volume"]], notes


def response_rates(
    counts: pd.DataFrame, volumes: pd.DataFrame
) -> tuple[Rate | None, dict[str, dict[str, Rate]]]:
    """Responses per transaction overall, per desk and per unit (desk-months with a volume).

    ``counts``: counted responses per desk, unit and month (``data.response_counts``).
    """
    if volumes.empty:
        return None, {}
    counted = counts.merge(volumes[["desk", "month"]].drop_duplicates(), on=["desk", "month"])
    total = Rate(int(counted["n"].sum()), int(volumes["volume"].sum()))
    desk_n = counted.groupby("desk")["n"].sum()
    desk_v = volumes.groupby("desk")["volume"].sum()
    unit_n = counted.groupby("unit")["n"].sum()
    unit_v = volumes.groupby("unit")["volume"].sum()
    return total, {
        "desk": {k: Rate(int(desk_n.get(k, 0)), int(v)) for k, v in desk_v.items()},
        "unit": {k: Rate(int(unit_n.get(k, 0)), int(v)) for k, v in unit_v.items()},
    }


# --- texts ----------------------------------------------------------------------
def verdict_label(code: str | None, _: Gettext = plain) -> str:
    return {
        "dat": _("Đạt"),
        "khong_dat": _("Không đạt"),
        "chua_du_can_cu": _("Chưa đủ căn cứ"),
    }.get(code or "", "")


def kind_label(kind: str, _: Gettext = plain) -> str:
    return {
        "comment": _("Ý kiến"),
        "suggestion": _("Kiến nghị, góp ý"),
        "complaint": _("Phản ánh"),
    }.get(kind, kind)


def status_label(status: str, _: Gettext = plain) -> str:
    return {
        "new": _("Mới"),
        "in_progress": _("Đang xử lý"),
        "resolved": _("Đã xử lý"),
    }.get(status, status)


def none_label(name: str, _: Gettext = plain) -> str:
    """Label of the ``_NONE`` value of a breakdown."""
    return _("Không thuộc nhóm") if name == "sector_group" else _("Không rõ lĩnh vực")


def note_text(note: Note, _: Gettext = plain) -> str:
    p = note.params
    if note.code == "no_volumes":
        return _(
            "Chưa có số lượng hồ sơ của các quầy trong kỳ: các phiếu được tính với trọng số "
            "như nhau (không gia quyền) và chưa tính được tỷ lệ phản hồi."
        )
    if note.code == "missing_volumes":
        return _(
            "Chưa có số lượng hồ sơ của %(n)d quầy-tháng có phiếu (ví dụ: %(examples)s): các "
            "phiếu được tính với trọng số như nhau (không gia quyền). Nhập đủ số lượng hồ sơ "
            "để chỉ số được gia quyền.",
            n=p["n"],
            examples=p["examples"],
        )
    if note.code == "sector_weights":
        return _(
            "Số lượng hồ sơ chỉ có theo quầy (mọi lĩnh vực), nên khi chọn lĩnh vực, trọng số "
            "vẫn theo tổng số hồ sơ của quầy và không tính tỷ lệ phản hồi."
        )
    if note.code == "other_versions":
        return _(
            "%(n)d phiếu trả lời theo mẫu phiếu khác không được tính; chọn mẫu phiếu trong bộ "
            "lọc để xem kết quả của mẫu đó.",
            n=p["n"],
        )
    if note.code == "analysis":
        return _("Ghi chú kỹ thuật: %(text)s", text=p["text"])
    return note.code


def method_lines(report: Report, locale: str = "vi", _: Gettext = plain) -> list[str]:
    """The method in plain words: weights, index, interval, verdicts."""
    r, d = report.result, report.result["design"]
    lines = [
        _(
            "Tỷ lệ hài lòng của mỗi câu hỏi là tỷ lệ người trả lời chọn mức 4 (Hài lòng) hoặc "
            "5 (Rất hài lòng) trong số người trả lời câu hỏi đó; câu trả lời “Không áp dụng” "
            "không được tính. Chỉ số của mỗi tiêu chí là trung bình các câu hỏi của tiêu chí; "
            "chỉ số hài lòng chung là trung bình có trọng số của các tiêu chí."
        )
    ]
    if report.weighted:
        lines.append(
            _(
                "Mỗi phiếu có trọng số bằng số hồ sơ của quầy trong tháng chia cho số phiếu của "
                "quầy trong tháng đó (hậu phân tầng theo quầy và tháng), để quầy nhiều hồ sơ "
                "có ảnh hưởng tương xứng. Hiệu ứng thiết kế do trọng số là %(deff)s; cỡ mẫu "
                "hiệu dụng khoảng %(neff)s phiếu.",
                deff=f.num(d["kish_deff"], locale, 2),
                neff=f.num(d["n_eff_kish"], locale),
            )
        )
    else:
        lines.append(_("Các phiếu được tính với trọng số như nhau (không gia quyền)."))
    lines.append(
        _(
            "Khoảng tin cậy %(level)s được tính có xét đến thiết kế mẫu (phân tầng theo quầy, "
            "cụm là các phiếu của một quầy trong một ngày, phương pháp tuyến tính hóa Taylor) "
            "và qua phép biến đổi logit, nên luôn nằm trong khoảng 0–100%%.",
            level=f.pct(r["level"], locale, 0),
        )
    )
    lines.append(
        _(
            "So với chỉ tiêu: “Đạt” khi cận dưới của khoảng tin cậy cao hơn chỉ tiêu; “Không "
            "đạt” khi cận trên thấp hơn chỉ tiêu; còn lại là “Chưa đủ căn cứ”, kèm số phiếu "
            "ước tính cần thêm để kết luận nếu kết quả giữ nguyên."
        )
    )
    if r["n_excluded"]:
        lines.append(
            _(
                "%(n)d phiếu bị gắn cờ nghi ngờ (ví dụ gửi dồn dập từ một thiết bị) được lưu "
                "nhưng không tính vào chỉ số.",
                n=r["n_excluded"],
            )
        )
    lines.append(
        _(
            "Kết quả có dưới %(n)d phiếu được đánh dấu “ít phiếu”: khoảng tin cậy rộng, cần "
            "thận trọng khi so sánh.",
            n=SMALL_N,
        )
    )
    return lines


def target_text(report: Report, locale: str = "vi", _: Gettext = plain) -> str:
    t = report.targets.overall
    if t.threshold is None:
        return _("Chưa có chỉ tiêu năm %(year)d cho đơn vị này.", year=report.targets.year)
    return _(
        "Chỉ tiêu năm %(year)d: %(value)s (%(source)s)",
        year=report.targets.year,
        value=f.pct(t.threshold, locale, 0),
        source=t.source or t.unit_code,
    )


# --- JSON -----------------------------------------------------------------------
def to_json(report: Report) -> dict:
    """The analysis JSON of the selection, plus the selection and report facts."""
    rate = report.rate
    return {
        **report.result,
        "selection": report.selection.meta(),
        "report": {
            "generated_at": report.generated_at.isoformat(timespec="seconds") + "Z",
            "weighting": "desk_month_volumes" if report.weighted else "none",
            "responses_received": report.n_received,
            "response_rate": None
            if rate is None
            else {"responses": rate.responses, "volume": rate.volume, "rate": rate.share},
            "targets": {
                "year": report.targets.year,
                "overall": report.targets.overall.threshold,
                "overall_source": report.targets.overall.source,
                "sector_groups": {
                    code: info.threshold for code, info in report.targets.groups.items()
                },
            },
            "notes": [note_text(n) for n in report.notes],
            "labels": {
                "unit": report.labels.units,
                "desk": report.labels.desks,
                "sector": report.labels.sectors,
                "sector_group": report.labels.groups,
            },
            "comments": report.comment_counts,
        },
    }


# --- the public board -----------------------------------------------------------
@dataclass
class BoardPeriod:
    kind: str  # month | quarter
    start: date
    end: date
    quarter: int | None
    n: int
    shown: bool
    overall: float | None = None
    criteria: list[tuple[str, dict[str, str], float | None]] = field(default_factory=list)


@dataclass
class Board:
    unit: Unit
    periods: list[BoardPeriod]
    min_n: int


def public_board(session: Session, code: str, *, today: date, min_n: int) -> Board | None:
    """Latest complete month and quarter of a unit's subtree; None for an unknown unit.

    Only aggregates, and none at all for a period with fewer than ``min_n``
    responses counted (flagged ones are not counted).
    """
    unit = units.by_code(session, code.strip().upper())
    if unit is None or not unit.active:
        return None
    m_start, m_end = data.latest_complete_month(today)
    year, q, q_start, q_end = data.latest_complete_quarter(today)
    periods = []
    for kind, start, end, quarter in (
        ("month", m_start, m_end, None),
        ("quarter", q_start, q_end, q),
    ):
        sel = data.build_selection(session, unit, today=today, start=start, end=end)
        report = build_for(session, sel, by=())
        n = report.result["n_responses"]
        period = BoardPeriod(kind, start, end, quarter, n, shown=n >= min_n)
        if period.shown:
            period.overall = report.overall["estimate"]
            period.criteria = [
                (c["code"], c["name"], c["estimate"]) for c in report.result["criteria"]
            ]
        periods.append(period)
    return Board(unit=unit, periods=periods, min_n=min_n)


def group_name(report: Report, name: str, key: str, _: Gettext = plain) -> str:
    if key == NONE_CODE:
        return none_label(name, _)
    if name == "month":
        return f.month(date.fromisoformat(key + "-01"), "vi", short=True)
    return report.label(name, key)
