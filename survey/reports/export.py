"""One entry point per export format, shared by the web pages, the jobs and the CLI."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from survey.reports.data import Selection
from survey.services import reporting
from survey.services.reporting import Report

MIMETYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


def filename(sel: Selection, ext: str, suffix: str = "") -> str:
    """ASCII file name: bao-cao-KH-CAMRANH-20260101-20261031.pdf (codes are ASCII)."""
    return f"bao-cao-{sel.unit.code}-{sel.start:%Y%m%d}-{sel.end:%Y%m%d}{suffix}.{ext}"


def render(session: Session, report: Report, fmt: str) -> bytes:
    if fmt == "json":
        text = json.dumps(reporting.to_json(report), ensure_ascii=False, indent=2)
        return text.encode("utf-8")
    if fmt == "xlsx":
        from survey.reports import xlsx

        return xlsx.render(session, report)
    if fmt == "pdf":
        from survey.reports import pdf

        return pdf.render(session, report)
    raise ValueError(f"unknown report format {fmt!r}")
