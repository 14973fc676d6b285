"""The message catalogue: the English and Vietnamese text of every reason code, numbers as each
language writes them, and :class:`Reason`, a decision's reason as a code with its parameters.

The texts live in gettext ``.po`` files shipped in the package (``locale/en.po``,
``locale/vi.po``: ``msgid`` is the code, ``msgstr`` a template with ``{name}`` fields), read at
run time with :func:`babel.messages.pofile.read_po`: nothing to compile, and the same file gives
the same catalogue on every machine. Plugins add codes of their own in their title-check
registration (``TitleCheckSpec(messages=...)``) and with the ``register_messages`` hook (band
caps, vetoes); :func:`render` finds them through ``policy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .decimals import engine_context
from .formatnames import LANGUAGES as LANGUAGES  # the languages every code has a text in

if TYPE_CHECKING:
    from .model import Policy

_DECIMAL_TEXT = re.compile(r"-?\d+\.\d+")
_FIELD = re.compile(r"\{([a-z_]+)\}")


class Reason(str):
    """Why a decision was taken: a message ``code`` with its ``params``, and, as the string
    itself, the English text (so that every reader of a reason as text keeps working).

    ``Reason(code, params)`` renders the English text from the catalogue; ``text=`` gives it
    instead (a passed check keeps the empty text it always had; a plugin code with no English
    message in the core catalogue gives its own). Parameter values are plain data: ``str``,
    ``int``, ``bool``, ``Decimal`` and lists of them.
    """

    code: str
    _params: dict[str, Any]

    def __new__(cls, code: str, params: Mapping[str, Any] | None = None, *, text: str | None = None) -> Reason:
        values = dict(params or {})
        if text is None:
            # a plugin's code: its own messages give the text (``with_text``) when the engine
            # receives it; until then the text is the code
            text = render(code, values, "en") if code in catalogue("en") else code
        self = super().__new__(cls, text)
        self.code = code
        self._params = values
        return self

    @property
    def params(self) -> Mapping[str, Any]:
        """The parameters, read-only."""
        return MappingProxyType(self._params)

    def __reduce__(self) -> tuple[Any, ...]:  # for --jobs: the processes send results pickled
        return (_restore, (self.code, self._params, str(self)))


def _restore(code: str, params: dict[str, Any], text: str) -> Reason:
    return Reason(code, params, text=text)


def reason_code(reason: str) -> tuple[str, Mapping[str, Any]]:
    """The code and parameters of ``reason``: its own for a :class:`Reason`; for a plain string
    (a plugin's text, a deferral's reason as the data wrote it) ``plugin_text`` with the text,
    or ``passed`` for an empty one."""
    if isinstance(reason, Reason):
        return reason.code, reason._params
    if not reason:
        return "passed", {}
    return "plugin_text", {"text": reason}


# ---------------------------------------------------------------- catalogue

_CATALOGUES: dict[str, dict[str, str]] = {}
_ENTRY = re.compile(r'^msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"$', re.MULTILINE)
_ESCAPE = re.compile(r"\\(.)")


def po_path(lang: str) -> Path:
    """The package's .po file of ``lang`` (package data beside this module; not read through
    ``importlib.resources``, which would load ``importlib.metadata`` on every run)."""
    return Path(__file__).parent / "locale" / f"{lang}.po"


def catalogue(lang: str) -> Mapping[str, str]:
    """The core catalogue of ``lang``: code → template (read once from the package's .po file
    with ``babel.messages.pofile.read_po``).

    English, which the engine needs for every result's ``reason`` texts, is read without Babel
    (:func:`read_plain_po`: importing Babel and parsing the file with it costs about 120 ms, more
    than a small evaluation); ``tests/test_messages.py`` checks that both readers give the same
    catalogue for every language."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}' (expected one of {', '.join(LANGUAGES)})")
    found = _CATALOGUES.get(lang)
    if found is None:
        found = read_plain_po(po_path(lang)) if lang == "en" else read_babel_po(po_path(lang), lang)
        _CATALOGUES[lang] = found
    return MappingProxyType(found)


def read_babel_po(path: Path, lang: str) -> dict[str, str]:
    """A .po file's messages with Babel's reader: code → template."""
    from babel.messages.pofile import read_po

    with path.open("rb") as fp:
        po = read_po(fp, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and isinstance(m.id, str)}


def read_plain_po(path: Path) -> dict[str, str]:
    """A .po file of the shape the package's have (each entry one ``msgid "…"`` line and one
    ``msgstr "…"`` line, backslash escapes) read with a regular expression: code → template."""
    text = path.read_text(encoding="utf-8")
    return {_unescape(code): _unescape(value) for code, value in _ENTRY.findall(text) if code}


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def plugin_messages(policy: Policy | None, lang: str) -> Mapping[str, str]:
    """The messages the policy's plugins registered, for ``lang``: with their title checks, and
    through ``register_messages`` (for their band caps and vetoes)."""
    if policy is None:
        return {}
    found: dict[str, str] = {}
    registered = getattr(policy.runtime, "messages", None) or {}
    for plugin in sorted(registered):
        for code, text in registered[plugin].get(lang, {}).items():
            found.setdefault(code, text)
    for title in (*policy.titles, *(policy.people.titles if policy.people is not None else ())):
        for check in title.checks:
            for code, text in (getattr(check, "messages", None) or {}).get(lang, {}).items():
                found.setdefault(code, text)
    return found


def template(code: str, lang: str = "vi", policy: Policy | None = None) -> str:
    """The template of ``code`` in ``lang``: the core catalogue's, else a plugin's; an unknown
    code falls back to English, then to the code itself with its parameters."""
    text = catalogue(lang).get(code)
    if text is None:
        text = plugin_messages(policy, lang).get(code)
    if text is None and lang != "en":
        text = catalogue("en").get(code) or plugin_messages(policy, "en").get(code)
    return text if text is not None else code


