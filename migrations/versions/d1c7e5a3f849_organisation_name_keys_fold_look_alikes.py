"""Organisation name keys in the one form names are now compared in.

An organisation's name_key folded case and spacing only, so a zero-width
space or a Greek or Cyrillic look-alike letter made a "new" organisation
beside one with a commenting lead. Names are now compared as
consult.text.name_key makes them (NFKC, invisible characters removed, case
folded, look-alikes read as Latin); the keys on record are remade by that
function, so that the organisations found by name are the ones the app
would find. Two organisations already on record whose names now fold to
one key are both kept: the later keeps its old key, for an admin to see.

Revision ID: d1c7e5a3f849
Revises: b6e1d8f3a925
Create Date: 2026-12-06
"""
import re

import sqlalchemy as sa
from alembic import op

from consult.text import name_key

# revision identifiers, used by Alembic.
revision = 'd1c7e5a3f849'
down_revision = 'b6e1d8f3a925'
branch_labels = None
depends_on = None

ORGANISATIONS = sa.table("organisations", sa.column("id", sa.Integer), sa.column("name", sa.String),
                         sa.column("name_key", sa.String))


def case_and_spacing_key(name: str) -> str:
    """The key before this revision."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def new_keys(rows, key) -> dict[int, str]:
    """Each organisation whose key changes, and its new key, leaving out any that would meet another's key."""
    old = {id_: old_key for id_, _, old_key in rows}
    changing = {id_: key(name) for id_, name, _ in rows if key(name) != old[id_]}
    kept = {old[id_] for id_ in old if id_ not in changing}
    while True:
        first = {}
        for id_ in sorted(changing):
            first.setdefault(changing[id_], id_)
        # The later of two that meet, or one meeting a key kept, keeps its old key: unique, as every key was,
        # but it may now be in another's way, so look again.
        blocked = [id_ for id_, new in changing.items() if new in kept or first[new] != id_]
        if not blocked:
            return changing
        for id_ in blocked:
            kept.add(old[id_])
            del changing[id_]


def rekey(key) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(ORGANISATIONS.c.id, ORGANISATIONS.c.name, ORGANISATIONS.c.name_key)
                              .order_by(ORGANISATIONS.c.id)).all()
    changing = new_keys(rows, key)
    # Out of the way first (a key never starts with a space), so no update meets a key about to be freed.
    for id_ in changing:
        connection.execute(ORGANISATIONS.update().where(ORGANISATIONS.c.id == id_).values(name_key=f" {id_}"))
    for id_, new in changing.items():
        connection.execute(ORGANISATIONS.update().where(ORGANISATIONS.c.id == id_).values(name_key=new))


def upgrade():
    rekey(name_key)


def downgrade():
    rekey(case_and_spacing_key)
