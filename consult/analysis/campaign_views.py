"""Campaigns for staff: the list, one campaign with its members and their differences, and staff's corrections.

The committee may read the pages; only staff change a campaign. A decision,
tag or response for the whole group goes through the queue's bulk action
(narrowed to the campaign), so its confirmation, conflict handling and
per-comment audit are the queue's own. Each view: load or 404, validate the
form, call the service, commit once, flash, redirect.
"""

import logging
import math
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from rq import Retry
from sqlalchemy import select

from consult.access import committee_or_staff, is_staff, staff
from consult.analysis import campaign_review
from consult.analysis.forms import CampaignMergeForm, CampaignNameForm, CampaignSplitForm, CampaignVersionForm
from consult.analysis.models import Campaign
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.errors import DomainError, form_errors
from consult.extensions import db
from consult.forms import EmptyForm
from consult.loaders import LARGEST_ID, reviewable_consultation_or_404
from consult.moderation import queries
from consult.moderation.forms import BulkForm
from consult.moderation.forms import options as moderation_options

log = logging.getLogger(__name__)

bp = Blueprint("campaigns", __name__, url_prefix="/staff")

CAMPAIGNS_PER_PAGE = 50
# The name form's fields are prefixed, as the split form on the same page has a name field too.
NAME_PREFIX = "campaign"


def _consultation_and_campaign_or_404(reference: str, campaign_id: int) -> tuple[Consultation, Campaign]:
    """The consultation under review and one of its campaigns: what a campaign URL names."""
    consultation = reviewable_consultation_or_404(reference)
    campaign = queries.campaign_of(consultation.id, campaign_id) if campaign_id <= LARGEST_ID else None
    if campaign is None:
        abort(404)
    return consultation, campaign


def _campaign_url(consultation, campaign, **args) -> str:
    return url_for("campaigns.show", reference=consultation.reference, campaign_id=campaign.id, **args)


