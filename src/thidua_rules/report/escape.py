"""User text made safe for the text reports: nothing in a name can add a line, a heading, a link,
an image or HTML to a report, reach the terminal as a control sequence, or run as a spreadsheet
formula when a table is pasted or opened in one.

* :func:`visible` shows control characters (and the invisible bidirectional overrides that can
  reorder what a reader sees) as escapes: ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``.
* :func:`formula_safe` puts ``'`` before a cell that a spreadsheet would evaluate (one starting
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return), the usual defence against formula
  injection; plain numbers (``-3.50``) and the ``-`` placeholder are left as they are.
* :func:`md_text` / :func:`md_cell` / :func:`md_code` write text into Markdown: visible, and every
  character Markdown gives a meaning to backslash-escaped (CommonMark renders ``\\[`` as ``[``).
* :func:`html_text` / :func:`html_cell` write text into HTML (the ``html`` report): visible, and
  ``&``, ``<``, ``>``, ``"`` and ``'`` written as character references, so that a name can open
  no tag, close no attribute and name no entity, in element text and in quoted attributes alike.
"""

from __future__ import annotations

import re

from ..errors import escaped

#: The characters CommonMark and GitHub's Markdown give a meaning to inline: escapes, code,
#: emphasis, strikethrough, links and images, HTML and entities, headings, table cells, maths;
#: and runs of ``_``, which are escaped unless inside a word (``ad_hoc_done``), where CommonMark
#: never reads them as emphasis.
_MARKDOWN = re.compile(r"[\\`*~\[\]<&#|$]|_+")
_WORD = re.compile(r"[^\W_]")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")


#: Control characters (C0, C1, DEL), the line and paragraph separators and the bidirectional
#: marks, embeddings, overrides and isolates shown as escapes: the same rule as error lines.
visible = escaped


def formula_safe(text: str) -> str:
    """``text`` as a spreadsheet cell that is never evaluated (``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``)."""
    if text.startswith(_FORMULA_START) and text != "-" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def table_cell(text: str) -> str:
    """A cell of the plain table: not a formula, control characters shown."""
    return visible(formula_safe(text))


def _md_escape(match: re.Match[str]) -> str:
    run = match.group()
    if run[0] == "_":
        text, start, end = match.string, match.start(), match.end()
        if start > 0 and end < len(text) and _WORD.match(text[start - 1]) and _WORD.match(text[end]):
            return run
        return "\\_" * len(run)
    return "\\" + run


def md_text(text: str) -> str:
    """Text in a Markdown line: one line, no markup of its own."""
    return _MARKDOWN.sub(_md_escape, visible(text))


def md_cell(text: str) -> str:
    """Text in a Markdown table cell: :func:`md_text` of the text made :func:`formula_safe`."""
    return md_text(formula_safe(text))


def md_code(text: str) -> str:
    """Text as a Markdown code span (an id): visible, and fenced so that a backtick in it cannot end it."""
    shown = visible(text)
    if "`" not in shown:
        return f"`{shown}`"
    fence = "`" * (max(len(run) for run in re.findall("`+", shown)) + 1)
    return f"{fence} {shown} {fence}"


def html_text(text: str) -> str:
    """Text in HTML element content or a quoted attribute value: visible, markup characters as
    character references (``<b>`` → ``&lt;b&gt;``)."""
    import html  # here: the html report only (html imports its table of entities)

    return html.escape(visible(text), quote=True)


def html_cell(text: str) -> str:
    """Text in an HTML table cell: :func:`html_text` of the text made :func:`formula_safe` (a
    table copied from the browser into a spreadsheet runs nothing)."""
    return html_text(formula_safe(text))
