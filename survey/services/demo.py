"""Demo data: a province with wards, communes and its centre, loaded idempotently.

Everything is derived from fixed seeds and natural keys (unit/desk/sector codes,
uuid5 submission ids), so a second run finds every row present and adds nothing.
Targets carry a "Dữ liệu mẫu" source label: they are taken from real plans in
shared/seeds but attached to fictional demo units.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from questionnaires.loader import load_dir
from questionnaires.model import Questionnaire
from survey.config import DEFAULTS
from survey.models import (
    Comment,
    Desk,
    Response,
    Sector,
    SectorGroup,
    Target,
    Unit,
    Volume,
)
from survey.models.response import DEMOGRAPHIC_COLUMNS, encode_answers
from survey.services import feedback, rollup
from survey.services import questionnaires as qsvc
from survey.services.codes import ALPHABET, LENGTH

DEMO_NAMESPACE = uuid.UUID("5b0c1d0e-7a52-4c55-9d1e-2f7d3c9a6b11")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = date(2026, 1, 1)
LAST_DAY = date(2026, 11, 20)
N_RESPONSES = 3200

# (code, name, kind, parent code)
UNITS = [
    ("KH", "Tỉnh Khánh Hòa (dữ liệu mẫu)", "province", None),
    ("KH-TTHCC", "Trung tâm Phục vụ hành chính công tỉnh", "centre", "KH"),
    ("KH-VPUB", "Văn phòng UBND tỉnh", "office", "KH"),
    ("KH-CAMRANH", "Phường Cam Ranh", "ward", "KH"),
    ("KH-NHATRANG", "Phường Nha Trang", "ward", "KH"),
    ("KH-DIENKHANH", "Xã Diên Khánh", "commune", "KH"),
    ("KH-CAMLAM", "Xã Cam Lâm", "commune", "KH"),
]

GROUPS = [
    ("DD-XD-DT", "Đất đai, xây dựng, đầu tư", "Land, construction and investment"),
    ("YT-GD", "Y tế, giáo dục", "Health and education"),
]

SECTORS = [
    ("DAT_DAI", "Đất đai", "Land", "DD-XD-DT"),
    ("XAY_DUNG", "Xây dựng", "Construction", "DD-XD-DT"),
    ("DAU_TU", "Đầu tư", "Investment", "DD-XD-DT"),
    ("Y_TE", "Y tế", "Health", "YT-GD"),
    ("GIAO_DUC", "Giáo dục", "Education", "YT-GD"),
    ("HO_TICH", "Hộ tịch", "Civil status", None),
    ("TU_PHAP", "Tư pháp", "Justice", None),
    ("LAO_DONG", "Lao động, thương binh và xã hội", "Labour and social affairs", None),
]


@dataclass(frozen=True)
class DemoDesk:
    key: str  # natural key, seeds the public code
    unit: str
    name: str
    sectors: tuple[str, ...]
    monthly_volume: int
    quality: float  # desk effect on the latent satisfaction scale
    active: bool = True
    # The form the desk's generated past responses answered (changing it would
    # change every report number of the demo).  What it serves from now on is
    # its unit's choice (UNIT_FORMS) or else the default, the short form
    # (questionnaires.DEFAULT_FORMS); nt-1 has served the short form all along.
    questionnaire: str = "standard"


DESKS = [
    DemoDesk("tt-datdai", "KH-TTHCC", "Quầy Đất đai", ("DAT_DAI",), 900, -0.9),
    DemoDesk("tt-xaydung", "KH-TTHCC", "Quầy Xây dựng", ("XAY_DUNG",), 420, -0.5),
    DemoDesk("tt-dautu", "KH-TTHCC", "Quầy Đầu tư", ("DAU_TU",), 180, -0.2),
    DemoDesk("tt-yte", "KH-TTHCC", "Quầy Y tế", ("Y_TE",), 300, 0.2),
    DemoDesk("tt-giaoduc", "KH-TTHCC", "Quầy Giáo dục", ("GIAO_DUC",), 260, 0.4),
    DemoDesk("tt-tuphap", "KH-TTHCC", "Quầy Tư pháp", ("TU_PHAP",), 350, 0.3),
    DemoDesk("vp-motcua", "KH-VPUB", "Bộ phận một cửa Văn phòng", ("DAU_TU", "LAO_DONG"), 120, 0.8),
    DemoDesk("cr-1", "KH-CAMRANH", "Quầy 1 – Hộ tịch", ("HO_TICH", "TU_PHAP"), 520, 0.5),
    DemoDesk(
        "cr-2", "KH-CAMRANH", "Quầy 2 – Đất đai, xây dựng", ("DAT_DAI", "XAY_DUNG"), 610, -0.6
    ),
    DemoDesk("cr-3", "KH-CAMRANH", "Quầy 3 – Tổng hợp", ("LAO_DONG", "Y_TE", "GIAO_DUC"), 280, 0.1),
    DemoDesk("nt-1", "KH-NHATRANG", "Quầy Hộ tịch", ("HO_TICH",), 980, 0.6, questionnaire="short"),
    DemoDesk("nt-2", "KH-NHATRANG", "Quầy Đất đai", ("DAT_DAI", "XAY_DUNG"), 760, -0.3),
    DemoDesk("nt-old", "KH-NHATRANG", "Quầy cũ (ngừng hoạt động)", ("HO_TICH",), 0, 0.0, False),
    DemoDesk("dk-1", "KH-DIENKHANH", "Bộ phận một cửa xã", ("HO_TICH", "DAT_DAI"), 240, 0.9),
    DemoDesk("cl-1", "KH-CAMLAM", "Bộ phận một cửa xã", ("HO_TICH", "LAO_DONG"), 150, 1.1),
]

# Units that chose a form on the staff page; every other desk serves the
# default (short) form at its QR code.  Case links ask the standard form.
UNIT_FORMS = {"KH-CAMRANH": "standard"}

DEMO = "Dữ liệu mẫu — "
# (unit, year, sector group or None, threshold, source)
TARGETS = [
    (
        "KH-CAMRANH",
        2022,
        None,
        # Above the province's 85%: a unit may raise the target it inherits, never lower it.
        0.87,
        DEMO + "chỉ tiêu riêng của phường Cam Ranh: mức độ hài lòng đạt trên 87%",
    ),
    ("KH", 2022, None, 0.85, DEMO + "KH CCHC năm 2022 của TP Cần Thơ: tối thiểu 85%"),
    (
        "KH",
        2022,
        "DD-XD-DT",
        0.75,
        DEMO + "KH CCHC năm 2022 của TP Cần Thơ: đất đai, xây dựng, đầu tư tối thiểu 75%",
    ),
    (
        "KH",
        2022,
        "YT-GD",
        0.80,
        DEMO + "KH CCHC năm 2022 của TP Cần Thơ: y tế, giáo dục công tối thiểu 80%",
    ),
    (
        "KH-VPUB",
        2024,
        None,
        0.87,
        DEMO + "KH năm 2024 của Văn phòng UBND tỉnh Khánh Hòa: trên 87%",
    ),
]
# The same thresholds for the year the demo responses fall in, so that
# dashboards of the demo period have targets to judge against.
TARGETS += [(u, 2026, g, t, s + " (áp dụng cho năm 2026)") for u, _y, g, t, s in TARGETS]

COMMENTS_GOOD = [
    "Cán bộ hướng dẫn tận tình, chu đáo.",
    "Thủ tục nhanh gọn, trả kết quả đúng hẹn.",
    "Phòng chờ sạch sẽ, có nước uống.",
    "Cảm ơn chị cán bộ ở quầy đã giải thích rõ ràng.",
]
COMMENTS_BAD = [
    "Phải chờ quá lâu, nên có thêm quầy tiếp nhận.",
    "Hồ sơ bị yêu cầu bổ sung nhiều lần, không được hướng dẫn một lần cho đủ.",
    "Trả kết quả trễ hẹn mà không được báo trước.",
    "Khó tìm chỗ để xe, bảng chỉ dẫn chưa rõ.",
    "Cổng dịch vụ công trực tuyến hay bị lỗi, không nộp được hồ sơ.",
]
# Effects by criterion on the latent scale: feedback handling and timeliness
# are typically the weakest criteria in SIPAS results.
CRITERION_EFFECT = {"TC": 0.2, "DK": 0.3, "TT": -0.1, "CC": 0.4, "KQ": -0.3, "PH": -0.5}
NA_RATE = {"PH": 0.30, "TC": 0.06}


def demo_code(key: str) -> str:
    """Stable desk code for a demo desk (real desks get random codes)."""
    digest = hashlib.sha256(f"survey-demo-desk:{key}".encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:LENGTH])


def _month_starts(first: date, last: date) -> list[date]:
    months, d = [], first.replace(day=1)
    while d <= last:
        months.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return months


def _upsert_structure(session: Session) -> dict[str, object]:
    units: dict[str, Unit] = {u.code: u for u in session.scalars(select(Unit))}
    for code, name, kind, parent in UNITS:
        if code not in units:
            unit = Unit(
                code=code, name=name, kind=kind, parent=units.get(parent) if parent else None
            )
            session.add(unit)
            units[code] = unit
    groups = {g.code: g for g in session.scalars(select(SectorGroup))}
    for code, name, name_en in GROUPS:
        if code not in groups:
            groups[code] = SectorGroup(code=code, name=name, name_en=name_en)
            session.add(groups[code])
    sectors = {s.code: s for s in session.scalars(select(Sector))}
    for code, name, name_en, group in SECTORS:
        if code not in sectors:
            sectors[code] = Sector(
                code=code, name=name, name_en=name_en, group=groups[group] if group else None
            )
            session.add(sectors[code])
    session.flush()
    return {"units": units, "groups": groups, "sectors": sectors}


def _ensure_questionnaires(session: Session) -> dict[str, tuple[int, Questionnaire]]:
    published: dict[str, tuple[int, Questionnaire]] = {}
    for q in sorted(load_dir(), key=lambda q: (q.id, q.version)):
        row, _created = qsvc.publish(session, q)
        published[q.id] = (row.id, q)  # sorted: the latest version wins
    return published


def load_demo(session: Session) -> dict[str, int]:
    """Load the demo data; returns how many rows of each kind were added."""
    added = {"units": 0, "desks": 0, "targets": 0, "volumes": 0, "responses": 0}
    existing_units = set(session.scalars(select(Unit.code)))
    before_units = len(existing_units)
    ref = _upsert_structure(session)
    units: dict[str, Unit] = ref["units"]  # type: ignore[assignment]
    groups: dict[str, SectorGroup] = ref["groups"]  # type: ignore[assignment]
    sectors: dict[str, Sector] = ref["sectors"]  # type: ignore[assignment]
    added["units"] = len(units) - before_units
    questionnaires = _ensure_questionnaires(session)

    desks: dict[str, Desk] = {}
    for spec in DESKS:
        code = demo_code(spec.key)
        desk = session.scalar(select(Desk).where(Desk.code == code))
        if desk is None:
            qv_id = (
                questionnaires[spec.questionnaire][0] if spec.questionnaire != "standard" else None
            )
            desk = Desk(
                unit=units[spec.unit],
                code=code,
                name=spec.name,
                active=spec.active,
                questionnaire_version_id=qv_id,
            )
            session.add(desk)
            added["desks"] += 1
        # The sectors its responses are drawn from; a desk whose sectors staff
        # have set already (or a demo loaded before desks had sectors) keeps them.
        if not desk.sectors:
            desk.sectors = [sectors[c] for c in sorted(spec.sectors)]
        desks[spec.key] = desk
    session.flush()

    existing_targets = {
        (t.unit_id, t.year, t.sector_group_id) for t in session.scalars(select(Target))
    }
    for unit_code, year, group, threshold, source in TARGETS:
        key = (units[unit_code].id, year, groups[group].id if group else None)
        if key not in existing_targets:
            session.add(
                Target(
                    unit_id=key[0],
                    year=year,
                    sector_group_id=key[2],
                    threshold=threshold,
                    source=source,
                )
            )
            existing_targets.add(key)
            added["targets"] += 1

    added["volumes"] = _load_volumes(session, desks)
    added["responses"] = _load_responses(session, desks, sectors, questionnaires)
    # After the responses, which draw from their own seeded stream: choosing
    # forms changes no past response.  Only on units created now, so that a
    # second run never undoes a choice made since on the staff page.
    for code, qid in UNIT_FORMS.items():
        if code not in existing_units and qid in questionnaires:
            units[code].questionnaire_version_id = questionnaires[qid][0]
    session.flush()
    return added


def _load_volumes(session: Session, desks: dict[str, Desk]) -> int:
    existing = {(v.desk_id, v.month) for v in session.scalars(select(Volume))}
    rng = random.Random(20260101)
    rows = []
    # Complete months only: November 2026 is still running.
    for spec in DESKS:
        if not spec.active:
            continue
        desk = desks[spec.key]
        for month in _month_starts(FIRST_DAY, date(2026, 10, 1)):
            count = max(0, round(spec.monthly_volume * rng.uniform(0.8, 1.2)))
            if (desk.id, month) not in existing:
                rows.append(
                    {"unit_id": desk.unit_id, "desk_id": desk.id, "month": month, "count": count}
                )
    if rows:
        session.execute(insert(Volume), rows)
    return len(rows)


def _scale(latent: float) -> int:
    """Map the latent satisfaction to 1..5 with thresholds that give ~85% top-two."""
    for value, cut in ((1, -2.6), (2, -1.7), (3, -0.9), (4, 1.1)):
        if latent < cut:
            return value
    return 5


def _load_responses(session, desks, sectors, questionnaires) -> int:
    rng = random.Random(20261122)
    active = [s for s in DESKS if s.active]
    weights = [s.monthly_volume for s in active]
    n_days = (LAST_DAY - FIRST_DAY).days + 1
    day_effects = {d: rng.gauss(0, 0.25) for d in range(n_days)}

    planned = []
    for i in range(N_RESPONSES):
        spec = rng.choices(active, weights)[0]
        day = FIRST_DAY + timedelta(days=rng.randrange(n_days))
        while day.weekday() == 6:  # desks are closed on Sundays
            day -= timedelta(days=1)
        planned.append((i, spec, day, rng.random()))
    ids = [str(uuid.uuid5(DEMO_NAMESPACE, f"demo-response-{i}")) for i, *_ in planned]
    have = set(
        session.scalars(select(Response.submission_id).where(Response.submission_id.in_(ids)))
    )

    # Draw every response's answers even if it exists, so the random stream
    # (and so each response's content) does not depend on what is present.
    new_responses, comments = [], []
    for (_i, spec, day, u), sid in zip(planned, ids, strict=True):
        qv_id, q = questionnaires[spec.questionnaire]
        person = rng.gauss(0, 0.8)
        base = 0.4 + spec.quality + day_effects[(day - FIRST_DAY).days] + person
        answers = {}
        for crit in q.criteria:
            for item in crit.items:
                if item.allow_na and rng.random() < NA_RATE.get(crit.code, 0.02):
                    answers[item.code] = None
                elif rng.random() < 0.01:
                    continue  # left blank
                else:
                    answers[item.code] = _scale(
                        base + CRITERION_EFFECT.get(crit.code, 0.0) + rng.gauss(0, 0.7)
                    )
        if q.overall_item is not None:
            answers[q.overall_item.code] = _scale(base + rng.gauss(0, 0.5))
        mean = sum(v for v in answers.values() if v) / max(1, sum(1 for v in answers.values() if v))
        comment = None
        if rng.random() < 0.12:
            pool = COMMENTS_BAD if mean < 3.5 else COMMENTS_GOOD
            comment = (rng.choice(pool), "complaint" if mean < 3 else "comment")
        local = datetime.combine(day, time(7, 30)) + timedelta(minutes=rng.randrange(9 * 60))
        submitted = local.replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)
        demographics = {}
        if rng.random() < 0.6:  # demographics are optional: many skip them
            for question in q.demographics:
                column = DEMOGRAPHIC_COLUMNS.get(question.code)
                if column:
                    demographics[column] = rng.choice(question.choices).code
        # ~1% look like ballot stuffing (a burst from one device): kept, flagged.
        flags = "burst" if u < 0.01 else ""
        sector_code = rng.choice(spec.sectors)
        if sid in have:
            continue
        resp = Response(
            submission_id=sid,
            desk_id=desks[spec.key].id,
            unit_id=desks[spec.key].unit_id,
            questionnaire_version_id=qv_id,
            submitted_at=submitted,
            day=day,
            channel="qr",
            sector_id=sectors[sector_code].id,
            locale="vi",
            quality_flags=flags,
            answers=encode_answers(q.all_item_codes(), answers),
            **demographics,
        )
        new_responses.append(resp)
        comments.append(comment)

    session.add_all(new_responses)
    session.flush()
    # Past days written into: a closed month's summary would miss them.
    rollup.invalidate(session, {r.day for r in new_responses})
    commented = []
    for r, comment in zip(new_responses, comments, strict=True):
        if comment:
            # Received when the response was: the board's counts and due days fall
            # in the demo's months, not on the day the demo was loaded.
            session.add(
                Comment(
                    response_id=r.id, text=comment[0], kind=comment[1], created_at=r.submitted_at
                )
            )
            commented.append(r.id)
    session.flush()
    for response_id in commented:  # a tracking code and a due day, as a citizen's gets
        feedback.open_case(session, response_id, DEFAULTS["TIMEZONE"])
    return len(new_responses)


def demo_desk_url(base_url: str) -> str:
    """The survey URL printed by the quick start: the busiest demo desk."""
    return f"{base_url}/s/{demo_code(DESKS[0].key)}"
