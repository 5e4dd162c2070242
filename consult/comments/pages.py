"""Pages of taking part that every way of responding shows alike: the comment forms, an organisation's pages."""

from flask import render_template

from consult.comments import services


def not_open_page(consultation, participation, error: services.ConsultationNotOpen | None = None):
    """Closed or not yet open: say so, and what it means for this person's response, instead of a form.

    Every page that would offer to write, send or submit shows this when the
    consultation does not take responses, so nobody is offered a button that
    will be refused. Drafts stay readable on the response pages.
    """
    error = error or services.ConsultationNotOpen(consultation, consultation.status)
    return render_template("comments/not_open.html", consultation=consultation,
                           participation=participation, message=error.message), error.status
