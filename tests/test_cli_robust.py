"""The command line under stress: error lines that stay one printable line, output files that keep
their mode and never replace what they should not, signals, locales and noisy plugins."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thidua_rules import render
from thidua_rules.cli import main
from thidua_rules.errors import EvaluationError, ExpressionSyntaxError, Issue, caret_display, did_you_mean, folded
from thidua_rules.report.writers import atomic_output

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

EVALUATE = ["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA)]


def generate():
    """benchmarks/generate.py: seeded unit data for the example policy."""
    spec = importlib.util.spec_from_file_location("thidua_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_issue_escapes_control_characters_and_keeps_vietnamese():
    """A newline, an ESC and a bidi override in user text become visible escapes; accents stay."""
    issue = Issue(file="dữ liệu\n.toml", path="units[0](id=a\x1b[31m)", message="tên 'Cục\r\u202e' sai\t")
    assert issue.format() == "dữ liệu\\n.toml: units[0](id=a\\x1b[31m): tên 'Cục\\r\\u202e' sai\\t"


def test_evaluation_error_lines_are_escaped_one_each():
    """An evaluation error's head and its caret lines are separate lines; a newline inside the
    message does not make another one."""
    error = EvaluationError("bad\nvalue", unit="a", where="p.toml: x", detail=("    | 1 / 0", "    |     ^"))
    assert error.lines() == ["p.toml: x: unit 'a': bad\\nvalue\n    | 1 / 0\n    |     ^"]


def test_long_lines_keep_their_start_and_end():
    """A line above 300 characters keeps its first 199 and last 100 around an ellipsis; the file
    and the key path are each kept to 80 characters."""
    issue = Issue(file="f" * 100, path="p" * 100, message="m" * 500 + " (did you mean 'x'?)")
    line = issue.format()
    where = "f" * 52 + "…" + "f" * 27
    assert line == where + ": " + "p" * 52 + "…" + "p" * 27 + ": " + "m" * 35 + "…" + "m" * 80 + " (did you mean 'x'?)"
    assert len(line) == 300


def test_caret_of_a_long_line_is_a_window_around_the_error():
    """A 10,000-character expression line is shown as 90 characters either side of the span."""
    source = "a + " * 2500 + ")" + " + b" * 2500
    lines = caret_display(source, 10000, 10001)
    assert lines == ("    | …" + ("a + " * 23)[-90:] + ")" + (" + b" * 23)[:90] + "…", "    | " + " " * 91 + "^")


def test_caret_in_a_multi_line_expression_names_the_line():
    """The caret is under the error on its own line, with the line's number."""
    error = ExpressionSyntaxError("unexpected ')'", "x +\n  y\t)\nz", 8, 9)
    assert error.caret_lines() == ("    line 2 of the expression:", "    |   y\\t)", "    |      ^")


def test_caret_at_the_end_of_the_expression():
    assert caret_display("5 * (a", 6, 7) == ("    | 5 * (a", "    |       ^")


@pytest.mark.parametrize(("word", "choices", "expected"), [
    ("Tốt", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'tot'?)"),
    ("Xuất sắc", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'xuat_sac'?)"),
    ("Hoàn  thành", ["xuat_sac", "tot", "hoan_thanh"], " (did you mean 'hoan_thanh'?)"),
    ("ĐẠT", ["dat", "khong_dat"], " (did you mean 'dat'?)"),
    ("xuat_sacc", ["xuat_sac", "tot"], " (did you mean 'xuat_sac'?)"),
    ("zzz", ["xuat_sac", "tot"], ""),
])
def test_did_you_mean_ignores_accents_case_and_spaces(word, choices, expected):
    assert did_you_mean(word, choices) == expected


def test_folded():
    assert folded("Cục Công nghệ  thông tin") == "cuc_cong_nghe_thong_tin"
    assert folded("Đơn vị") == "don_vi"


# ---------------------------------------------------------------- output files





@pytest.fixture
def umask():
    """Set the process umask for one test; the previous one comes back after it."""
    before = os.umask(0o022)
    yield os.umask
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_output_file_honours_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    assert main([*EVALUATE, "-o", str(tmp_path / "result.json")]) == 0
    assert mode(tmp_path / "result.json") == expected


@pytest.mark.parametrize("kept", [0o644, 0o640, 0o664])
def test_an_existing_output_file_keeps_its_mode(tmp_path, umask, kept):
    umask(0o077)
    out = tmp_path / "result.json"
    out.write_text("previous\n", encoding="utf-8")
    out.chmod(kept)
    assert main([*EVALUATE, "-o", str(out)]) == 0
    assert mode(out) == kept
    assert out.read_text(encoding="utf-8").startswith("{")


