"""The legal basis (căn cứ pháp lý) of a policy: per rule, the law and articles it was taken from.

``basis(policy)`` lists every title rule of the policy (the units' ``[[titles]]``, then the
members' ``[[people.titles]]``, each in policy order) with the version of the law it applies:
the instrument, the articles, the period that version is in force, the catalogue edition it
comes from and how it was chosen (in force on the evaluation date, or pinned by the policy). A
rule written by the policy itself, without ``[[versions]]``, is listed too, with no articles and
its free ``source`` text, so that a reader sees which rules cite nothing. The result document's
``provenance.legal_basis`` and the Markdown report's "Căn cứ pháp lý" are made from it; other
documents (a Tờ trình) can call it on a loaded policy.
"""

from __future__ import annotations

from typing import Any

import attrs

from .model import Policy, Title


@attrs.frozen(kw_only=True)
class LegalBasis:
    """One rule and the law it applies.

    ``section`` is ``titles`` (a unit's title) or ``people.titles`` (a member's); ``in_force_from``
    and ``in_force_until`` are ISO dates, both included, None for an open end; ``version`` is
    the catalogue's version id (``law2003``, ``law2022-nd98`` …), None for a rule without versions;
    ``chosen`` says why that version ("in force on 2022-12-31 (policy.year = 2022)", "pinned in
    policy.toml"); ``catalogue`` names the catalogue edition ("law2022 2026.12").
    """

    rule: str
    section: str
    title: str
    instrument: str | None = None
    articles: tuple[str, ...] = ()
    in_force_from: str | None = None
    in_force_until: str | None = None
    version: str | None = None
    pinned: bool = False
    chosen: str | None = None
    catalogue: str | None = None
    source: str | None = None


def basis(policy: Policy) -> tuple[LegalBasis, ...]:
    """The legal basis of every title rule of ``policy``: units' titles, then members' titles.

    :param policy: A loaded policy (``load_policy`` / ``parse_policy``).
    :returns: One :class:`LegalBasis` per rule, in policy order; deterministic.
    """
    rules = [_basis(t, "titles") for t in policy.titles]
    if policy.people is not None:
        rules += [_basis(t, "people.titles") for t in policy.people.titles]
    return tuple(rules)


def _basis(title: Title, section: str) -> LegalBasis:
    law = title.law
    if law is None:
        return LegalBasis(rule=title.id, section=section, title=title.name, source=title.source or None)
    return LegalBasis(
        rule=title.id, section=section, title=title.name, instrument=law.instrument, articles=law.articles,
        in_force_from=law.in_force_from, in_force_until=law.in_force_until, version=law.version,
        pinned=law.pinned, chosen=law.chosen, catalogue=law.catalogue, source=title.source or None,
    )


def basis_document(policy: Policy) -> list[dict[str, Any]]:
    """:func:`basis` as the result document's ``provenance.legal_basis`` (plain data)."""
    return [
        {
            "rule": b.rule, "section": b.section, "title": b.title, "instrument": b.instrument,
            "articles": list(b.articles),
            "in_force": None if b.version is None else {"from": b.in_force_from, "until": b.in_force_until},
            "version": b.version, "pinned": b.pinned, "chosen": b.chosen, "catalogue": b.catalogue,
            "source": b.source,
        }
        for b in basis(policy)
    ]


def outdated_for(policy: Policy, year: int) -> str | None:
    """For a policy with no evaluation date (so the latest versions were taken), what is wrong
    with judging ``year`` by it: the first rule whose version is not in force on 31 December of
    ``year``, or None. Pinned rules are the policy's choice and are not reported."""
    day = f"{year:04d}-12-31"
    for rule in basis(policy):
        if rule.version is None or rule.pinned:
            continue
        if not (rule.in_force_from or "") <= day <= (rule.in_force_until or "9999-12-31"):
            return (f"the policy gives no year or evaluation_date, so it takes the latest version of each "
                    f"rule, but '{rule.rule}' ({rule.version}) is not in force on {day}: give the policy "
                    f"year = {year}")
    return None
