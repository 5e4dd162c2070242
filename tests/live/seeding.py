"""What the race tests seed before they send requests at once."""

from datetime import timedelta

from consult.consultations.importing import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from tests.conftest import SAMPLE_DRAFT


def open_consultation_with_draft(reference_prefix: str, title: str):
    """A consultation open since yesterday until tomorrow, with the sample draft imported; in an app context.

    The reference ends in the current microsecond, so runs against one database do not collide.
    """
    now = utcnow()
    consultation = create_consultation(f"{reference_prefix}{now.microsecond:06d}", title, "Summary",
                                       now - timedelta(days=1), now + timedelta(days=1))
    return consultation, import_document(consultation, parse_document(SAMPLE_DRAFT))
