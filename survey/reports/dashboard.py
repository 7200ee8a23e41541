"""A ``Report`` turned into the rows and charts the dashboard shows (formatted, localised).

No Flask here: the caller passes the locale and its gettext function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from survey.reports import charts, feedback_measures, texts
from survey.reports import fmt as f
from survey.reports.build import SMALL_N, Report
from survey.reports.texts import Gettext


@dataclass
class Row:
    key: str
    name: str
    n: int
    estimate: str
    interval: str
    verdict: str | None  # dat | khong_dat | chua_du_can_cu
    verdict_label: str
    more_needed: str | None
    target: str
    small: bool  # below the minimum design: greyed, no interval, no "cần thêm"
    chart: Markup
    n_text: str = ""
    tag: str = ""  # why it is small ("ít phiếu", "ít ngày khảo sát")
    verdict_text: str = ""  # why the verdict, in plain words, beside the badge
    extra: dict = field(default_factory=dict)


@dataclass
class Table:
    name: str
    title: str
    rows: list[Row]
    axis: Markup
    has_rate: bool = False
    # Rankings: each row against the overall index, with the line that says how to read it.
    versus: bool = False
    note: str = ""


def text_of(names: dict[str, str], locale: str) -> str:
    return names.get(locale) or names.get("vi") or next(iter(names.values()), "")


def _row(
    report: Report,
    key: str,
    name: str,
    stat: dict,
    n: int,
    locale: str,
    _: Gettext,
    *,
    lo=0.0,
    hi=1.0,
    bar=True,
) -> Row:
    small = not texts.adequate(stat)
    low, high = texts.shown_interval(stat)
    chart = charts.interval_cell(
        stat["estimate"],
        low,
        high,
        stat["target"],
        lo=lo,
        hi=hi,
        bar=bar,
        small=small,
        title=f"{name}: {f.pct(stat['estimate'], locale)}",
    ).svg("cell", fixed=True)
    return Row(
        key=key,
        name=name,
        n=n,
        estimate=f.pct(stat["estimate"], locale),
        interval=f.interval(low, high, locale),
        verdict=stat["verdict"],
        verdict_label=texts.verdict_label(stat["verdict"], _),
        more_needed=texts.more_needed_text(stat, locale, _),
        target=f.pct(stat["target"], locale, 0) if stat["target"] is not None else "",
        small=small,
        chart=chart,
        n_text=f.num(n, locale),
        tag=texts.small_tag(stat, _),
        verdict_text=texts.verdict_reason(
            stat, locale, _, level=report.result["level"], short=True
        ),
    )


def criteria_table(report: Report, locale: str, _: Gettext) -> Table:
    rows = [
        _row(report, c["code"], text_of(c["name"], locale), c, c["n"], locale, _)
        for c in report.result["criteria"]
    ]
    return Table(
        "criteria", _("Sáu tiêu chí"), rows, charts.axis_cell(0, 1, locale).svg("cell", True)
    )


def ranking(report: Report, name: str, title: str, locale: str, _: Gettext) -> Table:
    entries = report.ranked(name)
    lo, hi = charts.axis_range(
        [v for e in entries for v in (*texts.shown_interval(e["overall"]), e["overall"]["target"])]
    )
    rows = []
    rates = report.rates.get(name, {})
    for e in entries:
        row = _row(
            report,
            e["key"],
            texts.group_name(report, name, e["key"], _),
            e["overall"],
            e["n"],
            locale,
            _,
            lo=lo,
            hi=hi,
            bar=False,
        )
        rate = rates.get(e["key"])
        row.extra["rate"] = f.pct(rate.share, locale) if rate and rate.share is not None else ""
        row.extra["versus"] = texts.versus_label(e, _)
        row.extra["versus_code"] = texts.versus_code(e)
        if name == "desk" and len(report.labels.units) > 1:
            # The unit's name: desk names repeat across units ("Quầy Đất đai").
            row.extra["unit"] = report.label("unit", report.labels.desk_units.get(e["key"], ""))
        rows.append(row)
    axis = charts.axis_cell(lo, hi, locale).svg("cell", True)
    return Table(
        name, title, rows, axis, has_rate=bool(rates), versus=True, note=texts.ranking_note(_)
    )


@dataclass
class ItemRow:
    code: str
    text: str
    criterion: str
    n: str
    n_na: str
    estimate: str
    interval: str
    mean: str
    small: bool
    tag: str = ""


def item_rows(report: Report, locale: str, _: Gettext = texts.plain) -> list[ItemRow]:
    q = report.questionnaire
    item_texts = {it.code: text_of(it.text, locale) for it in q.items()}
    return [
        ItemRow(
            code=i["code"],
            text=item_texts.get(i["code"], ""),
            criterion=i["criterion"],
            n=f.num(i["n"], locale),
            n_na=f.num(i["n_na"], locale),
            estimate=f.pct(i["estimate"], locale),
            interval=f.interval(*texts.shown_interval(i), locale),
            mean=f.num(i["mean_score"]["estimate"], locale, 2)
            if i["mean_score"]["estimate"] is not None
            else f.DASH,
            small=not texts.adequate(i),
            tag=texts.small_tag(i, _),
        )
        for i in report.result["items"]
    ]


@dataclass
class TrendRow:
    label: str
    n: str
    estimate: str
    interval: str
    small: bool
    tag: str = ""


def trend(report: Report, locale: str, _: Gettext) -> tuple[Markup | None, list[TrendRow]]:
    months = report.months()
    if not months:
        return None, []
    points = []
    rows = []
    for e in months:
        m = date.fromisoformat(e["key"] + "-01")
        o = e["overall"]
        # A month below the minimum design is a dot without a band.
        points.append(
            (f.month(m, locale, short=True).split("/")[0], o["estimate"], *texts.shown_interval(o))
        )
        rows.append(
            TrendRow(
                f.month(m, locale),
                f.num(e["n"], locale),
                f.pct(o["estimate"], locale),
                f.interval(*texts.shown_interval(o), locale),
                not texts.adequate(o),
                texts.small_tag(o, _),
            )
        )
    chart = charts.trend_chart(
        points,
        report.targets.overall.threshold,
        locale,
        title=_("Chỉ số hài lòng chung theo tháng, với khoảng tin cậy"),
    ).svg("trend")
    return chart, rows


def dashboard(report: Report, locale: str, _: Gettext) -> dict:
    """Everything the dashboard template shows, formatted."""
    r = report.result
    o = r["overall"]
    rate = report.rate
    chart, trend_rows = trend(report, locale, _)
    mean = r["mean_score"]["estimate"]
    return {
        "overall": {
            "estimate": f.pct(o["estimate"], locale),
            "interval": f.interval(*texts.shown_interval(o), locale),
            # Below the minimum design: the share greyed with its n and why, nothing else.
            "adequate": texts.adequate(o),
            "n": f.num(o["n"], locale),
            "greyed": not texts.adequate(o) and o["estimate"] is not None,
            "small_text": None
            if texts.adequate(o)
            else texts.small_sample_text(o["n"], r["design"].get("n_days"), locale, _),
            "verdict": o["verdict"],
            "verdict_label": texts.verdict_label(o["verdict"], _),
            # The count of further responses has its own line below.
            "verdict_text": texts.verdict_reason(o, locale, _, level=r["level"], more=False),
            # Why the year can be decided while its months are not.
            "year_month": texts.year_month_text(_) if texts.year_month_applies(report) else None,
            "small_tag": texts.small_tag(o, _),
            "more_needed": texts.more_needed_text(o, locale, _),
            "target": f.pct(o["target"], locale, 0) if o["target"] is not None else None,
            "target_text": texts.target_text(report, locale, _),
            # Every target judged against, with where it comes from.
            "target_lines": texts.target_lines(report, locale, _),
            "gauge": charts.overall_gauge(
                o["estimate"],
                *texts.shown_interval(o),
                o["target"],
                locale,
                title=_("Chỉ số hài lòng chung"),
                small=not texts.adequate(o),
            ).svg("gauge"),
            "mean": f.num(mean, locale, 2) if mean is not None else None,
            "level": f.pct(r["level"], locale, 0),
        },
        "counts": {
            "responses": f.num(r["n_responses"], locale),
            "received": f.num(report.n_received, locale),
            "excluded": f.num(r["n_excluded"], locale),
            "rate": f.pct(rate.share, locale) if rate and rate.share is not None else None,
            "volume": f.num(rate.volume, locale) if rate else None,
            "rate_responses": f.num(rate.responses, locale) if rate else None,
            # Shown when one form is counted: received = counted + excluded + other forms.
            "other_forms": f.num(report.selection.other_versions, locale)
            if report.selection.version is not None
            else None,
            "forms": texts.forms_text(report, locale, _),
        },
        "weighting_cells": weighting_groups(report, _),
        "coverage": coverage_view(report, locale, _),
        "criteria": criteria_table(report, locale, _),
        "items": item_rows(report, locale, _),
        "rankings": [
            ranking(report, "unit", _("Đơn vị"), locale, _),
            ranking(report, "desk", _("Quầy"), locale, _),
            ranking(report, "sector_group", _("Nhóm lĩnh vực"), locale, _),
            ranking(report, "sector", _("Lĩnh vực"), locale, _),
            ranking(report, "survey_channel", _("Kênh đánh giá"), locale, _),
        ],
        "trend_chart": chart,
        "trend": trend_rows,
        "notes": [texts.note_text(n, _) for n in report.notes],
        "method": texts.method_lines(report, locale, _),
        "comments": {
            texts.kind_label(k, _): f.num(v, locale)
            for k, v in sorted(report.comment_counts.items())
        },
        # The sixth criterion from the handling data (answered on time, median days).
        "feedback": feedback_measures.view(report, locale, _),
        "period": f"{f.day(report.selection.start, locale)} – {f.day(report.selection.end, locale)}",
        "small_n": SMALL_N,
    }


def coverage_view(report: Report, locale: str, _) -> dict | None:
    """The covered share of transactions and the uncovered desk-months (None without volumes)."""
    cov = report.coverage
    if cov is None or cov.share is None:
        return None
    return {
        "share": _("%(share)s số hồ sơ", share=f.pct(cov.share, locale)),
        "hint": _(
            "%(covered)s / %(total)s hồ sơ thuộc quầy-tháng có phiếu",
            covered=f.num(cov.covered_volume, locale),
            total=f.num(cov.total_volume, locale),
        ),
        "uncovered": [
            {
                "unit": u.unit_name or u.unit,
                "desk": u.desk_name or u.desk,
                "months": ", ".join(texts.month_words(m, _) for m in u.months),
                "volume": f.num(u.volume, locale),
                "treatment": _("chia cho các tháng có phiếu của quầy")
                if u.treatment == "absorbed"
                else _("không được đại diện (quầy không có phiếu trong kỳ)"),
            }
            for u in cov.uncovered
        ],
    }


def weighting_groups(report: Report, _) -> list[dict]:
    """The desks not weighted by their own monthly volume, grouped by unit (one volume page each)."""
    groups: dict[str, dict] = {}
    for c in report.treated_cells:
        group = groups.setdefault(
            c.unit, {"unit": c.unit, "unit_name": c.unit_name or c.unit, "desks": []}
        )
        months = c.missing if c.treatment == "collapsed" else c.months
        group["desks"].append(
            {
                "desk": c.desk_name or c.desk,
                "treatment": c.treatment,
                "months": ", ".join(texts.month_words(m, _) for m in months),
            }
        )
    return sorted(groups.values(), key=lambda g: g["unit_name"])
