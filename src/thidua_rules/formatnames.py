"""The output formats' names, aliases and file extensions: constant tables the CLI's parser
needs without importing the writers (and with them the engine) for ``thidua --help``."""

from __future__ import annotations

#: The ``--format`` names, sorted; :data:`thidua_rules.report.writers.FORMATS` renders each
#: text format and ``BINARY_FORMATS`` each file format (a test keeps them equal).
OUTPUT_FORMATS: tuple[str, ...] = ("html", "json", "jsonl", "markdown", "table", "toml", "xlsx")

#: Formats written as bytes to a file only (``-o``) by :mod:`thidua_rules.documents`, not by the writers.
DOCUMENT_FORMATS: tuple[str, ...] = ("docx",)

#: The output format an ``-o`` file's extension names (``thidua evaluate -o result.json``); a
#: new format adds its extensions here.
EXTENSIONS: dict[str, str] = {
    ".docx": "docx",
    ".htm": "html",
    ".html": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".markdown": "markdown",
    ".md": "markdown",
    ".toml": "toml",
    ".txt": "table",
    ".xlsx": "xlsx",
}
#: Other names accepted by ``--format``.
FORMAT_ALIASES: dict[str, str] = {"md": "markdown"}

#: The languages of ``--lang`` (the Markdown report, ``explain``'s reasons): every message code
#: has a text in each (``thidua_rules.messages``).
LANGUAGES: tuple[str, ...] = ("en", "vi")
