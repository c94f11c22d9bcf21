"""JUnit XML: one test case per rule of the division, so any CI system shows the audit natively.

Forbidden findings are failures; findings that need review are skipped with the reason, which CI systems
show without failing the build. One more case carries what the division's default polarity decided.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

from parity.errors import one_line
from parity.judge import Judgement, Outcome
from parity.rulebook import Rule, Rulebook

#: change-kind categories a training log can show
LOG_CATEGORIES = frozenset({"log", "hparam", "convergence", "accuracy"})


def element(parent: ElementTree.Element | None, tag: str, lines=(), **attributes) -> ElementTree.Element:
    r"""A JUnit element whose attributes and text lines are escaped: the one place of the JUnit reports.

    Each attribute value and each line goes through :func:`parity.errors.one_line`, so every character
    XML 1.0 forbids (C0 controls but tab and newline, U+FFFE, U+FFFF, lone surrogates), every other
    control character and every newline inside a value is its visible escape (``\x1b``); the lines are
    then joined with real newlines, and ElementTree escapes ``&``, ``<``, ``>`` and quotes.
    """
    attrib = {name: one_line(value) for name, value in attributes.items()}
    made = ElementTree.Element(tag, attrib) if parent is None else ElementTree.SubElement(parent, tag, attrib)
    if lines:
        made.text = "\n".join(one_line(line) for line in lines)
    return made


def render_junit(judgement: Judgement, book: Rulebook) -> str:
    """The XML text of one audit: one suite, a case per rule of the division."""
    return _document([_suite(judgement, book, f"parity {judgement.rulebook} ({judgement.division})")])


def render_logs_junit(results: list, book_of: Callable[[str], Rulebook]) -> str:
    """One suite per log, with a case per rule a log can decide (log, hparam, convergence kinds).

    A CI page then lists what each log passed and failed, without the graph rules no log can touch.
    """
    suites = []
    for result in results:
        judgement = result.judgement
        suites.append(
            _suite(judgement, book_of(judgement.rulebook), str(result.check.path), _about_logs_rule)
        )
    return _document(suites)


def _about_logs_rule(rule: Rule) -> bool:
    return any(pattern.split(".")[0] in LOG_CATEGORIES for pattern in rule.governs)


def _document(suites: list[ElementTree.Element]) -> str:
    root = element(None, "testsuites", name="parity")
    for attribute in ("tests", "failures", "skipped", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in suites)))
    root.extend(suites)
    return serialised(root)


def serialised(root: ElementTree.Element) -> str:
    """The XML text of a JUnit tree made with :func:`element`, indented."""
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(
    judgement: Judgement, book: Rulebook, name: str, relevant: Callable[[Rule], bool] = lambda rule: True
) -> ElementTree.Element:
    by_rule: dict[str, list] = {}
    for finding in judgement.findings:
        by_rule.setdefault(finding.rule or "default-polarity", []).append(finding)
    rule_ids = [
        rule.id
        for rule in book.rules.values()
        if judgement.division in (d.value for d in rule.divisions) and (relevant(rule) or rule.id in by_rule)
    ]
    names = [*rule_ids, "default-polarity"]
    suite = element(None, "testsuite", name=name, tests=str(len(names)))
    failures = skipped = 0
    for case_name in names:
        case = element(suite, "testcase", classname=f"parity.{judgement.rulebook}", name=case_name)
        findings = by_rule.get(case_name, [])
        forbidden = [f for f in findings if f.outcome is Outcome.FORBIDDEN]
        review = [f for f in findings if f.outcome is Outcome.NEEDS_REVIEW]
        if forbidden:
            failures += 1
            why = ["", f"Why: {forbidden[0].rationale}"] if forbidden[0].rationale else []
            lines = [*(f"{f.kind}: {f.summary or f.message}" for f in forbidden), *why]
            element(case, "failure", lines, message=forbidden[0].message, type="forbidden")
        elif review:
            skipped += 1
            reasons = "; ".join(f"{f.kind}: {f.summary or f.message}" for f in review)
            element(case, "skipped", message=f"needs review: {reasons}"[:2000])
        elif case_name in book.rules and not book.rules[case_name].governs:
            skipped += 1
            element(case, "skipped", message="not observable automatically: a reviewer checks it")
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", "0")
    return suite
