"""Faulty plugins: every hook and every contributed callable × every fault ends as one exact line.

Each case installs a plugin that behaves well everywhere except at one place (the *target*),
where it commits one *fault*, and runs ``thidua evaluate`` through ``thidua_rules.cli.main``:
exit 2, the one documented line on stderr, nothing on stdout, no output file.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

import pytest

from thidua_rules import (
    EvaluationError,
    FunctionSpec,
    MethodSpec,
    PluginError,
    TitleCheckSpec,
    hookimpl,
    make_plugin_manager,
)
from thidua_rules.cli import main
from thidua_rules.testing import evaluate_inline

LIMIT = "0.2"

POLICY = f"""\
[policy]
id = "t"
name = "Test"
year = 2023
plugins = ["fake"]
plugin_timeout = {LIMIT}

[inputs]
done = {{ type = "integer", min = 0 }}
share = {{ type = "decimal", min = 0, max = 1, plugin = "fake" }}

[[criteria]]
id = "c1"
points = 20
method = "twice"
twice_of = "done"

[[criteria]]
id = "c2"
points = 5
method = "formula"
formula = "5 * share"
override = "fake"

[[criteria]]
id = "c3"
points = 10
method = "formula"
formula = "half(done)"

[[bands]]
id = "xuat_sac"
min = 30

[[bands]]
id = "tot"
min = 10

[[bands]]
id = "hoan_thanh"
min = 0

[[titles]]
id = "tien_tien"
min_done = 1

[plugin.fake]
share = 0.5
"""

DATA = """\
[cluster]
id = "c"
name = "C"
year = 2023

[[units]]
id = "a"
name = "A"
done = 9

[[units]]
id = "b"
name = "B"
done = 7

