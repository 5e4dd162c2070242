"""Every model, imported in one place so that mappers and migrations see the whole schema."""

from consult.accounts.models import SignInFailureCount, User  # noqa: F401
from consult.analysis.models import (  # noqa: F401
    Campaign,
    CampaignMember,
    CommentEmbedding,
    SuggestionRun,
    ThemeSuggestion,
)
import consult.analysis.triggers  # noqa: F401,E402  queues suggestion refreshes after tag changes
from consult.audit.models import AuditEvent  # noqa: F401
from consult.background.models import BackgroundJob  # noqa: F401
from consult.comments.models import Comment, Participation  # noqa: F401
from consult.consultations.models import (  # noqa: F401
    Chapter,
    CommitteeAssignment,
    Consultation,
    Document,
    Section,
)
from consult.mail.models import OutboxEmail  # noqa: F401
from consult.moderation.models import (  # noqa: F401
    CommentResponse, CommentTheme, ModerationDecision, ProgressCounter, SavedView, Theme, TriageMark,
)
from consult.organisations.models import Organisation, OrganisationCode, OrganisationLead  # noqa: F401
from consult.questions.models import Answer, Question  # noqa: F401
