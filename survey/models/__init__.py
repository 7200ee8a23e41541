"""Typed SQLAlchemy models (docs/architecture.md, "Data model"). Import from here."""

from survey.models.apikey import ApiKey
from survey.models.audit import AuditEvent
from survey.models.feedback import FeedbackContact, FeedbackNote, FeedbackSetting
from survey.models.hash_key import HashKey
from survey.models.kiosk import KioskDevice
from survey.models.org import Desk, DeskCodeHistory, DeskSector, Sector, SectorGroup, Unit
from survey.models.planning import Target, Volume
from survey.models.questionnaire import QuestionnaireVersion
from survey.models.report_job import ReportJob
from survey.models.response import Comment, Response
from survey.models.rollup import RollupCell, RollupMonth
from survey.models.user import ROLES, User

__all__ = [
    "ROLES",
    "ApiKey",
    "AuditEvent",
    "Comment",
    "Desk",
    "DeskSector",
    "DeskCodeHistory",
    "FeedbackContact",
    "FeedbackNote",
    "FeedbackSetting",
    "KioskDevice",
    "HashKey",
    "QuestionnaireVersion",
    "ReportJob",
    "Response",
    "RollupCell",
    "RollupMonth",
    "Sector",
    "SectorGroup",
    "Target",
    "Unit",
    "User",
    "Volume",
]
