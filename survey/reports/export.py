"""One entry point per export format, shared by the web pages, the jobs and the CLI.

``to_json`` is the JSON report: the analysis result plus the selection and report facts.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from survey.reports.build import Report
from survey.reports.selection import Selection
from survey.reports.texts import channel_label, note_text, target_lines

MIMETYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
}


def filename(sel: Selection, ext: str, suffix: str = "") -> str:
    """ASCII file name: bao-cao-KH-CAMRANH-20260101-20261031.pdf (codes are ASCII)."""
    return f"bao-cao-{sel.unit.code}-{sel.start:%Y%m%d}-{sel.end:%Y%m%d}{suffix}.{ext}"


def render(session: Session, report: Report, fmt: str) -> bytes:
    if fmt == "json":
        text = json.dumps(to_json(report), ensure_ascii=False, indent=2)
        return text.encode("utf-8")
    if fmt == "xlsx":
        from survey.reports import xlsx

        return xlsx.render(session, report)
    if fmt == "pdf":
        from survey.reports import pdf

        return pdf.render(session, report)
    if fmt == "docx":
        from survey.reports import docx

        return docx.render(session, report)
    raise ValueError(f"unknown report format {fmt!r}")


def to_json(report: Report) -> dict:
    """The analysis JSON of the selection, plus the selection and report facts."""
    rate = report.rate
    return {
        **report.result,
        "selection": report.selection.meta(),
        "report": {
            "generated_at": report.generated_at.isoformat(timespec="seconds") + "Z",
            "weighting": "desk_month_volumes" if report.weighted else "none",
            "weighting_cells": [c.as_json() for c in report.weighting_cells],
            # Which transactions the estimate stands for (None without volumes).
            "coverage": report.coverage.as_json() if report.coverage else None,
            # The unit × sector margin raked to (None: desk × month only).
            "sector_margin": None
            if report.sector_margin is None
            else {
                "units": list(report.sector_margin.units),
                "responses_outside": report.sector_margin.n_rest,
                "totals": dict(
                    zip(
                        report.sector_margin.table["unit_sector"],
                        report.sector_margin.table["volume"].astype(float),
                        strict=True,
                    )
                ),
            },
            # The overall index unweighted (and on desk × month alone): what the
            # weighting changes, beside an interval that covers sampling error only.
            "sensitivity": report.sensitivity.as_json() if report.sensitivity else None,
            "responses_received": report.n_received,
            "responses_other_forms": report.selection.other_versions,
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
                # Where each target comes from, as the dashboard words it.
                "provenance": target_lines(report),
            },
            "notes": [note_text(n) for n in report.notes],
            "labels": {
                "unit": report.labels.units,
                "desk": report.labels.desks,
                "sector": report.labels.sectors,
                "sector_group": report.labels.groups,
                "survey_channel": {
                    e["key"]: channel_label(e["key"])
                    for e in report.result["groups"].get("survey_channel", [])
                },
            },
            "comments": report.comment_counts,
        },
    }