[plugin_data.fake]
exempt = ["b"]
"""


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _loop() -> None:
    while True:
        pass


#: fault → what the faulty code does (``None``: it returns the fault's value instead).
ACTIONS = {
    "value_error": lambda: (_ for _ in ()).throw(ValueError("boom")),
    "key_error": lambda: {}["k"],
    "recursion": lambda: _recurse(0),
    "memory_error": lambda: (_ for _ in ()).throw(MemoryError()),
    "exit_0": lambda: sys.exit(0),
    "exit_3": lambda: sys.exit(3),
    "system_exit": lambda: (_ for _ in ()).throw(SystemExit),
    "loop": _loop,
    "sleep": lambda: time.sleep(30),
}

#: fault → the message it gets (after the target's prefix).
MESSAGES = {
    "value_error": "raised ValueError: boom",
    "key_error": "raised KeyError: 'k'",
    "recursion": "raised RecursionError: maximum recursion depth exceeded",
    "memory_error": "raised MemoryError",
    "exit_0": "tried to end the program (SystemExit: 0); a plugin must raise an exception instead",
    "exit_3": "tried to end the program (SystemExit: 3); a plugin must raise an exception instead",
    "system_exit": "tried to end the program (SystemExit); a plugin must raise an exception instead",
    "loop": f"did not return within {LIMIT} s (the time limit of one plugin call; "
            "[policy] plugin_timeout sets it)",
    "sleep": f"did not return within {LIMIT} s (the time limit of one plugin call; "
             "[policy] plugin_timeout sets it)",
}

#: Values returned where a number is due: fault → (value, message after "returned ").
NUMBERS = {
    "float": (0.5, "float 0.5; numbers must be Decimal, never float or int"),
    "int": (3, "int 3; numbers must be Decimal, never float or int"),
    "infinity": (Decimal("Infinity"), "Decimal Infinity, expected a finite Decimal"),
    "nan": (Decimal("NaN"), "Decimal NaN, expected a finite Decimal"),
    "huge": (Decimal("1e999999"), "Decimal 1E+999999, out of bounds: at most 15 digits before the point"),
}

WRONG = ["oops"]  # a list: the wrong type for every hook


class Faulty:
    """Well-behaved everywhere but at ``target``, where it commits ``fault``."""

    def __init__(self, target: str, fault: str) -> None:
        self.target, self.fault = target, fault

    def act(self, target: str, good, returned=None, mutate=None):
        """What the code at ``target`` does: its good result, or the fault."""
        if target != self.target:
            return good()
        if self.fault in ACTIONS:
            return ACTIONS[self.fault]()
        if self.fault == "mutate":
            mutate()
            return good()
        return returned(self.fault)

    # -- load time

    @hookimpl
    def register_criterion_methods(self, register):
        def compile_twice(table, ctx):
            value = ctx.expr("twice_of", table.get("twice_of"))

            def score(env):
                return self.act("method", lambda: (2 * value.evaluate(env), {}), _points,
                                lambda: _set(env))

            return self.act("method_compile", lambda: score, lambda f: WRONG)

        return self.act("register_criterion_methods",
                 lambda: register(MethodSpec(name="twice", keys={"twice_of": True}, compile=compile_twice)),
                 lambda f: register(WRONG) if f == "wrong" else _number(f))

    @hookimpl
    def register_functions(self, register):
        def half(x):
            return self.act("function", lambda: x / 2, lambda f: WRONG if f == "wrong" else _number(f))

        return self.act("register_functions",
                 lambda: register(FunctionSpec(name="half", impl=half, params=("number",), returns="number")),
                 lambda f: register(WRONG) if f == "wrong" else _number(f))

    @hookimpl
    def register_title_checks(self, register):
        def compile_min_done(table, ctx):
            if "min_done" not in table:
                return None
            floor = table["min_done"]

            def run(view):
                return self.act("title_check", lambda: (view.env["done"] >= floor, "few", {}),
                                lambda f: (True, "", {"x": 0.5}) if f == "fact" else WRONG,
                                lambda: setattr(view, "unit", "x"))

            return self.act("title_check_compile", lambda: run, lambda f: WRONG)

        return self.act("register_title_checks",
                 lambda: register(TitleCheckSpec(name="min_done", stage=35, keys={"min_done": "integer"},
                                                 compile=compile_min_done)),
                 lambda f: register(WRONG) if f == "wrong" else _number(f))

    @hookimpl
    def register_messages(self, register):
        return self.act("register_messages", lambda: register({"en": {"fake.x": "x"}}),
                        lambda f: register(WRONG) if f == "wrong" else _number(f))

    @hookimpl
    def validate_policy_section(self, section, policy, report):
        return self.act("validate_policy_section", lambda: None,
                        lambda f: WRONG if f == "wrong" else _number(f),
                        lambda: _set(section))

    @hookimpl
    def validate_plugin_data(self, section, cluster, config, report):
        return self.act("validate_plugin_data", lambda: None,
                        lambda f: WRONG if f == "wrong" else _number(f),
                        lambda: _set(section))

    # -- evaluation time

    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        return self.act("derive_inputs", lambda: {"share": config["share"]},
                        lambda f: WRONG if f == "wrong" else {"share": _number(f)},
                        lambda: _set(env))

    @hookimpl
    def score_criterion(self, unit, criterion, env, config):
        return self.act("score_criterion", lambda: None, _points,
                        lambda: _set(env))

    @hookimpl
    def cap_band(self, unit, env, bands, config):
        return self.act("cap_band", lambda: None, lambda f: WRONG, lambda: setattr(unit, "name", "x"))

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return self.act("veto_title", lambda: None, lambda f: WRONG, lambda: config.pop("share"))


def _set(mapping):
    mapping["done"] = Decimal(0)


def _number(fault):
    return NUMBERS[fault][0]


def _points(fault):
    if fault == "fact":
        return Decimal(1), {"x": 0.5}
    return WRONG if fault == "wrong" else (_number(fault), {})


#: target → the text before the fault's message (``{}``), and the faults that apply there.
RAISES = tuple(ACTIONS)
RETURNS = ("wrong", *NUMBERS)
TARGETS = {
    "register_criterion_methods": ("policy.toml: policy.plugins: plugin 'fake' hook 'register_criterion_methods': {}",
                                   (*RAISES, "wrong", "float")),
    "register_functions": ("policy.toml: policy.plugins: plugin 'fake' hook 'register_functions': {}",
                           (*RAISES, "wrong", "float")),
    "register_title_checks": ("policy.toml: policy.plugins: plugin 'fake' hook 'register_title_checks': {}",
                              (*RAISES, "wrong", "float")),
    "register_messages": ("policy.toml: policy.plugins: plugin 'fake' hook 'register_messages': {}",
                          (*RAISES, "wrong", "float")),
    "method_compile": ("policy.toml: criteria[0](id=c1): plugin 'fake' method 'twice': compile {}",
                       (*RAISES, "wrong")),
    "title_check_compile": (("policy.toml: titles[0](id=tien_tien): plugin 'fake' title check 'min_done': "
                            "compile {}"), (*RAISES, "wrong")),
    "validate_policy_section": ("policy.toml: plugin.fake: plugin 'fake' hook 'validate_policy_section': {}",
                                (*RAISES, "wrong", "float", "mutate")),
    "validate_plugin_data": ("data.toml: plugin_data.fake: plugin 'fake' hook 'validate_plugin_data': {}",
                             (*RAISES, "wrong", "float", "mutate")),
    "derive_inputs": ("policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': {}",
                      (*RAISES, *RETURNS, "mutate")),
    "score_criterion": ("policy.toml: plugin 'fake' hook 'score_criterion': unit 'a': criterion 'c2': {}",
                        (*RAISES, *RETURNS, "fact", "mutate")),
    "cap_band": ("policy.toml: plugin 'fake' hook 'cap_band': unit 'a': {}", (*RAISES, "wrong", "mutate")),
    "veto_title": ("policy.toml: plugin 'fake' hook 'veto_title': unit 'a': title 'tien_tien': {}",
                   (*RAISES, "wrong", "mutate")),
    "method": ("policy.toml: plugin 'fake' method 'twice': unit 'a': criteria[0](id=c1): {}",
               (*RAISES, *RETURNS, "fact", "mutate")),
    "function": ("policy.toml: plugin 'fake' function 'half': unit 'a': {}",
                 tuple(f for f in (*RAISES, *RETURNS) if f != "value_error")),
    "title_check": ("policy.toml: plugin 'fake' title check 'min_done': unit 'a': title 'tien_tien': {}",
                    (*RAISES, "wrong", "fact", "mutate")),
}

#: The message of a result of the wrong type, per target.
WRONG_MESSAGES = {
    "register_criterion_methods": "registered list, expected a MethodSpec",
    "register_functions": "registered list, expected a FunctionSpec",
    "register_title_checks": "registered list, expected a TitleCheckSpec",
    "register_messages": "messages is list, expected {'en': {code: text}, 'vi': {...}}",
    "method_compile": "returned list, expected a function or None",
    "title_check_compile": "returned list, expected a function or None",
    "validate_policy_section": "returned list, expected None (problems go through report)",
    "validate_plugin_data": "returned list, expected None (problems go through report)",
    "derive_inputs": "returned list, expected a mapping of input names to values",
    "score_criterion": "returned list, expected None or (points, facts)",
    "cap_band": "returned list, expected None or (band id, reason) with a band of the policy "
                "(xuat_sac, tot, hoan_thanh)",
    "veto_title": "returned list, expected None or a non-empty reason",
    "method": "returned list, expected (points, facts)",
    "function": "returned list, expected a Decimal",
    "title_check": "returned list, expected (passed, reason, seen)",
}

MUTATE = {
    "validate_policy_section": "'mappingproxy' object does not support item assignment",
    "validate_plugin_data": "'mappingproxy' object does not support item assignment",
    "derive_inputs": "'mappingproxy' object does not support item assignment",
    "score_criterion": "'mappingproxy' object does not support item assignment",
    "method": "'mappingproxy' object does not support item assignment",
    "cap_band": "can't set attribute",
    "title_check": "can't set attribute",
    "veto_title": "'mappingproxy' object has no attribute 'pop'",
}


def expected_line(target: str, fault: str) -> str:
    prefix, _faults = TARGETS[target]
    if fault in MESSAGES:
        message = MESSAGES[fault]
    elif fault == "wrong":
        message = WRONG_MESSAGES[target]
    elif fault == "fact":  # a float in the explanation's facts (or a title check's seen)
        message = (f"returned {'seen' if target == 'title_check' else 'facts'} 'x': float 0.5, "
                   "expected a plain value (Decimal, int, str or bool, or a list of them)")
    elif fault == "mutate":
        kind = "TypeError" if "support" in MUTATE[target] else (
            "AttributeError" if "attribute '" in MUTATE[target] else "FrozenInstanceError")
        message = f"tried to change its inputs, which are read-only ({kind}: {MUTATE[target]})"
    elif target.startswith(("register_", "validate_")):
        message = f"returned float 0.5, expected None ({'contributions go through register' if target.startswith('register_') else 'problems go through report'})"
    elif target == "derive_inputs":
        text = NUMBERS[fault][1]
        message = "returned " + (text.replace("; ", " for 'share'; ", 1) if ";" in text
                                 else text.replace("Decimal ", "").replace(", ", " for 'share', ", 1))
    elif target in ("score_criterion", "method"):
        message = f"returned points {NUMBERS[fault][1]}"
    else:
        message = f"returned {NUMBERS[fault][1]}"
    return prefix.format(message)


CASES = [(t, f) for t, (_p, faults) in TARGETS.items() for f in faults]


@pytest.mark.parametrize(("target", "fault"), CASES, ids=[f"{t}-{f}" for t, f in CASES])
def test_faulty_plugin_is_one_line_exit_2_nothing_written(target, fault, tmp_path, monkeypatch, capsys,
                                                           thidua_install):
    """A plugin fault at any hook gives exit 2, one line naming plugin, hook and unit, and no output."""
    thidua_install("fake", Faulty(target, fault))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "data.toml").write_text(DATA, encoding="utf-8")
    code = main(["evaluate", "policy.toml", "data.toml", "-f", "json", "-o", "out.json"])
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err) == (2, "", expected_line(target, fault) + "\n")
    assert not (tmp_path / "out.json").exists()


def test_well_behaved_matrix_plugin_evaluates():
    """The matrix's plugin without a fault evaluates (so every fault above is the fault's doing)."""
    result = evaluate_inline(POLICY, DATA, [("fake", Faulty("", ""))])
    assert [(u.id, str(u.total), u.band) for u in result.clusters[0].units] == [
        ("a", "25.00", "tot"), ("b", "20.00", "tot")]


def test_function_value_error_is_a_bad_argument_at_the_call():
    """A plugin function's ValueError is the documented way to reject an argument: shown at the call."""
    with pytest.raises(EvaluationError) as info:
        evaluate_inline(POLICY, DATA, [("fake", Faulty("function", "value_error"))])
    assert info.value.lines() == ["policy.toml: criterion 'c3': unit 'a': boom\n    | half(done)\n    | ^^^^^^^^^^"]


