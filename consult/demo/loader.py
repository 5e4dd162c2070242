"""Demo content for `make run`: three consultations (open, upcoming, closed) and sample comments,
and in development only an account for each role.

Dates are set relative to today so that the demo always has one of each.
Loading twice changes nothing: existing references are left as they are.
"""

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app

from consult.accounts import services as accounts
from consult.accounts.models import Role
from consult.comments import services as comments
from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.consultations import services as consultations
from consult.consultations.importing import parse_document
from consult.consultations.models import CommitteeAssignment, Consultation
from consult.extensions import db
from consult.questions import services as questions
from consult.uk_time import display_zone, uk_local_time

CONTENT = Path(__file__).parent / "content"
# For local use only: create_demo_accounts() runs in development mode and nowhere else.
DEMO_PASSWORD = "demo-password-2026"


def uk_5pm(day: date) -> datetime:
    """NICE consultations close at 5pm UK time, whatever the season."""
    return uk_local_time(day, time(17, 0))


def _window(state: str, today: date) -> tuple[datetime, datetime]:
    if state == "open":
        return uk_5pm(today - timedelta(days=10)), uk_5pm(today + timedelta(days=25))
    if state == "upcoming":
        return uk_5pm(today + timedelta(days=14)), uk_5pm(today + timedelta(days=42))
    return uk_5pm(today - timedelta(days=60)), uk_5pm(today - timedelta(days=18))


def load_demo(now: datetime) -> list[str]:
    """Create whatever demo consultations are missing; returns the references created."""
    created = []
    for entry in json.loads((CONTENT / "consultations.json").read_text(encoding="utf-8")):
        if consultations.find_consultation(entry["reference"]) is not None:
            continue
        opens_at, closes_at = _window(entry["state"], now.astimezone(display_zone()).date())
        consultation = consultations.create_consultation(
            entry["reference"], entry["title"], entry["summary"], opens_at, closes_at)
        parsed = parse_document((CONTENT / entry["document"]).read_text(encoding="utf-8"))
        document = consultations.import_document(consultation, parsed)
        # Written the day before it opens, as staff would, so that every demo consultation asks them.
        questions.add_standard_questions(None, consultation, opens_at - timedelta(days=1))
        _add_sample_comments(consultation, document, entry.get("sample_comments", []))
        created.append(consultation.reference)
    return created


def _add_sample_comments(consultation: Consultation, document, samples: list[dict]) -> None:
    """Submitted comments from fictional stakeholders, made while the consultation was open.

    Their accounts have no password anyone could use: a password written here would be known to everyone
    who reads the source, wherever the demo is loaded.
    """
    during = consultation.closes_at - timedelta(days=3)
    sections = {s.number: s for chapter in document.chapters for s in chapter.sections}
    chapters = {c.number: c for c in document.chapters}
    for index, sample in enumerate(samples, start=1):
        email = f"sample-stakeholder-{consultation.reference.lower()}-{index}@example.org"
        user = accounts.find_user_by_email(email) or accounts.register_user(email, sample["name"], None)
        participation = comments.choose_participation(user, consultation, comments.ParticipationChoice(
            kind=ParticipantKind(sample["participant"]),
            individual_type=IndividualType(sample["individual_type"]) if sample["individual_type"] else None,
            organisation_name=sample["organisation_name"],
            organisation_type=OrganisationType(sample["organisation_type"]) if sample["organisation_type"] else None,
            has_tobacco_links=sample["has_tobacco_links"],
            publish_name=sample["publish_name"],
        ), during)
        if sample["target"] == "section":
            section = sections[sample["section"]]
            target = comments.CommentTargetRef(document=document, chapter=section.chapter, section=section)
        elif sample["target"] == "chapter":
            target = comments.CommentTargetRef(document=document, chapter=chapters[sample["chapter"]])
        else:
            target = comments.CommentTargetRef(document=document)
        comments.save_draft(participation, target, sample["body"], sample["quote"], during)
        comments.submit_response(participation, during, send_receipt=False)  # to an address no one reads


DEMO_ACCOUNTS = [
    ("stakeholder@example.org", "Sam Stakeholder", Role.STAKEHOLDER),
    ("staff@example.org", "Sasha Staff", Role.STAFF),
    ("committee@example.org", "Chris Committee", Role.COMMITTEE),
    ("admin@example.org", "Ada Admin", Role.ADMIN),
]
COMMITTEE_EMAIL = "committee@example.org"
# An organisation's commenting lead, so that sharing a code and compiling a response can be tried.
LEAD_ACCOUNT = ("lead@example.org", "Lee Lead")
LEAD_ORGANISATION = ("Forefoot Pain Support Network", OrganisationType.CHARITY_OR_PATIENT_GROUP)
# The committee member reviews the consultations whose comments are in: open and closed.
COMMITTEE_STATES = ("open", "closed")


class DemoAccountsRefused(RuntimeError):
    pass


def create_demo_accounts() -> list[tuple[str, str]]:
    """Ready-made accounts, one per role, with DEMO_PASSWORD; development only.

    Refuses outright anywhere but development, so that a known password can
    never reach another environment. Missing accounts are created and the
    committee member is assigned to the demo's open and closed
    consultations; existing accounts keep whatever role they now have.
    Returns the (email, role) of each account created.
    """
    if current_app.config["ENV_NAME"] != "development":
        raise DemoAccountsRefused("Demo accounts are created in development only.")
    made = []
    for email, name, role in DEMO_ACCOUNTS:
        if accounts.find_user_by_email(email) is None:
            accounts.register_user(email, name, DEMO_PASSWORD, role)
            made.append((email, role.value))
    _assign_demo_committee(accounts.find_user_by_email(COMMITTEE_EMAIL))
    made.extend(_create_demo_lead())
    return made


def _create_demo_lead() -> list[tuple[str, str]]:
    """A stakeholder account that leads the demo organisation; left alone if it is there."""
    from consult.organisations import services as organisations

    email, name = LEAD_ACCOUNT
    if accounts.find_user_by_email(email) is not None:
        return []
    lead = accounts.register_user(email, name, DEMO_PASSWORD, Role.STAKEHOLDER)
    organisations.mark_lead(lead, *LEAD_ORGANISATION, actor=None)
    return [(email, f"{Role.STAKEHOLDER.value}, commenting lead of {LEAD_ORGANISATION[0]}")]


def _assign_demo_committee(member) -> None:
    for entry in json.loads((CONTENT / "consultations.json").read_text(encoding="utf-8")):
        if entry["state"] not in COMMITTEE_STATES:
            continue
        consultation = consultations.find_consultation(entry["reference"])
        if consultation is None or db.session.get(CommitteeAssignment, (consultation.id, member.id)):
            continue
        db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.flush()
