"""Who may use which route, declared beside each view and enforced in one place.

Every endpoint must carry a rule. ``enforce_route_access`` runs before every
request and refuses anything the rule does not allow; an endpoint without a
rule is refused outright, so a forgotten declaration fails closed (and the
route-matrix test names it).
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, request
from flask_login import current_user

from consult.accounts.models import Role


@dataclass(frozen=True)
class AccessRule:
    name: str
    needs_sign_in: bool
    roles: frozenset[Role] = frozenset()

    def allows(self, user) -> bool:
        if not self.needs_sign_in:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.role in self.roles


PUBLIC = AccessRule("public", needs_sign_in=False)
SIGNED_IN = AccessRule("signed in", needs_sign_in=True)

# Endpoints that Flask or an extension registers, whose functions we do not own.
_BUILT_IN_RULES = {"static": PUBLIC}


def _declare(rule: AccessRule) -> Callable:
    def decorator(view: Callable) -> Callable:
        view.access_rule = rule
        return view

    return decorator


public = _declare(PUBLIC)
signed_in = _declare(SIGNED_IN)


def roles(*allowed: Role) -> Callable:
    """Signed in with one of these roles; admins are not implied, name them."""
    return _declare(AccessRule("roles: " + ", ".join(r.value for r in allowed), True, frozenset(allowed)))


# Staff build consultations and moderate; admins can do all that staff can.
staff = roles(Role.STAFF, Role.ADMIN)
admin = roles(Role.ADMIN)
# Committee pages: the route admits the role, the object rule below admits the consultation.
committee_or_staff = roles(Role.COMMITTEE, Role.STAFF, Role.ADMIN)


def is_staff(user) -> bool:
    return user.is_authenticated and user.role in (Role.STAFF, Role.ADMIN)


def can_review_consultation(user, consultation) -> bool:
    """Staff review every consultation; a committee member only those they are assigned to."""
    if is_staff(user):
        return True
    if not user.is_authenticated or user.role is not Role.COMMITTEE:
        return False
    from consult.consultations.models import CommitteeAssignment
    from consult.extensions import db

    return db.session.get(CommitteeAssignment, (consultation.id, user.id)) is not None


def can_preview_drafts(user) -> bool:
    """Those who build consultations (staff and admins) may read a draft's public pages before the public can.

    Only the read-only pages: taking part, commenting and answering wait until the draft is made public.
    """
    return is_staff(user)


def can_see_original_of_redacted(user) -> bool:
    """The original text of a redacted comment is for admins only."""
    return user.is_authenticated and user.role is Role.ADMIN


def rule_for_endpoint(endpoint: str) -> AccessRule | None:
    if endpoint in _BUILT_IN_RULES:
        return _BUILT_IN_RULES[endpoint]
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def enforce_route_access():
    """Refuse a request its route's rule does not allow (sign-in redirect, or 403)."""
    if request.endpoint is None:  # no route matched: let the 404/405 handlers answer
        return None
    rule = rule_for_endpoint(request.endpoint)
    if rule is None:
        current_app.logger.error("Route %s has no access rule; refusing.", request.endpoint)
        abort(403)
    if rule.allows(current_user):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    abort(403)
