"""The HTML report in a real browser: Debian's headless Chromium loads it with no console message
or script error, sees one ranking row and one chart bar per unit, and draws it (a PNG at desktop
and at phone width).

Without ``/usr/bin/chromium`` the tests are skipped, except where ``THIDUA_REQUIRE_BROWSER=1``
(``.ci/run`` sets it and installs the browser): there a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from thidua_rules import render

from .test_report_escaping import _results

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")
#: How long one browser run may take before the test gives up (a hung browser, not a slow one:
#: a run takes about a second).
RUN_LIMIT = 180

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNITS = ["cuc-cntt", "cuc-khtc", "cuc-tbkv", "vien-khcn", "cuc-vt-cy", "cuc-qlxddt"]


@pytest.fixture(scope="module")
def browser() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("THIDUA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and THIDUA_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


def _run(browser: Path, tmp_path: Path, page: Path, *action: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    run = subprocess.run([str(browser), *FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()],
                         capture_output=True, text=True, encoding="utf-8", errors="replace",
                         timeout=RUN_LIMIT, check=False, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def _console(stderr: str) -> list[str]:
    """The page's console lines in Chromium's log (``INFO:CONSOLE:1] "boom", source: …``):
    console.log / warn / error calls and uncaught exceptions alike. The report has no script,
    so any of them is an error."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(\]]", line)]


def _load(browser: Path, tmp_path: Path, page: Path) -> tuple[str, list[str]]:
    """The page's DOM as the browser built it, and its console lines."""
    run = _run(browser, tmp_path, page, "--dump-dom")
    return run.stdout, _console(run.stderr)


def _screenshot(browser: Path, tmp_path: Path, page: Path, width: int, height: int) -> Path:
    shot = tmp_path / f"{page.stem}-{width}.png"
    run = _run(browser, tmp_path, page, "--hide-scrollbars", f"--window-size={width},{height}",
               f"--screenshot={shot}")
    assert _console(run.stderr) == []
    return shot


class _Dom(HTMLParser):
    """The ranking table's body rows and the chart's bar groups of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str]] = []
        self.rows: list[str] = []
        self.bars: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        within = [(t, c) for t, c in self.open]
        if tag == "tr" and ("table", "ranking") in within and ("tbody", "") in within:
            self.rows.append(a.get("data-unit") or "")
        if tag == "g" and "bar" in classes and any(t == "svg" for t, _ in within):
            self.bars.append(a.get("data-unit") or "")
        if tag == "svg":
            self.svgs += 1
        if tag not in ("rect", "line", "meta", "br"):
            self.open.append((tag, "ranking" if "ranking" in classes else ""))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break


def _dom(text: str) -> _Dom:
    dom = _Dom()
    dom.feed(text)
    dom.close()
    return dom


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def report(tmp_path: Path, example_result) -> Path:
    page = tmp_path / "report.html"
    page.write_text(render(example_result, "html"), encoding="utf-8", newline="\n")
    return page


def test_report_loads_without_console_messages(browser, tmp_path, report):
    """Chromium loads the page with no console message and no script error, and its DOM has one
    ranking row and one SVG bar group per unit, in ranking order."""
    dom_text, console = _load(browser, tmp_path, report)
    assert console == []
    dom = _dom(dom_text)
    assert dom.rows == UNITS
    assert dom.bars == UNITS
    assert dom.svgs == 1
    assert '<html lang="vi">' in dom_text


@pytest.mark.parametrize(("width", "height"), [(1280, 2400), (390, 1600)], ids=["desktop", "phone"])
def test_report_screenshot(browser, tmp_path, report, width, height):
    """The page is drawn to a PNG of the window's size, at desktop and at phone width."""
    shot = _screenshot(browser, tmp_path, report, width, height)
    assert shot.stat().st_size > 1000
    assert _png_size(shot) == (width, height)


def test_hostile_names_run_nothing(browser, tmp_path, example_policy):
    """A unit named ``<script>alert(1)</script>`` is text in the browser too: nothing runs, no
    message is logged, and the table still has its six rows."""
    _, hostile = _results(example_policy)
    page = tmp_path / "hostile.html"
    page.write_text(render(hostile, "html"), encoding="utf-8", newline="\n")
    dom_text, console = _load(browser, tmp_path, page)
    assert console == []
    assert len(_dom(dom_text).rows) == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom_text


@pytest.mark.parametrize(("script", "seen"), [
    ('console.error("boom-error")', '"boom-error"'),
    ('throw new Error("boom-exception")', "Uncaught Error: boom-exception"),
], ids=["console-error", "exception"])
def test_the_console_check_catches_a_broken_page(browser, tmp_path, report, script, seen):
    """The check is real: the report with a failing script added is caught by it."""
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text(encoding="utf-8").replace("</body>", f"<script>{script}</script>\n</body>"),
                      encoding="utf-8")
    _, console = _load(browser, tmp_path, broken)
    assert len(console) == 1 and seen in console[0]


def test_layered_report_loads_without_console_messages(browser, tmp_path):
    """The page of the layered example (each criterion's layers under its unit) loads with no
    console message, and Chromium's DOM keeps the five lists of layers."""
    from thidua_rules import evaluate, load_data, load_policy

    from .conftest import ROOT

    policy = load_policy(ROOT / "tests" / "golden" / "layers" / "policy.toml")
    result = evaluate(policy, load_data(ROOT / "examples" / "cum8-2022" / "units-layers.toml", policy))
    page = tmp_path / "layers.html"
    page.write_text(render(result, "html"), encoding="utf-8", newline="\n")
    dom_text, console = _load(browser, tmp_path, page)
    assert console == []
    assert dom_text.count('<ul class="layers">') == 5
