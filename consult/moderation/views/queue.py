"""The dashboard of consultations, and one consultation's queue of comments with its filters."""

from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_login import current_user

from consult.access import committee_or_staff, is_staff
from consult.database import utcnow
from consult.loaders import reviewable_consultation_or_404
from consult.moderation import queries, services
from consult.moderation.filters import filter_form, filters_of
from consult.moderation.forms import BulkForm, DeleteSavedViewForm, SavedViewForm, options
from consult.moderation.views import bp


@bp.get("/")
@committee_or_staff
def dashboard():
    consultations = queries.reviewable_consultations(current_user)
    progress = queries.progress_for(c.id for c in consultations)
    can_edit = is_staff(current_user)
    saved_views = {}
    if can_edit:
        for view in services.views_of(current_user):
            saved_views.setdefault(view.consultation_id, []).append(view)
    return render_template("moderation/dashboard.html", consultations=consultations, progress=progress,
                           can_edit=can_edit, saved_views=saved_views, now=utcnow(),
                           delete_form=DeleteSavedViewForm(formdata=None) if can_edit else None)


def bulk_choices(form: BulkForm, themes) -> None:
    form.tag_theme.choices = options([("", "Select a theme")] + [(str(t.id), t.name) for t in themes])


def render_queue(consultation, args, bulk_form: BulkForm | None = None, status: int = 200,
                 view_form: SavedViewForm | None = None):
    """The queue as `args` filter it; `bulk_form` or `view_form` is shown again with its errors, if given."""
    themes = queries.themes_of(consultation.id)
    documents = queries.documents_with_parts(consultation.id)
    filters_form = filter_form(consultation, args, themes, documents)
    page_of = queries.collapsed_queue_page if filters_form.collapses_campaigns else queries.queue_page
    page = page_of(consultation.id, filters_of(filters_form), page=args.get("page", 1, type=int) or 1,
                   per_page=filters_form.page_size)
    can_edit = is_staff(current_user)
    if can_edit:
        if bulk_form is None:
            bulk_form = BulkForm(formdata=None)
        # The page shows the queue as it is now, so a new choice starts from now.
        bulk_choices(bulk_form, themes)
        bulk_form.filters.data = urlencode(filters_form.query_args())
        bulk_form.snapshot.data = utcnow().isoformat()
        bulk_form.total.data = "" if page.total_is_a_floor else str(page.total)
        if view_form is None:
            view_form = SavedViewForm(formdata=None)
        view_form.filters.data = urlencode(filters_form.query_args())
    query_args = filters_form.query_args()
    selected = set(bulk_form.selected.data or []) if bulk_form is not None else set()
    return render_template(
        "moderation/queue.html", consultation=consultation, filters_form=filters_form, bulk_form=bulk_form,
        page=page, query_args=query_args, page_links=_page_links(consultation, page, query_args),
        comment_args={**query_args, **({"page": str(page.page)} if page.page > 1 else {})},
        progress=queries.progress_for([consultation.id])[consultation.id], can_edit=can_edit,
        selected=selected, filtered=any(k != "per_page" for k in query_args), many_documents=len(documents) > 1,
        view_form=view_form, search=query_args.get("q", ""), now=utcnow(), reading_for=services.READING_FOR,
        **_campaign_shown(consultation, filters_form),
    ), status


def _campaign_shown(consultation, filters_form) -> dict:
    """The campaign the queue is narrowed to, if any, so the page can name it; or that it is gone (merged
    away, or regrouped), so an old link's empty list is not taken for a campaign with no comments."""
    value = filters_form.campaign.data
    if not value or filters_form.campaign.errors:
        return {"campaign": None, "campaign_gone": False}
    campaign = queries.campaign_of(consultation.id, int(value))
    return {"campaign": campaign, "campaign_gone": campaign is None}


def _page_links(consultation, page: queries.QueuePage, query_args: dict) -> dict | None:
    """govukPagination parameters: first, last, and the pages either side of this one."""
    if page.pages <= 1:
        return None

    def href(number: int) -> str:
        return url_for("moderation.queue", reference=consultation.reference, **query_args, page=number)

    items, last_shown = [], 0
    # When the count stopped at its limit the last page is not known, so none is offered as the last.
    last = None if page.total_is_a_floor else page.pages
    for number in range(1, page.pages + 1):
        if number in (1, last) or abs(number - page.page) <= 1:
            if number - last_shown > 1:
                items.append({"ellipsis": True})
            items.append({"number": number, "href": href(number), "current": number == page.page})
            last_shown = number
    return {
        "previous": {"href": href(page.page - 1)} if page.page > 1 else None,
        "next": {"href": href(page.page + 1)} if page.page < page.pages else None,
        "items": items,
        "landmarkLabel": "Pages of comments",
    }


@bp.get("/consultations/<reference>/comments")
@committee_or_staff
def queue(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    return render_queue(consultation, request.args)