@pytest.mark.parametrize("target", ["derive_inputs", "method", "function", "title_check",
                                    "register_functions", "validate_policy_section"])
def test_keyboard_interrupt_stays_an_interrupt(target):
    """Ctrl-C inside a plugin is not turned into a plugin error: the program is interrupted."""
    plugin = Faulty(target, "interrupt")
    ACTIONS["interrupt"] = lambda: (_ for _ in ()).throw(KeyboardInterrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            evaluate_inline(POLICY, DATA, [("fake", plugin)])
    finally:
        del ACTIONS["interrupt"]


# ---------------------------------------------------------------- two plugins claiming one name


class Claims:
    """Registers a method, a function and a title check under the names it is given."""

    def __init__(self, method="twice", function="half", check="min_done", key="min_done"):
        self.method, self.function, self.check, self.key = method, function, check, key

    @hookimpl
    def register_criterion_methods(self, register):
        register(MethodSpec(name=self.method, keys={"twice_of": True},
                            compile=lambda table, ctx: lambda env: (Decimal(0), {})))

    @hookimpl
    def register_functions(self, register):
        register(FunctionSpec(name=self.function, impl=lambda x: x, params=("number",), returns="number"))

    @hookimpl
    def register_title_checks(self, register):
        register(TitleCheckSpec(name=self.check, stage=35, keys={self.key: "integer"},
                                compile=lambda table, ctx: None))


def run_cli(tmp_path, monkeypatch, capsys, policy):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    (tmp_path / "data.toml").write_text(DATA, encoding="utf-8")
    code = main(["evaluate", "policy.toml", "data.toml", "-f", "json", "-o", "out.json"])
    captured = capsys.readouterr()
    assert not (tmp_path / "out.json").exists()
    return code, captured.out, captured.err


CLAIMS = {
    "method": ({"function": "half2", "check": "min2", "key": "min2"},
               ("policy.toml: policy.plugins: plugin 'beta' hook 'register_criterion_methods': "
               "criterion method 'twice' is registered by both 'alpha' and 'beta'")),
    "function": ({"method": "twice2", "check": "min2", "key": "min2"},
                 ("policy.toml: policy.plugins: plugin 'beta' hook 'register_functions': "
                 "function 'half' is registered by both 'alpha' and 'beta'")),
    "title_check": ({"method": "twice2", "function": "half2", "key": "min2"},
                    ("policy.toml: policy.plugins: plugin 'beta' hook 'register_title_checks': "
                    "title check 'min_done' is registered by both 'alpha' and 'beta'")),
    "titles_key": ({"method": "twice2", "function": "half2", "check": "min2"},
                   ("policy.toml: policy.plugins: plugins 'alpha' and 'beta' both claim the [[titles]] key "
                   "'min_done' (title checks 'min_done' and 'min2'); a key can have one owner only")),
    "builtin_key": ({"method": "twice2", "function": "half2", "check": "min2", "key": "when"},
                    ("policy.toml: policy.plugins: plugins 'beta' and 'thidua_rules.builtin.titles' both "
                    "claim the [[titles]] key 'when' (title checks 'min2' and 'when'); a key can have one "
                    "owner only")),
}


@pytest.mark.parametrize("case", sorted(CLAIMS))
def test_two_plugins_claiming_one_name_is_one_line_naming_both(case, tmp_path, monkeypatch, capsys, thidua_install):
    """A method, function, title check or [[titles]] key claimed twice is one line naming both plugins."""
    names, line = CLAIMS[case]
    thidua_install("alpha", Claims())
    thidua_install("beta", Claims(**names))
    policy = POLICY.replace('plugins = ["fake"]', 'plugins = ["alpha", "beta"]').split("[inputs]")[0] + """
[inputs]
done = { type = "integer", min = 0 }

[[criteria]]
id = "c1"
points = 20
method = "formula"
formula = "done"

[[bands]]
id = "tot"
min = 0
"""
    assert run_cli(tmp_path, monkeypatch, capsys, policy) == (2, "", line + "\n")


def test_one_plugin_given_twice_is_one_line():
    """The same plugin name given twice to a run is one error line, not a pluggy traceback."""
    with pytest.raises(PluginError) as info:
        make_plugin_manager(extra=[("fake", Claims()), ("fake", Claims())])
    assert info.value.lines() == ["plugin 'fake': is given twice; register each plugin under one name"]


# ---------------------------------------------------------------- the time limit itself


class Slow(Faulty):
    """Takes ``seconds`` in derive_inputs, then returns the good result."""

    def __init__(self, seconds):
        super().__init__("", "")
        self.seconds = seconds

    @hookimpl
    def derive_inputs(self, unit, env, names, data, config):
        time.sleep(self.seconds)
        return {"share": config["share"]}


def test_slow_plugin_within_the_limit_gives_the_same_result():
    """A call that returns within the limit is used as it is: the limit never changes a result."""
    fast = evaluate_inline(POLICY, DATA, [("fake", Faulty("", ""))], format="json")
    assert evaluate_inline(POLICY, DATA, [("fake", Slow(0.05))], format="json") == fast


def test_timer_is_stopped_and_the_handler_given_back_after_the_run():
    """Within two ticks of the last plugin call the engine leaves no SIGALRM handler or timer."""
    import signal

    evaluate_inline(POLICY, DATA, [("fake", Faulty("", ""))])
    time.sleep(0.1)  # the limit is 0.2 s, so a tick is 0.025 s
    assert (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)) == (signal.SIG_DFL, (0.0, 0.0))


