"""The rules for consultations, in four rooms, all importable from here.

* ``consultations``: finding consultations, creating them and editing their details;
* ``closing``: closing an open consultation now, and who that affects;
* ``documents``: storing a parsed draft as chapters and numbered sections, and replacing it;
* ``committee``: which committee members may review a consultation.

Staff services take the acting staff member, record an audit event, flush and never commit. Their
errors are DomainErrors: 422 for a typed value the service cannot accept (the page shows the form
again, as for its own checks), 409 for a clash with what is saved now.
"""

from consult.consultations.services.closing import (
    ClosingCounts,
    NotOpenToClose,
    check_closable,
    close_consultation,
    closing_counts,
)
from consult.consultations.services.committee import (
    AlreadyAssigned,
    CommitteeAssignmentError,
    NotACommitteeMember,
    NotAssigned,
    UnknownCommitteeMember,
    assign_committee_member,
    list_committee_members,
    unassign_committee_member,
)
from consult.consultations.services.consultations import (
    EDITABLE_FIELDS,
    ConsultationDatesInvalid,
    ConsultationDetails,
    DetailsFixed,
    DuplicateReference,
    EditConflict,
    add_consultation,
    create_consultation,
    details_digest,
    edit_consultation,
    find_consultation,
    find_public_consultation,
    has_opened,
    latest_details_change,
    list_all_consultations,
    list_public_consultations,
    load_consultation_for_staff,
    reference_is_fixed,
)
from consult.consultations.services.documents import (
    MAX_CHAPTER_NUMBER_CHARS,
    MAX_SECTION_NUMBER_CHARS,
    MAX_TITLE_CHARS,
    DocumentHasComments,
    add_document,
    check_parsed_document,
    check_replaceable,
    count_comments_on_document,
    import_document,
    load_document,
    replace_document,
)

__all__ = [
    "EDITABLE_FIELDS",
    "MAX_CHAPTER_NUMBER_CHARS",
    "MAX_SECTION_NUMBER_CHARS",
    "MAX_TITLE_CHARS",
    "AlreadyAssigned",
    "ClosingCounts",
    "CommitteeAssignmentError",
    "ConsultationDatesInvalid",
    "ConsultationDetails",
    "DetailsFixed",
    "DocumentHasComments",
    "DuplicateReference",
    "EditConflict",
    "NotACommitteeMember",
    "NotAssigned",
    "NotOpenToClose",
    "UnknownCommitteeMember",
    "add_consultation",
    "add_document",
    "assign_committee_member",
    "check_closable",
    "check_parsed_document",
    "check_replaceable",
    "close_consultation",
    "closing_counts",
    "count_comments_on_document",
    "create_consultation",
    "details_digest",
    "edit_consultation",
    "find_consultation",
    "find_public_consultation",
    "has_opened",
    "import_document",
    "latest_details_change",
    "list_all_consultations",
    "list_committee_members",
    "list_public_consultations",
    "load_consultation_for_staff",
    "load_document",
    "reference_is_fixed",
    "replace_document",
    "unassign_committee_member",
]
