"""An organisation's one response under real concurrent requests to a live server.

Two leads of one organisation submitting at the same moment end with one
submission; a colleague sending while the lead submits either lands first
(and is in the submission) or is refused with a clear message.
"""

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import Comment, CommentStatus, OrganisationType, Participation
from consult.consultations.importing import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from tests.conftest import PASSWORD, SAMPLE_DRAFT, new_user, sections_of
from tests.liveserver import all_at_once, signed_in_tab

pytestmark = pytest.mark.live
RACES = 5
_unique = count(1)


def _draft(participation, body: str) -> None:
    section = sections_of(participation.consultation)["2.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), body, None, utcnow())


def _organisation(live_server, leads: int, with_colleague: bool):
    """An open consultation; an organisation with `leads` leads who each have a draft; maybe a colleague's draft."""
    with live_server.app_context():
        now = utcnow()
        n = next(_unique)
        consultation = create_consultation(f"ORG{n:03d}{now.microsecond:06d}"[:12], "Race", "Summary",
                                           now - timedelta(days=1), now + timedelta(days=1))
        import_document(consultation, parse_document(SAMPLE_DRAFT))
        admin = new_user(name="Admin", email=f"admin{n}-{now.timestamp()}@example.org", role=Role.ADMIN)
        lead_users = []
        for i in range(leads):
            user = new_user(name=f"Lead {i}", email=f"lead{i}-{n}-{now.timestamp()}@example.org")
            services.mark_lead(user, f"Race Organisation {n} {now.timestamp()}",
                               OrganisationType.OTHER, admin)
            lead_users.append(user)
        code = services.share_code(lead_users[0], consultation, now)
        for user in lead_users:
            _draft(services.start_lead_response(user, consultation, now), f"{user.name}'s own comment")
        colleague_email = None
        if with_colleague:
            colleague = new_user(name="Colleague", email=f"colleague-{n}-{now.timestamp()}@example.org")
            _draft(services.join_with_code(colleague, consultation, code.code, now), "The colleague's comment")
            colleague_email = colleague.email
        db.session.commit()
        return (consultation.reference, consultation.id, code.organisation_id, [u.email for u in lead_users],
                colleague_email)


def test_two_leads_submitting_at_once_end_with_one_submission(live_server):
    for _ in range(RACES):
        reference, consultation_id, organisation_id, emails, _ = _organisation(live_server, 2, False)
        submit = f"/consultations/{reference}/organisation/lead/submit"
        tabs = [signed_in_tab(live_server, email, PASSWORD) for email in emails]
        tokens = [tab.token(submit) for tab in tabs]
        responses = all_at_once([
            (lambda tab=tab, token=token: tab.post(submit, {"has_tobacco_links": "no"}, token=token))
            for tab, token in zip(tabs, tokens)])
        assert all(r.status_code == 302 for r in responses), [(r.status_code, r.text[:300]) for r in responses]
        with live_server.app.app_context():
            submitted = db.session.scalars(select(Participation).where(
                Participation.organisation_id == organisation_id, Participation.consultation_id == consultation_id,
                Participation.submitted_at.is_not(None))).all()
            assert len(submitted) == 1
        pages = [tab.get(f"/consultations/{reference}/organisation").text for tab in tabs]
        assert all("Your organisation has already responded to this consultation." in page for page in pages)


def test_a_colleague_sending_while_the_lead_submits_is_in_the_submission_or_refused(live_server):
    outcomes = set()
    for _ in range(RACES):
        reference, consultation_id, organisation_id, (lead_email,), colleague_email = _organisation(
            live_server, 1, True)
        submit = f"/consultations/{reference}/organisation/lead/submit"
        send = f"/consultations/{reference}/organisation/send"
        lead, colleague = (signed_in_tab(live_server, lead_email, PASSWORD),
                           signed_in_tab(live_server, colleague_email, PASSWORD))
        lead_token, colleague_token = lead.token(submit), colleague.token(send)
        submitted, sent = all_at_once([
            lambda: lead.post(submit, {"has_tobacco_links": "no"}, token=lead_token),
            lambda: colleague.post(send, token=colleague_token),
        ])
        assert submitted.status_code == 302 and submitted.headers["Location"].endswith("/response/receipt")
        assert sent.status_code in (302, 409), sent.text[:300]
        with live_server.app.app_context():
            original = db.session.scalar(select(Comment).join(Participation).where(
                Participation.consultation_id == consultation_id, Comment.body == "The colleague's comment",
                Comment.original_comment_id.is_(None)))
            copies = db.session.scalars(select(Comment).where(Comment.original_comment_id == original.id)).all()
            if original.sent_to_lead_at is not None:
                # The send landed first: the lead's submission holds its copy.
                assert sent.status_code == 302
                assert [c.status for c in copies] == [CommentStatus.SUBMITTED]
                outcomes.add("in the submission")
            else:
                # The submission landed first: the send was refused, clearly, and nothing was copied.
                assert sent.status_code == 409
                assert "Your organisation has already responded to this consultation" in sent.text
                assert copies == []
                outcomes.add("refused")
    assert outcomes  # each race ended one way or the other, never half-way
