"""The states staff move a submitted comment and its response through."""

from consult.database import LabelledEnum


class ModerationState(LabelledEnum):
    NEW = ("new", "New")
    ACCEPTED = ("accepted", "Accepted")
    REJECTED = ("rejected", "Rejected")
    REDACTED = ("redacted", "Redacted")


# The comments publication makes public (exports.publication decides what they show).
PUBLIC_STATES = (ModerationState.ACCEPTED, ModerationState.REDACTED)


class RejectionReason(LabelledEnum):
    OFFENSIVE = ("offensive", "Offensive")
    PERSONAL_DATA = ("personal_data", "Contains personal data")
    OUT_OF_SCOPE = ("out_of_scope", "Out of scope")
    DUPLICATE = ("duplicate", "Duplicate")
    SPAM = ("spam", "Spam")
    OTHER = ("other", "Other")


class ResponseState(LabelledEnum):
    DRAFT = ("draft", "Draft")
    AGREED = ("agreed", "Agreed")
    NOT_NEEDED = ("not_needed", "No response needed")


class TagSource(LabelledEnum):
    PERSON = ("person", "Tagged by a person")
    SYSTEM = ("system", "Suggested by the system")
