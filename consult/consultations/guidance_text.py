"""How the text of a draft's sections and chapters reads on a page: paragraphs, lists and bold words.

The importers (consultations.importing) keep a draft's text as plain text:
paragraphs apart by a blank line, each item of a list on a line of its own
that starts with a bullet, and Markdown's **bold** as written. Every page
that shows that text renders it here, so the document page, the comment
form and the staff pages read alike. Each piece of the text is escaped on
its own: nothing written in a draft reaches a page as markup.
"""

import re
from collections.abc import Iterator

from markupsafe import Markup, escape

from consult.consultations.importing.text import _BULLET, NUMBERED_ITEM, starts_numbered_item

# Bold as Markdown reads it at word edges: "**" opens only where no letter or digit comes before it, and
# closes only where none comes after, so asterisks written in a draft ("p<0.01**") stay as written.
_BOLD = re.compile(r"(?<![\w*])\*\*(?=[^\s*])(?P<words>.+?)(?<=[^\s*])\*\*(?![\w*])")


def _blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """("paragraph", [lines]) and ("list", [items]) in reading order, the items without their bullets.

    Lines of one paragraph that are not list items stay one paragraph, as a
    browser shows lines joined by a newline.
    """
    for paragraph in text.split("\n\n"):
        if not paragraph.strip():
            continue
        kind, lines = None, []
        for line in paragraph.split("\n"):
            bullet = _BULLET.match(line)
            line_kind = ("list" if bullet else "numbered" if starts_numbered_item(line, kind == "numbered")
                         else "paragraph")
            if line_kind != kind and lines:
                yield kind, lines
                lines = []
            kind = line_kind
            # A numbered item keeps its number in front (the list is drawn from it); a bullet is dropped.
            lines.append(line[bullet.end():] if kind == "list" else line)
        if lines:
            yield kind, lines


def _inline(text: str) -> Markup:
    pieces, at = [], 0
    for bold in _BOLD.finditer(text):
        pieces.append(escape(text[at:bold.start()]))
        pieces.append(Markup("<strong>%s</strong>") % bold["words"])
        at = bold.end()
    pieces.append(escape(text[at:]))
    return Markup("").join(pieces)


def guidance_html(text: str) -> Markup:
    """The text as GOV.UK paragraphs and bulleted lists, with its bold words in <strong>, all of it escaped."""
    parts = []
    for kind, lines in _blocks(text or ""):
        if kind == "list":
            items = Markup("").join(Markup("<li>%s</li>") % _inline(item) for item in lines)
            parts.append(Markup('<ul class="govuk-list govuk-list--bullet">%s</ul>') % items)
        elif kind == "numbered":
            items = Markup("").join(Markup("<li>%s</li>") % _inline(item[NUMBERED_ITEM.match(item).end():])
                                    for item in lines)
            parts.append(Markup('<ol class="govuk-list govuk-list--number">%s</ol>') % items)
        else:
            parts.append(Markup('<p class="govuk-body">%s</p>') % _inline("\n".join(lines)))
    return Markup("").join(parts)


def guidance_plain(text: str) -> str:
    """The words as a reader sees them, without the bullets, list numbers and asterisks that mark lists and
    bold (a browser's selection of a list holds its items' words, not their markers)."""
    return "\n\n".join("\n".join(_BOLD.sub(r"\g<words>", NUMBERED_ITEM.sub("", line) if kind == "numbered"
                                                       else line) for line in lines)
                       for kind, lines in _blocks(text or ""))
