from consult.comments.models import Comment, CommentStatus
from tests.conftest import sections_of


def test_stakeholder_can_take_part_comment_and_submit(client, login_as, make_consultation, post_form):
    consultation = make_consultation(reference="HTE2001")
    login_as()
    ref = consultation.reference
    response = post_form(f"/consultations/{ref}/take-part", {
        "kind": "organisation", "organisation_name": "Foot Health Charity",
        "organisation_type": "charity_or_patient_group", "has_tobacco_links": "yes",
        "tobacco_details": "A grant in 2019", "publish_name": "no",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    response = post_form(response.headers["Location"])
    assert response.status_code == 302
    section = sections_of(consultation)["2.1"]
    response = post_form(f"/consultations/{ref}/sections/{section.id}/comment",
                         {"body": "Please say more about the probe.", "quote": "A thin probe"})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = post_form(f"/consultations/{ref}/response/submit")
    assert response.status_code == 302
    receipt = client.get(f"/consultations/{ref}/response/receipt")
    assert "Response submitted" in receipt.get_data(as_text=True)
