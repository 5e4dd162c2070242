from datetime import timedelta

import pytest

from consult.accounts.models import Role
from consult.database import utcnow
from consult.extensions import db
from consult.questions import services
from consult.questions.models import QuestionKind
from tests.conftest import new_consultation, new_user

EVIDENCE = "Has all of the relevant evidence been taken into account?"
IMPACT = "What would be the impact of these recommendations on your practice?"


def open_now(consultation) -> None:
    """Move an upcoming consultation's opening into the past, as time passing would."""
    consultation.opens_at = utcnow() - timedelta(days=1)
    db.session.commit()


@pytest.fixture
def staff_user(app_context):
    return new_user(name="Sam Staff", role=Role.STAFF)


@pytest.fixture
def asking(app_context, staff_user):
    """An open consultation asking a yes/no question and then an open one, written while it was upcoming."""
    consultation = new_consultation(state="upcoming")
    yes_no = services.add_question(staff_user, consultation,
                                   services.QuestionDraft(QuestionKind.YES_NO, EVIDENCE), utcnow())
    open_question = services.add_question(staff_user, consultation,
                                          services.QuestionDraft(QuestionKind.OPEN, IMPACT), utcnow())
    db.session.commit()
    open_now(consultation)
    return consultation, yes_no, open_question
