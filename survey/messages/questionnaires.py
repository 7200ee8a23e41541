"""A published questionnaire as staff name it: "Phiếu rút gọn – 7 câu", never ``short@1``."""

from __future__ import annotations

import flask_babel

from survey.messages import N_
from survey.models import QuestionnaireVersion
from survey.services import questionnaires as qsvc

# The forms the project ships, by their short everyday name; another form shows its title.
NAMES = {
    "short": N_("Phiếu rút gọn"),
    "standard": N_("Phiếu đầy đủ"),
}


def label(row: QuestionnaireVersion | None) -> str:
    """Name and size (the items answered on the five-point scale), with the version past 1."""
    if row is None:
        return "—"
    form = qsvc.definition(row)
    lang = str(flask_babel.get_locale() or "vi")[:2]
    name = (
        str(flask_babel.gettext(NAMES[row.qid]))
        if row.qid in NAMES
        else form.title.get(lang) or form.title.get("vi") or row.qid
    )
    size = len(form.all_item_codes())
    text = str(flask_babel.gettext("%(n)d câu", n=size))
    if row.version > 1:
        text += " · " + str(flask_babel.gettext("phiên bản %(n)d", n=row.version))
    return f"{name} – {text}"


def key_label(key: str) -> str:
    """A stored key (``short@1``, as audit snapshots hold it) in words, without the database:
    "Phiếu rút gọn (phiên bản 1)"."""
    qid, _sep, version = str(key).partition("@")
    name = str(flask_babel.gettext(NAMES[qid])) if qid in NAMES else qid
    if not version.isdigit():
        return name
    return str(flask_babel.gettext("%(name)s (phiên bản %(n)s)", name=name, n=version))
