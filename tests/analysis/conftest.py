import json

import pytest

from consult.extensions import db
from consult.moderation.services import create_theme


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def row(external_id: str, body: str = "The evidence is too thin to offer this routinely.", **fields) -> dict:
    return {"id": external_id, "section": "1.1", "participant_type": "member_of_public", "organisation": None,
            "body": body, "themes": [], **fields}


@pytest.fixture
def consultation_with_themes(make_consultation):
    """A consultation on the sample draft (sections 1.1, 1.2, 2.1, 2.2) with two themes."""
    def make(state: str = "open"):
        consultation = make_consultation(state=state)
        create_theme(consultation.id, "Evidence", "How strong the evidence is.", None)
        create_theme(consultation.id, "Cost", "", None)
        db.session.commit()
        return consultation

    return make


@pytest.fixture
def write(tmp_path):
    def put(name: str, content) -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return put
