"""Seeding an organisation's response on the live server, for the organisation pages' browser tests."""

from playwright.sync_api import expect

from consult.accounts.services import find_user_by_email, register_user
from consult.comments import services as comment_services
from consult.comments.models import OrganisationType
from consult.consultations.models import Document
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from tests.browser.conftest import (
    PASSWORD,
    QUOTE_SECTION,
    SeededConsultation,
    seed_user,
    sign_in_over_http,
    unique,
)


def seed_lead(live_server) -> str:
    """A stakeholder made the commenting lead of a new organisation; returns their email address."""
    email = seed_user(live_server, name="Lena Lead")
    with live_server.app_context():
        services.mark_lead(find_user_by_email(email), f"Neuroma Support {unique('')}",
                           OrganisationType.CHARITY_OR_PATIENT_GROUP, None)
    return email


def seed_code(live_server, lead_email: str, seeded: SeededConsultation) -> str:
    """The lead's shared code for the consultation (starting the lead's response)."""
    with live_server.app_context():
        document = db.session.get(Document, seeded.document_id)
        return services.share_code(find_user_by_email(lead_email), document.consultation, utcnow()).code


def seed_colleague(live_server, seeded: SeededConsultation, code: str, sent: bool = False) -> str:
    """A colleague who joined with the code and wrote one comment on section 2.5, maybe sent to the lead."""
    email = seed_user(live_server, name="Cal Colleague")
    with live_server.app_context():
        document = db.session.get(Document, seeded.document_id)
        participation = services.join_with_code(find_user_by_email(email), document.consultation, code, utcnow())
        section = next(s for c in document.chapters for s in c.sections if s.number == QUOTE_SECTION)
        comment_services.save_draft(participation, comment_services.CommentTargetRef(
            document=document, chapter=section.chapter, section=section),
            "Say how long the freezing takes.", None, utcnow())
        if sent:
            services.send_to_lead(participation, utcnow())
    return email


def long_email() -> str:
    """A unique 73-character email address, with nothing a line could break at before the @."""
    return f"{'c' * 53}{unique('').lower()}@example.org"


def long_name() -> str:
    """A unique 48-character name with no spaces."""
    return f"Wolfeschlegelsteinhausenbergerdorff{'x' * 5}{unique('')}"


def seed_long_named_organisation(live_server, seeded: SeededConsultation) -> tuple[str, str]:
    """A lead and a colleague with long names and email addresses: one comment sent, one kept back.

    Returns the lead's and the colleague's email addresses.
    """
    lead_email, colleague_email = long_email(), long_email()
    with live_server.app_context():
        lead = register_user(lead_email, long_name(), PASSWORD)
        services.mark_lead(lead, f"Neuroma Support {unique('')}", OrganisationType.CHARITY_OR_PATIENT_GROUP, None)
        document = db.session.get(Document, seeded.document_id)
        code = services.share_code(lead, document.consultation, utcnow()).code
        colleague = register_user(colleague_email, long_name(), PASSWORD)
        participation = services.join_with_code(colleague, document.consultation, code, utcnow())
        section = next(s for c in document.chapters for s in c.sections if s.number == QUOTE_SECTION)
        target = comment_services.CommentTargetRef(document=document, chapter=section.chapter, section=section)
        comment_services.save_draft(participation, target, "Say how long the freezing takes.", None, utcnow())
        services.send_to_lead(participation, utcnow())
        comment_services.save_draft(participation, target, "Kept back for now.", None, utcnow())
    return lead_email, colleague_email


# --- The organisation pages, for the accessibility checks (tests/browser/test_accessibility.py) ---------

def _signed_in_lead(scene) -> str:
    email = seed_lead(scene.live_server)
    code = seed_code(scene.live_server, email, scene.open)
    seed_colleague(scene.live_server, scene.open, code, sent=True)
    sign_in_over_http(scene.page.context, email)
    return code


def enter_code(scene) -> None:
    scene.signed_in(take_part=False)
    scene.goto(f"{scene.open.path}/organisation/code")


def enter_code_already_taking_part(scene) -> None:
    scene.signed_in()
    scene.goto(f"{scene.open.path}/organisation/code")
    expect(scene.page.get_by_role("heading", name="You cannot use an organisation code")).to_be_visible()


def enter_code_empty(scene) -> None:
    enter_code(scene)
    scene.press("Continue")
    scene.expect_errors("Enter your organisation’s code")


def enter_code_incorrect(scene) -> None:
    enter_code(scene)
    scene.page.get_by_label("Enter your organisation code").fill("9999 9999 9999")
    scene.press("Continue")
    scene.expect_errors("Incorrect code. Check the code with your organisation’s commenting lead and try again.")


def confirm_code(scene) -> None:
    lead_email = seed_lead(scene.live_server)
    code = seed_code(scene.live_server, lead_email, scene.open)
    enter_code(scene)
    scene.page.get_by_label("Enter your organisation code").fill(code)
    scene.press("Continue")


def colleague_hub(scene) -> None:
    code = seed_code(scene.live_server, seed_lead(scene.live_server), scene.open)
    sign_in_over_http(scene.page.context, seed_colleague(scene.live_server, scene.open, code))
    scene.goto(f"{scene.open.path}/organisation")


def send_to_lead(scene) -> None:
    colleague_hub(scene)
    scene.goto(f"{scene.open.path}/organisation/send")


def lead_hub(scene) -> None:
    _signed_in_lead(scene)
    scene.goto(f"{scene.open.path}/organisation")


def lead_response(scene) -> None:
    _signed_in_lead(scene)
    scene.goto(f"{scene.open.path}/organisation/lead/response")


def lead_submit_unanswered(scene) -> None:
    _signed_in_lead(scene)
    scene.goto(f"{scene.open.path}/organisation/lead/submit")
    scene.press("Submit your organisation’s response")
    scene.expect_errors("Select yes if your organisation has links with the tobacco industry")


def admin_lead(scene) -> None:
    sign_in_over_http(scene.page.context, scene.staff.admin_email)
    scene.goto(f"/admin/users/{scene.staff.stakeholder_id}/organisation")


ORGANISATION_PAGES = [
    ("organisation-enter-code", enter_code),
    ("organisation-enter-code-error-empty", enter_code_empty),
    ("organisation-enter-code-error-incorrect", enter_code_incorrect),
    ("organisation-enter-code-already-taking-part", enter_code_already_taking_part),
    ("organisation-confirm-code", confirm_code),
    ("organisation-colleague", colleague_hub),
    ("organisation-send-to-lead", send_to_lead),
    ("organisation-lead", lead_hub),
    ("organisation-lead-response", lead_response),
    ("organisation-lead-submit-error", lead_submit_unanswered),
    ("organisation-admin-lead", admin_lead),
]