@bp.get("/consultations/<reference>/campaigns")
@committee_or_staff
def campaigns(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    largest = campaign_review.largest_first(consultation.id)
    total = len(largest)
    pages = max(1, math.ceil(total / CAMPAIGNS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = largest[(page - 1) * CAMPAIGNS_PER_PAGE:page * CAMPAIGNS_PER_PAGE]
    found = {c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_([i for i, _ in shown])))}
    rows = [(found[campaign_id], n) for campaign_id, n in shown if campaign_id in found]
    return render_template("analysis/campaigns.html", consultation=consultation, rows=rows, total=total, page=page,
                           pages=pages, can_edit=is_staff(current_user), regroup_form=EmptyForm(), nav="campaigns")


@bp.post("/consultations/<reference>/campaigns/regroup")
@staff
def regroup(reference: str):
    """Queue a whole regrouping of the consultation on the worker; staff decisions are kept."""
    consultation = reviewable_consultation_or_404(reference)
    back = url_for("campaigns.campaigns", reference=consultation.reference)
    if not EmptyForm().validate_on_submit():
        abort(400)
    from consult.analysis.jobs import run_analysis
    from consult.analysis.triggers import RETRIES
    from consult.jobs import enqueue

    try:
        enqueue(run_analysis, consultation.id, retry=Retry(max=RETRIES))
    except Exception:
        log.warning("Could not queue the regrouping of %s.", consultation.reference, exc_info=True)
        flash("The comments could not be grouped now because the background worker is not reachable. "
              "Try again in a few minutes.", "error")
        return redirect(back)
    flash("The comments will be grouped again in the background. Campaigns you named, merged or split, "
          "and comments you detached, stay as you left them.", "success")
    return redirect(back)


def _bulk_form(consultation, campaign, size: int) -> BulkForm:
    """The queue's bulk action, narrowed to this campaign's members, for a decision, tag or response."""
    form = BulkForm(formdata=None)
    form.scope.data = "all"
    form.tag_theme.choices = moderation_options(
        [("", "Select a theme")] + [(str(t.id), t.name) for t in queries.themes_of(consultation.id)])
    form.filters.data = urlencode({"campaign": str(campaign.id), "members": "show"})
    form.snapshot.data = utcnow().isoformat()
    form.total.data = str(size)
    return form


@bp.get("/consultations/<reference>/campaigns/<int:campaign_id>")
@committee_or_staff
def show(reference: str, campaign_id: int, name_form=None, merge_form=None, split_form=None, status=200):
    consultation, campaign = _consultation_and_campaign_or_404(reference, campaign_id)
    size = campaign_review.size_of(campaign)
    typical = campaign_review.typical_member(campaign)
    members = campaign_review.member_page(campaign, typical.comment if typical else None,
                                          request.args.get("page", 1, type=int) or 1)
    can_edit = is_staff(current_user)
    forms = {}
    if can_edit:
        name_form = name_form or CampaignNameForm(formdata=None, name=campaign.name, prefix=NAME_PREFIX)
        merge_form = merge_form or CampaignMergeForm(formdata=None)
        merge_form.other.choices = moderation_options(
            [("", "Select a campaign")]
            + [(str(c.id), f"{campaign_review.label(c)} ({n} {'comment' if n == 1 else 'comments'})")
               for c, n in campaign_review.other_campaigns(campaign)])
        split_form = split_form or CampaignSplitForm(formdata=None)
        for form in (name_form, merge_form, split_form):
            form.version.data = campaign.version
        detach_form = CampaignVersionForm(formdata=None)
        detach_form.version.data = campaign.version
        forms = {"name_form": name_form, "merge_form": merge_form, "split_form": split_form,
                 "detach_form": detach_form, "bulk_form": _bulk_form(consultation, campaign, size.comments)}
    page_links = None
    if members.pages > 1:
        page_links = {
            "previous": {"href": _campaign_url(consultation, campaign, page=members.page - 1)}
            if members.page > 1 else None,
            "next": {"href": _campaign_url(consultation, campaign, page=members.page + 1)}
            if members.page < members.pages else None,
            "items": [{"number": n, "href": _campaign_url(consultation, campaign, page=n),
                       "current": n == members.page}
                      for n in range(1, members.pages + 1)
                      if n in (1, members.pages) or abs(n - members.page) <= 1],
            "landmarkLabel": "Pages of members",
        }
    return render_template("analysis/campaign.html", consultation=consultation, campaign=campaign, size=size,
                           typical=typical, members=members, page_links=page_links, can_edit=can_edit,
                           label=campaign_review.label(campaign), nav="queue", **forms), status


def _done(consultation, campaign, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(_campaign_url(consultation, campaign))


def _refused(consultation, campaign, error: DomainError):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(_campaign_url(consultation, campaign))


@bp.post("/consultations/<reference>/campaigns/<int:campaign_id>/name")
@staff
def name(reference: str, campaign_id: int):
    consultation, campaign = _consultation_and_campaign_or_404(reference, campaign_id)
    form = CampaignNameForm(prefix=NAME_PREFIX)
    if form.validate_on_submit():
        with form_errors(form, {"name": "name"}) as outcome:
            try:
                changed = campaign_review.name_campaign(campaign, form.name.data, form.version.data, current_user,
                                                        utcnow())
            except campaign_review.StaleCampaign as error:
                return _refused(consultation, campaign, error)
        if outcome.ok:
            if not changed:
                flash("The campaign already had that name.", "info")
                return redirect(_campaign_url(consultation, campaign))
            return _done(consultation, campaign, f"Campaign named ‘{campaign.name}’." if campaign.name
                         else "The campaign's name was removed.")
    return show(reference, campaign_id, name_form=form, status=400)


@bp.post("/consultations/<reference>/campaigns/<int:campaign_id>/members/<int:comment_id>/detach")
@staff
def detach(reference: str, campaign_id: int, comment_id: int):
    consultation, campaign = _consultation_and_campaign_or_404(reference, campaign_id)
    comment = db.session.get(Comment, comment_id) if comment_id <= LARGEST_ID else None
    if comment is None or comment.consultation_id != consultation.id or comment.status != CommentStatus.SUBMITTED:
        abort(404)
    reference_of = comment.reference
    form = CampaignVersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        emptied = campaign_review.detach_member(campaign, comment_id, form.version.data, current_user, utcnow())
    except DomainError as error:
        return _refused(consultation, campaign, error)
    if emptied:
        db.session.commit()
        flash(f"Comment {reference_of} was detached; the campaign had no other comments, so it was removed.",
              "success")
        return redirect(url_for("campaigns.campaigns", reference=consultation.reference))
    return _done(consultation, campaign, f"Comment {reference_of} was detached from the campaign. "
                 "It will not be put in a campaign again.")


@bp.post("/consultations/<reference>/campaigns/<int:campaign_id>/merge")
@staff
def merge(reference: str, campaign_id: int):
    consultation, campaign = _consultation_and_campaign_or_404(reference, campaign_id)
    form = CampaignMergeForm()
    if form.validate_on_submit():
        other = queries.campaign_of(consultation.id, int(form.other.data))
        if other is None and campaign_review.was_merged_into(campaign, int(form.other.data)):
            # Sent again (a double press, or Back then Merge): the first one did it.
            flash("That campaign has already been merged into this one.", "info")
            return redirect(_campaign_url(consultation, campaign))
        with form_errors(form, {"other": "other"}) as outcome:
            if other is None:
                raise campaign_review.CampaignError("Select the campaign to merge into this one", "other")
            try:
                moved = campaign_review.merge_campaigns(campaign, other, form.version.data, current_user, utcnow())
            except campaign_review.StaleCampaign as error:
                return _refused(consultation, campaign, error)
        if outcome.ok:
            return _done(consultation, campaign, f"{moved} {'comment' if moved == 1 else 'comments'} moved into "
                                                 "this campaign.")
        db.session.rollback()
    return show(reference, campaign_id, merge_form=form, status=400)


@bp.post("/consultations/<reference>/campaigns/<int:campaign_id>/split")
@staff
def split(reference: str, campaign_id: int):
    consultation, campaign = _consultation_and_campaign_or_404(reference, campaign_id)
    form = CampaignSplitForm()
    if form.validate_on_submit():
        with form_errors(form, {"selected": "selected", "name": "name"}) as outcome:
            try:
                new = campaign_review.split_members(campaign, form.comment_ids, form.name.data, form.version.data,
                                                    current_user, utcnow())
            except (campaign_review.StaleCampaign, campaign_review.NotAMember) as error:
                return _refused(consultation, campaign, error)
        if outcome.ok:
            moved = len(form.comment_ids)
            return _done(consultation, new, f"{moved} {'comment' if moved == 1 else 'comments'} moved to a new "
                                            "campaign.")
        db.session.rollback()
    return show(reference, campaign_id, split_form=form, status=400)