# ---------------------------------------------------------------- numbers


def format_number(value: Decimal | int, places: int, lang: str = "vi") -> str:
    """``value`` rounded half-up to ``places`` digits after the point, written as ``lang``
    writes numbers: Vietnamese ``1.234,50`` (Babel, locale ``vi``), English ``1234.50`` (as the
    JSON result has it, no grouping). Exact: Decimal throughout, in the engine's 50-digit context
    (Babel's own rounding is never reached: the value has exactly ``places`` digits by then)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}' (expected one of {', '.join(LANGUAGES)})")
    with engine_context():
        exact = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if lang == "en":
            # Babel's pattern "0.00…" in locale en gives exactly this; the engine's English
            # reasons are made without importing Babel (see :func:`catalogue`)
            return f"{exact:f}"
        from babel.numbers import format_decimal

        fraction = "." + "0" * places if places > 0 else ""
        return str(format_decimal(exact, format="#,##0" + fraction, locale=lang))


def number_text(value: Decimal | int, lang: str = "vi") -> str:
    """A number with every digit it has (no rounding): ``0.8`` → ``0,8`` in Vietnamese."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)  # counts and years, never grouped (a year is not "2.022")
    with engine_context():
        exponent = value.normalize().as_tuple().exponent if value else 0
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_number(value, places, lang)


# ---------------------------------------------------------------- rendering


def render(code: str, params: Mapping[str, Any], lang: str = "vi", *, policy: Policy | None = None,
           units: Mapping[str, str] | None = None) -> str:
    """The text of a decision: the template of ``code`` in ``lang`` filled with ``params``.

    :param code: A reason code (``vote_below_threshold``…), as the result's ``"code"`` keys hold.
    :param params: Its parameters, as a :class:`Reason` or the result's ``"params"`` hold them
        (decimals as ``Decimal`` or as the result's strings, ``"0.8"``).
    :param lang: ``"vi"`` (the default) or ``"en"``.
    :param policy: When given, ids are shown by the names the policy declares (``title``,
        ``titles``: title names; ``criterion``, ``layer``: their names; ``ceiling``: the band's name; ``condition``: the condition with input labels, band names
        and the language's words for operators) and a plugin's codes are found.
    :param units: Unit names by id, for ``leader`` (else the id is shown).
    :returns: One line of text. Numbers are written as ``lang`` writes them, each with its own
        digits (``format_number`` for a fixed precision).
    """
    return fill(template(code, lang, policy), params, lang, policy=policy, units=units)


#: ``thidua_rules.render_message``: :func:`render` under a name that does not clash with the
#: top-level ``render`` (a result in an output format).
render_message = render


def fill(text: str, params: Mapping[str, Any], lang: str = "vi", *, policy: Policy | None = None,
         units: Mapping[str, str] | None = None) -> str:
    """A template's ``{name}`` fields filled with ``params`` as :func:`render` shows them (a
    missing parameter is empty; the values are never read as templates themselves)."""
    fields = {name: _param(name, params.get(name, ""), lang, policy, units) for name in _FIELD.findall(text)}
    return _FIELD.sub(lambda m: fields[m.group(1)], text)


def with_text(reason: Any, messages: Mapping[str, Mapping[str, str]]) -> Any:
    """A plugin check's reason with its English text from the plugin's ``messages``, when it is a
    :class:`Reason` of a code the core catalogue lacks (anything else unchanged)."""
    if not isinstance(reason, Reason) or not reason or reason.code in catalogue("en"):
        return reason
    english = messages.get("en", {}).get(reason.code)
    if english is None or str(reason) != reason.code:  # the plugin gave its own text
        return reason
    return Reason(reason.code, reason._params, text=fill(english, reason._params, "en"))


def _param(name: str, value: Any, lang: str, policy: Policy | None, units: Mapping[str, str] | None) -> str:
    if policy is not None and name in ("title", "titles"):
        names = title_names(policy)
        items = value if isinstance(value, list | tuple) else [value]
        return ", ".join(names.get(str(v), str(v)) for v in items)
    if policy is not None and name == "criterion" and isinstance(value, str):
        return next((c.name for c in policy.criteria if c.id == value), value)
    if policy is not None and name == "ceiling" and isinstance(value, str):
        return next((b.name for b in policy.bands if b.id == value), value)
    if policy is not None and name == "layer" and isinstance(value, str):
        return next((layer.name for layer in policy.layers if layer.id == value), value)
    if policy is not None and name == "condition" and isinstance(value, str):
        from .exprtext import describe

        return describe(value, policy, lang)
    if name in ("leader", "unit") and units is not None and isinstance(value, str):
        return units.get(value, value)
    return show(value, lang)


def show(value: Any, lang: str = "vi") -> str:
    """A parameter or fact as ``lang`` writes it: numbers with their digits, lists joined."""
    if isinstance(value, bool):
        return render("word_true" if value else "word_false", {}, lang)
    if isinstance(value, Decimal | int):
        return number_text(value, lang)
    if isinstance(value, str) and lang == "vi" and _DECIMAL_TEXT.fullmatch(value):
        return number_text(Decimal(value), lang)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(show(v, lang) for v in value) + "]"
    return str(value)


def title_names(policy: Policy) -> dict[str, str]:
    """Title names by id, the units' and the people's."""
    names = {t.id: t.name for t in policy.people.titles} if policy.people is not None else {}
    names.update({t.id: t.name for t in policy.titles})
    return names
