"""Answers to "How are you taking part?" and a way to give them page by page, as a person does."""

import html
import re

AS_PATIENT = {"kind": "individual", "individual_type": "patient_or_carer",
              "has_tobacco_links": "no", "other_interests": "", "publish_name": "no"}
AS_CHARITY = {"kind": "organisation", "organisation_name": "Foot Health Charity",
              "organisation_type": "charity_or_patient_group", "has_tobacco_links": "yes",
              "tobacco_details": "A grant in 2019", "other_interests": "We sell insoles",
              "publish_name": "no"}


def answer_questions(post_form, start: str, answers: dict) -> str:
    """Answer each question page in turn, from `start`, until the check page; returns its address.

    Every page is sent all of `answers` and takes only its own question's fields from them.
    """
    url = start
    for _ in range(10):
        response = post_form(url, {key: value for key, value in answers.items() if value is not None})
        assert response.status_code == 302, (url, response.get_data(as_text=True)[:2000])
        url = response.headers["Location"]
        if "/take-part/check" in url:
            return url
    raise AssertionError(f"the questions never reached the check page (last {url})")


def shown_on(page: str) -> str:
    """The fingerprint a confirm page carries of what it showed (forms.ConfirmShownForm)."""
    found = re.search(r'<input[^>]*name="shown"[^>]*value="([^"]*)"', page)
    assert found, "no confirm form on this page"
    return html.unescape(found.group(1))


def confirm(client, post_form, url: str, **kwargs):
    """Press a confirm page's button as a browser does: with what the page showed."""
    return post_form(url, {"shown": shown_on(client.get(url).get_data(as_text=True))}, **kwargs)
