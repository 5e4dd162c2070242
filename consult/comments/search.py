"""Full-text search over comments: one query syntax, PostgreSQL's index or SQLite's FTS5 underneath.

Staff type what they would type into a web search: words (all must appear, in any form:
"procedures" finds "procedure"), "a quoted phrase", OR between alternatives and -word to
exclude one. PostgreSQL reads that with ``websearch_to_tsquery`` against a GIN index on the
comment's text, stored as tsvector columns that PostgreSQL computes when a comment is written;
SQLite, the embedded default, translates it into an FTS5 query against the ``comment_search``
table that triggers keep in step with ``comments``.

Two texts are indexed per comment. *Shown* is what staff can read: the redacted words where a
comment was redacted. *Original* is what the stakeholder wrote, which only admins may search
(a search must never reveal what a redaction withheld). Both are written once, in SQL, below,
and the migrations that build the indexes (and PostgreSQL's stored columns) use the very
same expressions. The columns are not in the model: the database fills them, and no query
but this module's reads them.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Float, Integer, column, false, func, literal_column, text, true
from sqlalchemy.sql import expression

from consult.extensions import db

SEARCH_TABLE = "comment_search"
SHOWN_INDEX = "ix_comments_search_shown"
ORIGINAL_INDEX = "ix_comments_search_original"
SHOWN_COLUMN = "search_shown"
ORIGINAL_COLUMN = "search_original"
MAX_TERMS = 32

# The text a reader sees, and the text as written: body and quote together.
SHOWN_SQL = ("(CASE WHEN moderation_state = 'redacted' THEN COALESCE(redacted_body, '') ELSE body END"
             " || ' ' || CASE WHEN moderation_state = 'redacted' AND redacted_quote IS NOT NULL"
             " THEN redacted_quote ELSE COALESCE(quote, '') END)")
ORIGINAL_SQL = "(body || ' ' || COALESCE(quote, ''))"
POSTGRES_DOCUMENT = "to_tsvector('english'::regconfig, {})"

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')

# PostgreSQL's English stop words, which websearch_to_tsquery drops from a query. SQLite drops
# the same from plain words, so that "cost of the probe" finds the same comments on both.
# Inside a "phrase" they are kept on SQLite (PostgreSQL counts their places instead).
STOP_WORDS = frozenset("""
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing a an the and but if or because as
    until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just don
    should now
""".split())


@dataclass
class _Group:
    """Terms that must all appear (and must not), one side of an OR."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


def _groups(query: str) -> list[_Group]:
    """Read web-search syntax into OR-separated groups of required and excluded terms."""
    groups = [_Group()]
    for match in _TOKEN.finditer(query):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word.upper() == "OR":
                groups.append(_Group())
                continue
            negated, phrase = ("-", word[1:]) if word.startswith("-") and len(word) > 1 else ("", word)
        terms = _words(phrase)
        if word is not None:  # plain words, not a phrase
            terms = [term for term in terms if term.lower() not in STOP_WORDS]
        if not terms:
            continue
        (groups[-1].exclude if negated else groups[-1].include).append(" ".join(terms))
    return [group for group in groups if group.include or group.exclude]


def _words(text_: str) -> list[str]:
    # FTS5 and tsquery both split on punctuation; keeping letters and digits only means no
    # character of the person's query can be read as query syntax.
    return re.findall(r"\w+", text_)[:MAX_TERMS]


def _fts5(terms: list[str]) -> str:
    return " AND ".join(f'"{term}"' for term in terms)


def _sqlite_clause(query: str, column: str, comment_id) -> ColumnElement[bool]:
    groups = _groups(query)
    alternatives = []
    for number, group in enumerate(groups):
        if group.include:
            alternatives.append(comment_id.in_(_fts_rowids(_group_fts(group, column), number)))
        elif len(groups) == 1:
            # Only exclusions ("-device"): everything but the matches. FTS5's NOT needs a left side.
            fts = f"{column} : ({' OR '.join(f'({_fts5([t])})' for t in group.exclude)})"
            alternatives.append(comment_id.not_in(_fts_rowids(fts, number)))
    return expression.or_(*alternatives) if alternatives else false()


def _single_group_fts(query: str, column_: str) -> str | None:
    """The FTS5 expression of a query with no OR and at least one word it looks for; None for any other."""
    groups = _groups(query)
    if len(groups) != 1 or not groups[0].include:
        return None
    return _group_fts(groups[0], column_)


def _group_fts(group: _Group, column_: str) -> str:
    """One group's FTS5 expression: all its words in `column_`, and none of its exclusions."""
    fts = f"{column_} : ({_fts5(group.include)})"
    if group.exclude:
        fts += f" NOT {column_} : ({' OR '.join(f'({_fts5([t])})' for t in group.exclude)})"
    return fts