def test_a_host_sigalrm_handler_is_left_alone():
    """Under the host's own SIGALRM handler the engine sets no timer (and so keeps no time limit)."""
    import signal

    def host(signum, frame):
        pass

    previous = signal.signal(signal.SIGALRM, host)
    try:
        result = evaluate_inline(POLICY, DATA, [("fake", Slow(0.3))])
        assert signal.getsignal(signal.SIGALRM) is host
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert [u.id for u in result.clusters[0].units] == ["a", "b"]


def test_outside_the_main_thread_there_is_no_time_limit():
    """In another thread a slow plugin call is not stopped (signals reach the main thread only)."""
    import threading

    out = []
    thread = threading.Thread(target=lambda: out.append(evaluate_inline(POLICY, DATA, [("fake", Slow(0.3))])))
    thread.start()
    thread.join()
    assert [u.id for u in out[0].clusters[0].units] == ["a", "b"]


# ---------------------------------------------------------------- odd exceptions and results


class BadStr(Exception):
    def __str__(self):
        raise RuntimeError("no text")


class Exploding(dict):
    """A mapping whose contents cannot be read."""

    def __iter__(self):
        raise KeyError("inside the mapping")

    def keys(self):
        raise KeyError("inside the mapping")


ODD = {
    "newline_in_message": (lambda: (_ for _ in ()).throw(ValueError("line one\nline two\x1b[31m")),
                           "raised ValueError: line one\\nline two\\x1b[31m"),
    "str_raises": (lambda: (_ for _ in ()).throw(BadStr()), "raised BadStr: (its message cannot be shown)"),
    "long_message": (lambda: (_ for _ in ()).throw(ValueError("x" * 5000)),
                     "raised ValueError: " + "x" * 199 + "…"),
    "mapping_raises": (lambda: Exploding(share=Decimal(0)), "raised KeyError: 'inside the mapping'"),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_exceptions_and_results_are_one_bounded_line(case):
    """A message with a line break or escape, a __str__ that raises, a huge message or a mapping
    that cannot be read is still one printable, bounded line."""
    action, message = ODD[case]

    class Odd(Faulty):
        @hookimpl
        def derive_inputs(self, unit, env, names, data, config):
            return action()

    with pytest.raises(EvaluationError) as info:
        evaluate_inline(POLICY, DATA, [("fake", Odd("", ""))])
    assert info.value.lines() == [f"policy.toml: plugin 'fake' hook 'derive_inputs': unit 'a': {message}"]


@pytest.mark.parametrize(("target", "fault"), [("derive_inputs", "exit_0"), ("function", "loop"),
                                               ("title_check", "exit_3"), ("method", "huge")])
def test_streamed_run_gives_the_same_line(target, fault, tmp_path, monkeypatch, capsys, thidua_install):
    """`--format jsonl` on a CSV (the streaming path) reports a plugin fault with the same line."""
    thidua_install("fake", Faulty(target, fault))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "data.csv").write_text("cluster,id,name,done\nc,a,A,9\nc,b,B,7\n", encoding="utf-8")
    code = main(["evaluate", "policy.toml", "data.csv", "-f", "jsonl", "-o", "out.jsonl"])
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err) == (2, "", expected_line(target, fault) + "\n")
    assert not (tmp_path / "out.jsonl").exists()
