"""The documentation holds together: every relative link (and its #anchor) resolves, every page of
docs/ is in docs/index.md and in the README, every `docs/….md` a text names exists, and the
README keeps its shape (the two commands CI relies on, every dependency with its reason, under 250
lines)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import pytest

from .conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"
#: Every Markdown file whose links are checked: the README, docs/, and the other READMEs shipped.
MARKDOWN = [README, ROOT / "CHANGELOG.md", *DOCS, *sorted(ROOT.glob("examples/*/README.md")),
            *sorted(ROOT.glob("plugins/*/README.md")), ROOT / "tests" / "fuzz" / "README.md"]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`]+`")  # a code span may wrap onto the next line
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without code blocks and code spans (where `[0](id=x)` is not a link)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    slugs: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            base = _slug(m.group(1))
            slug, n = base, 1
            while slug in slugs:  # GitHub numbers a repeated heading: x, x-1, x-2
                slug, n = f"{base}-{n}", n + 1
            slugs.add(slug)
    return slugs


def _links(path: Path) -> list[str]:
    return LINK.findall(_prose(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(path):
    """A relative link names a file or folder of the repository, and its #anchor a heading there."""
    broken = []
    for target in _links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: … are not checked here
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading with anchor #{anchor} in {dest.relative_to(ROOT).as_posix()}")
    assert broken == []


def test_the_link_checker_finds_a_broken_link_and_anchor(tmp_path):
    """The checker's own parts: a link in code is not a link, anchors are GitHub's."""
    page = tmp_path / "p.md"
    page.write_text("# A `[people]` — title\n## A `[people]` — title\n[x](missing.md) `[0](id=x)`\n"
                    "```\n[y](nowhere.md)\n```\n", encoding="utf-8")
    assert _links(page) == ["missing.md"]
    assert _anchors(page) == {"a-people--title", "a-people--title-1"}
    assert _slug("`[[titles]]`") == "titles" and _slug("Peers, encoder (issue #11)") == "peers-encoder-issue-11"


def test_every_docs_page_is_in_the_index_and_the_readme():
    """docs/index.md lists every page of docs/ with one line, and the README links each of them."""
    index = ROOT / "docs" / "index.md"
    rows = [line for line in index.read_text(encoding="utf-8").splitlines() if line.startswith("| [")]
    listed = [re.match(r"\| \[([\w.-]+)\]\(\1\) \| \S", row) for row in rows]
    assert all(listed), "docs/index.md: each row is `| [page.md](page.md) | what it holds |`"
    names = [m.group(1) for m in listed if m]
    assert names == sorted(names), "docs/index.md: pages in alphabetical order"
    pages = [p.name for p in DOCS]
    missing = sorted(set(pages) - set(names))
    assert missing == [], f"docs/index.md: add one line for each of {missing}"
    assert sorted(set(names) - set(pages)) == []
    readme = {t for t in _links(README) if t.startswith("docs/")}
    unlinked = [p for p in pages if f"docs/{p}" not in readme]
    assert unlinked == [], f"README.md, Documentation: link each of {unlinked}"


@pytest.mark.parametrize("where", ["README.md", "CHANGELOG.md", "docs", "src", "tests", "plugins", "benchmarks", "scripts"])
def test_every_docs_page_a_text_names_exists(where):
    """`docs/<page>.md` written anywhere (prose, comments, messages) names a page that exists."""
    base = ROOT / where
    files = [base] if base.is_file() else [p for p in sorted(base.rglob("*"))
                                            if p.suffix in {".md", ".py", ".toml", ".txt", ".json"} and p.is_file()
                                            and "egg-info" not in p.as_posix()]
    missing = set()
    for path in files:
        for name in re.findall(r"(?<![\w/.-])docs/([\w-]+\.md)", path.read_text(encoding="utf-8", errors="replace")):
            if not (ROOT / "docs" / name).is_file():
                missing.add(f"{path.relative_to(ROOT).as_posix()}: docs/{name}")
    assert sorted(missing) == []


README_TEXT = README.read_text(encoding="utf-8")


def test_the_readme_keeps_the_two_commands_ci_relies_on():
    """The install-and-run command and the test command, as written; CI runs the latter."""
    block = README_TEXT.split("## Two commands", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert commands == [
        "./scripts/install && .venv/bin/thidua evaluate policies/cum8-2022.toml examples/cum8-2022/units.toml",
        "./scripts/test",
    ]
    for script in ("install", "test"):
        assert (ROOT / "scripts" / script).stat().st_mode & 0o111, f"scripts/{script} is executable"
    assert "\n./scripts/test\n" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_is_short():
    lines = README_TEXT.count("\n")
    assert lines < 250, f"README.md has {lines} lines: move detail to a page of docs/"


def test_the_readme_gives_every_dependency_with_its_reason():
    """Each runtime dependency and each extra's package is a `- **name**` entry of the section."""
    section = README_TEXT.split("## Dependencies and why", 1)[1].split("\n## ", 1)[0]
    named = {n.lower() for n in re.findall(r"\*\*([\w.-]+)\*\*", section)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *(s for extra in project["optional-dependencies"].values() for s in extra)]
    wanted = {re.match(r"[\w.-]+", s).group(0).lower() for s in specs}
    assert sorted(wanted - named) == []
