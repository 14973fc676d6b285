"""The output formats' names, aliases and file extensions: constant tables the CLI's parser
needs without importing the writers (and with them the engine) for ``thidua --help``."""

from __future__ import annotations

#: The ``--format`` names, sorted; :data:`thidua_rules.report.writers.FORMATS` renders each
#: (a test keeps the two equal).
OUTPUT_FORMATS: tuple[str, ...] = ("json", "jsonl", "markdown", "table", "toml")

#: Formats written as bytes to a file only (``-o``), rendered by their own modules, not the writers.
BINARY_FORMATS: tuple[str, ...] = ("docx",)

#: The output format an ``-o`` file's extension names (``thidua evaluate -o result.json``); a
#: new format adds its extensions here.
EXTENSIONS: dict[str, str] = {
    ".docx": "docx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".markdown": "markdown",
    ".md": "markdown",
    ".toml": "toml",
    ".txt": "table",
}
#: Other names accepted by ``--format``.
FORMAT_ALIASES: dict[str, str] = {"md": "markdown"}