def sqlite_matches_first(query: str, *, original: bool = False):
    """On SQLite, the ids of the comments matching `query` as a derived table (column ``rowid``), to drive a
    count from; None on PostgreSQL, or for a query this cannot express (an OR, or only exclusions).

    A count of "up to 10,001 matching" that starts from the comments probes
    FTS5's whole set of matching ids, built anew per statement (50 ms when a
    word is in all of 100,000 comments); one that starts from the matches and
    checks each comment by its key stops as soon as it has counted enough.
    """
    if db.engine.dialect.name == "postgresql":
        return None
    fts = _single_group_fts(query.strip(), "{shown original}" if original else "shown")
    return None if fts is None else _fts_rowids(fts, 0).subquery("matched")


def sqlite_match_count(query: str, at_most: int, *, original: bool = False) -> int:
    """On SQLite, how many comments (of any consultation) match `query`, counting no further than
    `at_most` + 1, for a query that sqlite_matches_first accepts: a fraction of a millisecond."""
    fts = _single_group_fts(query.strip(), "{shown original}" if original else "shown")
    return db.session.scalar(text(
        f"SELECT count(*) FROM (SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :fts_query "
        "LIMIT :at_most)").bindparams(fts_query=fts, at_most=at_most + 1))


def sqlite_matching_ids_between(query: str, low: int, high: int, *, original: bool = False) -> set[int]:
    """On SQLite, the ids from `low` to `high` of the comments matching `query`, for a query that
    sqlite_matches_first accepts. FTS5 reads only that stretch of each word's list of ids, so a page
    of comments checked this way costs what the stretch holds, not every match in the table."""
    fts = _single_group_fts(query.strip(), "{shown original}" if original else "shown")
    return set(db.session.scalars(
        text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :fts_query "
             "AND rowid BETWEEN :low AND :high").bindparams(fts_query=fts, low=low, high=high)))


def _fts_rowids(fts_query: str, number: int):
    name = f"fts_query_{number}"
    return text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :{name}").bindparams(
        **{name: fts_query}).columns(column("rowid", Integer))


def matches(query: str, comment_id, *, original: bool = False) -> ColumnElement[bool]:
    """A WHERE clause: the comment with id `comment_id` matches `query` (web-search syntax).

    `original` also searches the words a redaction withheld; only admins may ask for it.
    An empty query matches everything; one with no words in it ("%", "-") matches nothing.
    """
    query = query.strip()
    if not query:
        return true()
    if not _groups(query):
        return false()
    if db.engine.dialect.name == "postgresql":
        tsquery = text("websearch_to_tsquery('english'::regconfig, :search_query)").bindparams(search_query=query)
        shown = literal_column(f"comments.{SHOWN_COLUMN}").op("@@")(tsquery)
        if not original:
            return shown
        return expression.or_(shown, literal_column(f"comments.{ORIGINAL_COLUMN}").op("@@")(tsquery))
    return _sqlite_clause(query, "{shown original}" if original else "shown", comment_id)


def best_match_first(select_, query: str, comment_id, *, original: bool = False):
    """`select_` reordered so the comments that match `query` best come first, then by comment number.

    PostgreSQL ranks with ts_rank on the stored vectors; SQLite with FTS5's
    bm25 over every word and phrase the query looks for (lower is better), in
    one derived table joined to the comments. A comment that matched only by
    what it lacks ("-device") has no rank and comes last. Applied to one page
    of a queue, never to its count.
    """
    terms = highlight_terms(query)
    if not terms:
        return select_
    if db.engine.dialect.name == "postgresql":
        tsquery = text("websearch_to_tsquery('english'::regconfig, :rank_query)").bindparams(rank_query=query)
        rank = func.ts_rank(literal_column(f"comments.{SHOWN_COLUMN}"), tsquery)
        if original:
            rank = func.greatest(rank, func.ts_rank(literal_column(f"comments.{ORIGINAL_COLUMN}"), tsquery))
        return select_.order_by(None).order_by(rank.desc(), literal_column("comments.number"))
    columns = "{shown original}" if original else "shown"
    fts = f"{columns} : ({' OR '.join(f'({_fts5(_words(term))})' for term in terms)})"
    ranked = (text(f"SELECT rowid AS id, bm25({SEARCH_TABLE}) AS score FROM {SEARCH_TABLE} "
                   f"WHERE {SEARCH_TABLE} MATCH :rank_query").bindparams(rank_query=fts)
              .columns(column("id", Integer), column("score", Float)).subquery("ranked"))
    return (select_.outerjoin(ranked, ranked.c.id == comment_id).order_by(None)
            .order_by(ranked.c.score.is_(None), ranked.c.score, literal_column("comments.number")))


def highlight_terms(query: str) -> list[str]:
    """The words and phrases a query looks for (not those it excludes), for marking matches in text."""
    return [term for group in _groups(query) for term in group.include]


def is_search_index(name: str | None) -> bool:
    """The indexes, columns and tables this module's migrations make outside the models, which
    autogenerate must leave alone (SQLite's FTS5 table brings shadow tables of its own)."""
    return bool(name) and (name.startswith(SEARCH_TABLE)
                           or name in (SHOWN_INDEX, ORIGINAL_INDEX, SHOWN_COLUMN, ORIGINAL_COLUMN))
