"""One error path: every broken rule is a DomainError, and one place turns it into a page.

A service raises a DomainError subclass with the sentence to show, the form
field the sentence is about (if any) and the HTTP status that fits. A view
either puts the sentence beside its field with ``form_errors`` and shows the
form again, or lets the error escape, when the app-level handler (registered
in ``create_app``) rolls back and shows a clear page with that status. So no
rule broken by a person ever reaches them as a 500.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


class DomainError(Exception):
    """A broken rule, with the sentence to show the person who broke it.

    Subclasses set ``message``, ``field`` and ``status`` as class attributes
    or per instance; the constructor accepts all three for one-off errors.
    """

    message: str = "This action is not allowed."
    field: str | None = None  # the form field the message is about, if any
    status: int = 400

    def __init__(self, message: str | None = None, field: str | None = None, status: int | None = None):
        super().__init__(message or self.message)
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


# Fields that never carry a person's answer, so a message never goes beside them.
_NOT_ANSWERS = ("CSRFTokenField", "HiddenField", "SubmitField")


def attach_error(form, error: DomainError, fields: Mapping[str, str] | None = None) -> None:
    """Put the error's sentence beside the field it is about, so that the error summary links to it.

    ``fields`` maps a service's field names to the form's where they differ.
    An error about no field (or one the form lacks) goes on the form's first
    answer field, so the summary still shows it.
    """
    name = (fields or {}).get(error.field, error.field)
    if not name or name not in form:
        name = next((f.name for f in form if f.type not in _NOT_ANSWERS), None)
    if name is None:
        form.form_errors.append(str(error))
        return
    form[name].errors = [*form[name].errors, str(error)]


@dataclass
class Outcome:
    """What ``form_errors`` saw: the error, if the service refused."""

    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The status to show the form again with: 200, or the error's own."""
        return 200 if self.error is None else self.error.status


@contextmanager
def form_errors(form, fields: Mapping[str, str] | None = None) -> Iterator[Outcome]:
    """Run the service calls in the block; a DomainError rolls back and lands on the form.

    Usage, in a view::

        with form_errors(form) as outcome:
            services.save_draft(...)
        if outcome.ok:
            db.session.commit()
            return redirect(...)
        return render_template(..., form=form), outcome.status
    """
    from consult.extensions import db

    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        attach_error(form, error, fields)
        outcome.error = error
