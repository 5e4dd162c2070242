"""The migrations build exactly the schema the models describe, and can be undone.

Each test migrates a throwaway database of its own (a SQLite file, or a
PostgreSQL database beside the one TEST_DATABASE_URL names), so the suite's
database is never touched.
"""

from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from consult import create_app
from consult.comments.search import is_search_index
from consult.extensions import db
from tests.conftest import make_test_config, throwaway_database_url

# compare_type and compare_server_default make autogenerate look at column types and
# server defaults as well as tables, columns, indexes, unique and foreign keys.
# The one filter: full-text search indexes (and SQLite's FTS5 tables), which live in a
# migration and not in the models; consult/comments/search.py says why.
COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True,
                   "include_object": lambda obj, name, *rest: not is_search_index(name)}


@pytest.fixture
def empty_app(tmp_path):
    """The app on an empty database of its own."""
    app = create_app(make_test_config(throwaway_database_url("migrations", str(tmp_path))))
    with app.app_context():
        yield app
        db.engine.dispose()


def tables() -> set[str]:
    """The database's tables, but for SQLite's full-text search table and its shadow tables."""
    return {name for name in sa.inspect(db.engine).get_table_names() if not is_search_index(name)}


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def differences() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts=COMPARE_OPTIONS), db.metadata)


def check_constraints() -> dict[str, list[str]]:
    """Autogenerate does not compare CHECK constraints, so they are compared by name."""
    inspector = sa.inspect(db.engine)
    return {table.name: sorted(c["name"] for c in inspector.get_check_constraints(table.name))
            for table in db.metadata.sorted_tables}


def model_check_constraints() -> dict[str, list[str]]:
    return {table.name: sorted(c.name for c in table.constraints if isinstance(c, sa.CheckConstraint))
            for table in db.metadata.sorted_tables}


def test_migrations_go_up_to_head_down_to_base_and_up_again(empty_app):
    model_tables = set(db.metadata.tables)

    upgrade()
    assert current_revision() == head_revision()
    assert tables() == model_tables | {"alembic_version"}

    downgrade(revision="base")
    assert current_revision() is None
    assert tables() == {"alembic_version"}  # every downgrade() undoes its upgrade()

    upgrade()
    assert current_revision() == head_revision()
    assert tables() == model_tables | {"alembic_version"}
    assert differences() == []


def test_the_models_and_the_migrations_agree(empty_app):
    # On the empty database the comparison sees every table missing, so it is really looking.
    missing = {diff[1].name for diff in differences() if diff[0] == "add_table"}
    assert missing == set(db.metadata.tables)

    upgrade()
    found = differences()
    assert found == [], ("The models and the migrations disagree; write a migration (flask db migrate, then read "
                         f"and correct it) or fix the model:\n{pformat(found)}")
    assert check_constraints() == model_check_constraints()


def test_organisation_name_keys_are_remade_in_the_new_form_and_back(empty_app):
    """A look-alike letter or a zero-width space no longer makes a new organisation, on the rows already there."""
    from consult.organisations.models import Organisation

    upgrade(revision="a9d4e6f1c372")
    before = {1: ("Foot Health UK", "foot health uk"),
              2: ("Fοot Health UK", "fοot health uk"),  # a Greek omicron: once a second organisation
              3: ("Leeds\u200b Trust", "leeds\u200b trust"),
              4: ("ВОЗ", "воз")}
    table = Organisation.__table__
    with db.engine.begin() as connection:
        connection.execute(table.insert(), [{"id": id_, "name": name, "name_key": key, "type": "other"}
                                            for id_, (name, key) in before.items()])

    def keys() -> dict[int, str]:
        with db.engine.connect() as connection:
            return dict(connection.execute(sa.select(table.c.id, table.c.name_key)).all())

    upgrade()
    # The second "Foot Health UK" keeps its key, for an admin to see: both organisations are kept.
    assert keys() == {1: "foot health uk", 2: "fοot health uk", 3: "leeds trust", 4: "boз"}
    downgrade(revision="a9d4e6f1c372")
    assert keys() == {id_: key for id_, (_, key) in before.items()}
