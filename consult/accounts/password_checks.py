"""Password checks of a signed-in person, counted with the account's failed sign-ins.

For the pages of any domain that ask for the current password before a
serious act (changing it, deleting the account); a helper for views, so it
reads the device cookie from the request and commits the count itself.
"""

from flask import request

from consult.accounts import throttling
from consult.database import utcnow
from consult.extensions import db


def count_password_check(email: str, field: str) -> throttling.Attempt:
    """Count a signed-in person's password check before it is made, in the account's sign-in count.

    Changing a password and deleting an account ask for the current one, so
    without this a stolen session cookie could guess it without limit. The
    attempt is committed at once, as at sign-in; the caller gives it back
    (throttling.give_back_sign_in_attempt) in the commit of a correct one.
    Raises TooManyWrongPasswords, which the form shows beside `field`.
    """
    device = throttling.trusted_device(request.cookies.get(throttling.DEVICE_COOKIE), email)
    try:
        attempt = throttling.count_sign_in_attempt(email, device, utcnow())
    except throttling.TooManySignInAttempts as refused:
        db.session.rollback()
        raise throttling.TooManyWrongPasswords(refused.retry_at, field) from None
    db.session.commit()
    return attempt