def test_the_streamed_output_keeps_the_mode_too(tmp_path, umask):
    """The streaming writer (CSV data, --format jsonl) writes the same way."""
    umask(0o077)
    data = tmp_path / "units.csv"
    data.write_bytes(generate().make_csv(30))
    out = tmp_path / "result.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    out.chmod(0o644)
    assert main(["evaluate", str(EXAMPLE_POLICY), str(data), "-o", str(out)]) == 0
    assert mode(out) == 0o644
    assert out.read_text(encoding="utf-8").startswith('{"')


def test_a_symlink_is_written_through(tmp_path, example_result):
    """-o on a symbolic link replaces the file it points to; the link stays a link."""
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "result.json"
    target.write_text("previous\n", encoding="utf-8")
    link = tmp_path / "result.json"
    link.symlink_to(Path("real") / "result.json")
    assert main([*EVALUATE, "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "result.json")
    assert target.read_text(encoding="utf-8") == render(example_result, "json")
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["result.json"]


def test_the_temporary_file_says_what_it_is(tmp_path):
    """While being written, the output is `.<name>.thidua-partial-<pid>` beside the target."""
    target = tmp_path / "result.json"
    with atomic_output(target) as handle:
        handle.write("x")
        assert [p.name for p in tmp_path.iterdir()] == [f".result.json.thidua-partial-{os.getpid()}"]
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_of_the_target_are_removed(tmp_path):
    """A temporary file left by a killed run is removed by the next write to the same target;
    one of a process still running, or of another target, is left alone."""
    stale = tmp_path / f".result.json.thidua-partial-{dead_pid()}"
    running = tmp_path / f".result.json.thidua-partial-{os.getppid()}"
    other = tmp_path / f".other.json.thidua-partial-{dead_pid()}"
    for path in (stale, running, other):
        path.write_text("partial", encoding="utf-8")
    assert main([*EVALUATE, "-o", str(tmp_path / "result.json")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, other.name, "result.json"])


def test_result_unit_raises_key_error_with_a_suggestion(example_result):
    assert example_result.unit("cuc-cntt").id == "cuc-cntt"
    with pytest.raises(KeyError) as caught:
        example_result.unit("cuc-cnt")
    assert caught.value.args == ("unknown unit 'cuc-cnt' (did you mean 'cuc-cntt'?)",)


@pytest.mark.parametrize("name", ["Cục Công nghệ thông tin", "cục công nghệ THÔNG TIN", "CUC-CNTT"])
def test_explain_accepts_a_units_name(capsys, name):
    """`thidua explain` finds a unit by its name, exactly or without accents and case."""
    assert main(["explain", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-cntt"]) == 0
    by_id = capsys.readouterr().out
    assert main(["explain", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), name]) == 0
    assert capsys.readouterr().out == by_id


def test_explain_a_name_shared_by_two_units(tmp_path, capsys):
    data = EXAMPLE_DATA.read_text(encoding="utf-8").replace("Cục Quản lý xây dựng và doanh trại",
                                                             "Cục Viễn thông và cơ yếu")
    (tmp_path / "data.toml").write_text(data, encoding="utf-8")
    assert main(["explain", str(EXAMPLE_POLICY), str(tmp_path / "data.toml"), "cuc vien thong va co yeu"]) == 2
    assert capsys.readouterr().err == (f"{tmp_path / 'data.toml'}: 'cuc vien thong va co yeu' names 2 units "
                                       "(cuc-qlxddt, cuc-vt-cy); give the id\n")


@pytest.mark.parametrize(("args", "fmt"), [
    (["-o", "r.json"], "json"), (["-o", "r.TOML"], "toml"), (["-o", "r.md"], "markdown"),
    (["-o", "r.markdown"], "markdown"), (["-o", "r.jsonl"], "jsonl"), (["-o", "r.txt"], "table"),
    (["-o", "r.out", "--format", "JSON"], "json"), (["-o", "r.md", "-f", "md"], "markdown"),
])
def test_the_output_format_comes_from_the_extension(tmp_path, example_result, args, fmt):
    """Without --format, -o's extension names the format (--format is case-insensitive)."""
    args = [a if not a.startswith("r.") else str(tmp_path / a) for a in args]
    assert main([*EVALUATE, *args]) == 0
    assert (tmp_path / Path(args[1]).name).read_text(encoding="utf-8") == render(example_result, fmt)


# ---------------------------------------------------------------- plugins printing to stdout


def test_a_plugin_printing_to_stdout_does_not_corrupt_the_output(tmp_path, monkeypatch, capsys, example_result):
    """What a plugin prints while loading or evaluating goes to stderr; stdout is the JSON alone."""
    from thidua_rules import hookimpl

    from .test_plugins import DATA, POLICY, Fake

    class Chatty(Fake):
        @hookimpl
        def validate_policy_section(self, section, policy, report):
            print("loading the fake plugin")

        @hookimpl
        def derive_inputs(self, unit, env, names, data, config):
            print(f"deriving for {unit.id}")
            return super().derive_inputs(unit, env, names, data, config)

    install_fake(Chatty(), tmp_path, monkeypatch)
    capsys.readouterr()
    for fmt in ("json", "jsonl", "toml"):
        assert main(["evaluate", "policy.toml", "data.toml", "--format", fmt]) == 0
        captured = capsys.readouterr()
        expected = subprocess_free_render(POLICY, DATA, Chatty(), fmt)
        assert captured.out == expected
        assert captured.err == "loading the fake plugin\nderiving for a\nderiving for b\n"


def install_fake(plugin: object, folder: Path, monkeypatch) -> None:
    """``plugin`` installed as entry point 'fake', and test_plugins' policy.toml and data.toml in
    ``folder``, the current folder."""
    from .test_plugins import DATA, POLICY

    module = type(sys)("fake_cli_plugin_module")
    module.PLUGIN = plugin
    monkeypatch.setitem(sys.modules, "fake_cli_plugin_module", module)
    entry = importlib.metadata.EntryPoint(name="fake", value="fake_cli_plugin_module:PLUGIN", group="thidua_rules")
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [entry] if kw.get("group") == "thidua_rules" else real(**kw))
    monkeypatch.chdir(folder)
    (folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    (folder / "data.toml").write_text(DATA, encoding="utf-8")


@pytest.mark.parametrize(("signum", "line", "code"), [(signal.SIGINT, "thidua: interrupted", 130),
                                                     (signal.SIGTERM, "thidua: terminated", 143)])
def test_a_signal_inside_plugin_code_is_still_an_interrupt(tmp_path, monkeypatch, capsys, signum, line, code):
    """Ctrl-C or SIGTERM while a plugin's hook runs is not the plugin's fault: one line, 130 / 143."""
    from thidua_rules import hookimpl

    from .test_plugins import Fake

    class Slow(Fake):
        @hookimpl
        def derive_inputs(self, unit, env, names, data, config):
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the signal's handler raises before this ends
            return super().derive_inputs(unit, env, names, data, config)

    install_fake(Slow(), tmp_path, monkeypatch)
    assert main(["evaluate", "policy.toml", "data.toml", "-o", "out.json"]) == code
    assert capsys.readouterr() == ("", line + "\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.toml", "policy.toml"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the handlers are restored"


def subprocess_free_render(policy: str, data: str, plugin: object, fmt: str) -> str:
    import contextlib
    import io

    from thidua_rules.testing import evaluate_inline

    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_inline(policy, data, [("fake", plugin)], format=fmt)


# ---------------------------------------------------------------- signals (subprocesses)

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.name != "posix",
                                reason="reads a process's CPU time from /proc")


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """Unit data large enough that a run takes several seconds."""
    path = tmp_path_factory.mktemp("big") / "units.csv"
    path.write_bytes(generate().make_csv(20_000))
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(condition, process, what: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def partial_written(folder: Path):
    return lambda: any(".thidua-partial-" in p.name and p.stat().st_size > 0 for p in folder.iterdir())


MOMENTS = {
    # name: (arguments after POLICY DATA, the moment to send the signal at)
    "loading": (["-f", "json", "-o", "out.json"], lambda folder, pid: cpu_seconds(pid) >= 0.8),
    "evaluating": (["-f", "json", "-o", "out.json"], lambda folder, pid: cpu_seconds(pid) >= 2),
    "streaming to a file": (["-f", "jsonl", "-o", "out.jsonl"], lambda folder, pid: partial_written(folder)()),
    "streaming with --jobs": (["-f", "jsonl", "-j", "2", "-o", "out.jsonl"],
                              lambda folder, pid: partial_written(folder)()),
}


INTERRUPTED = (signal.SIGINT, "thidua: interrupted", 130)
TERMINATED = (signal.SIGTERM, "thidua: terminated", 143)


@needs_proc
@pytest.mark.parametrize(("moment", "signum", "line", "code"), [
    (moment, *sent) for moment in sorted(MOMENTS) for sent in (INTERRUPTED, TERMINATED)
    if (moment, sent) != ("evaluating", TERMINATED)  # the slowest to reach; SIGINT covers it
])
def test_a_signal_stops_the_run_with_one_line_and_no_file(tmp_path, big_csv, moment, signum, line, code):
    """Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM (to the process)
    at any moment: one line, exit 130 / 143, the previous output untouched, no temporary file."""
    extra, ready = MOMENTS[moment]
    target = tmp_path / extra[-1]
    target.write_text("previous\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY), str(big_csv),
                                *extra], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        wait_for(lambda: ready(tmp_path, process.pid), process, moment)
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert (process.returncode, out, err.decode("utf-8")) == (code, b"", line + "\n")
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@needs_proc
def test_ctrl_c_while_streaming_to_stdout(big_csv):
    process = subprocess.Popen([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY), str(big_csv),
                                "-f", "jsonl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        first = process.stdout.readline()
        assert first.startswith(b'{"format":')
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert (process.returncode, err) == (130, b"thidua: interrupted\n")


@needs_proc
def test_a_killed_runs_temporary_file_is_named_and_removed_next_time(tmp_path, big_csv, example_result):
    """SIGKILL leaves `.out.jsonl.thidua-partial-<pid>` (nothing can run on SIGKILL); the next
    write to out.jsonl removes it."""
    process = subprocess.Popen([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY), str(big_csv),
                                "-o", "out.jsonl"], cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        wait_for(partial_written(tmp_path), process, "the temporary file")
    finally:
        process.kill()
        process.communicate()
    assert [p.name for p in tmp_path.iterdir()] == [f".out.jsonl.thidua-partial-{process.pid}"]
    assert main([*EVALUATE, "-o", str(tmp_path / "out.jsonl")]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == render(example_result, "jsonl")


# ---------------------------------------------------------------- a locale that is not UTF-8


def c_locale() -> dict[str, str]:
    """An environment where Python's stdout would be ASCII: C locale, no UTF-8 mode, no coercion."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO", "PYTHONUTF8"))}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    return env


def test_output_is_utf8_in_the_c_locale(example_result):
    done = subprocess.run([sys.executable, "-m", "thidua_rules", *EVALUATE], capture_output=True, check=False, env=c_locale())
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == render(example_result, "table").encode("utf-8")


def test_error_lines_are_utf8_in_the_c_locale():
    case = ROOT / "tests" / "errors" / "cli_did_you_mean_accents"
    done = subprocess.run([sys.executable, "-m", "thidua_rules", "validate", "policy.toml", "data.toml"],
                          capture_output=True, check=False, env=c_locale(), cwd=case)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr == (case / "expected.err").read_bytes()


def test_thidua_test_output_is_utf8_in_the_c_locale():
    """`thidua test` prints the same UTF-8 bytes in the C locale as in a UTF-8 one."""
    args = [sys.executable, "-m", "thidua_rules", "test", str(ROOT / "policies")]
    utf8 = subprocess.run(args, capture_output=True, check=False, env={**c_locale(), "PYTHONUTF8": "1"})
    plain = subprocess.run(args, capture_output=True, check=False, env=c_locale())
    assert utf8.returncode == 0
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, utf8.stdout, utf8.stderr)


def test_explain_an_unknown_member_gets_a_suggestion(capsys):
    data = ROOT / "examples" / "cum8-2022" / "units-members.toml"
    args = ["explain", str(ROOT / "policies" / "cum8-2022-members.toml"), str(data), "cuc-cntt-0002",
            "--members", str(ROOT / "examples" / "cum8-2022" / "members.csv")]
    assert main(args) == 2
    assert capsys.readouterr().err == f"{data}: unknown unit or member 'cuc-cntt-0002' (did you mean 'cuc-cntt-002'?)\n"


def test_a_plugin_printing_in_jobs_workers_does_not_corrupt_the_output(tmp_path):
    """With --jobs the plugin runs in worker processes: its prints go to stderr there too. The
    plugin is installed for real (a dist-info on PYTHONPATH), so the spawned workers find it."""
    from .test_plugins import POLICY

    site = tmp_path / "site"
    (site / "fakeprint-1.0.dist-info").mkdir(parents=True)
    (site / "fakeprint-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeprint\n"
                                                              "Version: 1.0\n", encoding="utf-8")
    (site / "fakeprint-1.0.dist-info" / "entry_points.txt").write_text("[thidua_rules]\nfake = fakeprint:PLUGIN\n",
                                                                      encoding="utf-8")
    (site / "fakeprint.py").write_text(
        "from decimal import Decimal\n\nfrom thidua_rules import hookimpl\n\n\n"
        "class Chatty:\n"
        "    @hookimpl\n"
        "    def validate_policy_section(self, section, policy, report):\n"
        "        print('checking the section')\n\n"
        "    @hookimpl\n"
        "    def derive_inputs(self, unit, env, names, data, config):\n"
        "        print('deriving for', unit.id)\n"
        "        return {'share': Decimal('0.5')}\n\n"
        "    @hookimpl\n"
        "    def score_criterion(self, unit, criterion, env, config):\n"
        "        return None\n\n\n"
        "PLUGIN = Chatty()\n", encoding="utf-8")
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "units.csv").write_text("cluster,id,name,done\nc1,a,A,9\nc1,b,B,7\nc2,c,C,3\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    base = [sys.executable, "-m", "thidua_rules", "evaluate", "policy.toml", "units.csv", "-f", "jsonl"]
    one = subprocess.run(base, capture_output=True, check=False, cwd=tmp_path, env=env)
    two = subprocess.run([*base, "-j", "2"], capture_output=True, check=False, cwd=tmp_path, env=env)
    assert (one.returncode, two.returncode) == (0, 0)
    assert [json.loads(line)["record"] for line in one.stdout.splitlines()] == [
        "header", "cluster", "unit", "unit", "cluster", "unit", "provenance"]
    assert two.stdout == one.stdout
    assert sorted(one.stderr.splitlines()) == [b"checking the section", b"deriving for a", b"deriving for b",
                                               b"deriving for c"]
    # Two workers print to the same stderr: their lines may interleave (seen under load), so
    # only that the prints went there is checked; stdout, the result, is the same bytes.
    assert two.stderr.count(b"deriving for") >= 1 and b"{" not in two.stderr


def test_an_undecodable_path_on_stdout_is_escaped_not_a_crash(tmp_path):
    """`thidua test` prints the test file's path on stdout; a folder name that is not valid text
    in the C locale (byte 0xff) is written as an escape instead of failing."""
    import shutil

    folder = Path(os.fsdecode(bytes(tmp_path) + b"/\xff"))
    (folder / "policies").mkdir(parents=True)
    (folder / "examples").mkdir()
    shutil.copy(ROOT / "policies" / "research-khcn-2023.toml", folder / "policies")
    shutil.copy(ROOT / "policies" / "research-khcn-2023.tests.toml", folder / "policies")
    shutil.copytree(ROOT / "examples" / "research-khcn-2023", folder / "examples" / "research-khcn-2023")
    done = subprocess.run([sys.executable, "-m", "thidua_rules", "test", os.fsdecode(b"\xff/policies")],
                          capture_output=True, check=False, env=c_locale(), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(b"PASS \\udcff/policies/research-khcn-2023.tests.toml: ")


def test_data_format_is_case_insensitive(tmp_path, capsys):
    """`--data-format TOML` reads a data file whose extension says nothing."""
    data = tmp_path / "units.txt"
    data.write_bytes(EXAMPLE_DATA.read_bytes())
    assert main(["validate", str(EXAMPLE_POLICY), str(data), "--data-format", "TOML"]) == 0
    assert capsys.readouterr().out == "ok: bca-cum8 (6 criteria, 5 titles; data: 1 cluster(s), 6 unit(s))\n"


@needs_proc
@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.3])
def test_ctrl_c_while_the_command_starts_is_one_line(tmp_path, big_csv, delay):
    """A Ctrl-C while Python and the command are still importing (before cli.main's handlers are
    in place): one line and exit 130, never a traceback through the engine's code. Before the
    first line of thidua_rules runs, the interpreter's own start-up (runpy, importlib) reports a
    Ctrl-C itself, as it does for any program: that window, a few milliseconds, is accepted."""
    # The large data, so that the run is still going at the longest delay on a quiet machine.
    process = subprocess.Popen([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY),
                                str(big_csv)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process.returncode == -signal.SIGINT:  # still in the interpreter's start-up
        frames = [line for line in err.decode().splitlines() if line.lstrip().startswith("File ")]
        assert all("<frozen " in line for line in frames), err.decode()
        return
    if process.returncode == 1 and (err.startswith(b"Could not import runpy module\n")
                                    or err.endswith(b"KeyboardInterrupt\n")):
        # Earlier still, on a loaded machine: `python -m` itself was importing runpy, or the
        # interpreter its site module (it reports the KeyboardInterrupt itself and exits 1).
        assert b"thidua_rules" not in err, err.decode()
        return
    assert (process.returncode, out, err) == (130, b"", b"thidua: interrupted\n")
