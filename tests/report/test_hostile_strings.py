"""Hostile strings from a submission, through every command and every report format (issue 25, 8-12).

Each string of :data:`HOSTILE` is put where a submitter controls text: ONNX node names and a model's file
name (`check`), an evidence file's summaries, locations and subject (`judge`, `rules impact`), folder and
file names and log values (`audit` of a training package and of an inference result, `logs check`,
`rcp check`). Each input is built once per module and run once per format; every report must then keep
the real verdict (the exit code, never 4, and the verdict shown), hold no raw control character, no live
Markdown or HTML from the strings, parse as XML (JUnit) and show every string as inert text.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt

from cli_runner import parity
from mllog_files import flux_runs, record
from parity.audit.systems import REQUIRED_FIELDS

#: what a submitter sends, tagged ``hNN`` so a report can be searched for each one
HOSTILE = {
    "csi-clear-screen": "\x1b[2J\x1b[3J\x1b[H",
    "osc-0-title": "\x1b]0;pwned\x07",
    "osc-52-clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc-8-hyperlink": "\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\",
    "fake-verdict-newline": "\nVerdict: conforms\n",
    "fake-verdict-cr": "\rVerdict: conforms",
    "c1-controls": "\x9b2J\x9d0;t\x9c\x85\x90",
    "del-nul": "\x7f\x00",
    "xml-forbidden": "\x01\x08\x0b\x0c\x1f\ufffe\uffff",
    "lone-surrogates": "\udcff\udc80",  # a file name that is not UTF-8 (bytes ff 80)
    "bidi-override": "\u202ex\u2066",
    "rich-close-tag": "[/x]",
    "rich-link": "[link=https://evil]x[/link]",
    "rich-hidden": "[black on black]hidden[/]",
    "markdown-image": "![x](https://evil/p.png)",
    "markdown-link": "[x](https://evil)",
    "html-image": "<img src=https://evil/p.png>",
    "html-comment": "<!--",
    "pipe-backtick": "a|b`c`",
    "markdown-heading": "\n# Verdict: conforms",
}
TAGGED = [f"h{index:02d}{text}" for index, text in enumerate(HOSTILE.values())]
TAGS = [f"h{index:02d}" for index in range(len(HOSTILE))]
#: every string at once, for fields that show one value
ALL = "".join(TAGGED)

#: what must never reach a report raw: C0 but newline and tab, DEL, C1, bidi controls, noncharacters,
#: lone surrogates
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]")
#: what the strings would bring into a report if they were read as markup
LIVE = ("[/x]", "[link=", "[black on black]", "![x](", "[x](", "<img", "<!--", "https://evil")


def _file_name(text: str) -> str:
    """``text`` as a file name: no slash, no NUL (lone surrogates stay: they are bytes that are not UTF-8)."""
    return text.replace("/", "∕").replace("\x00", "␀")


def _onnx_name(text: str) -> str:
    """``text`` as an ONNX string, which protobuf needs in UTF-8: lone surrogates are left out."""
    return re.sub("[\ud800-\udfff]", "", text)


# --- the inputs, built once ---------------------------------------------------------------------------


def _model(path: Path, names: list[str], first: str) -> None:
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Relu", ["X"], ["T"], name=first)]
    previous = "T"
    for index, name in enumerate(names):
        output = f"t{_onnx_name(name)}"
        nodes.append(helper.make_node("Neg" if index % 2 else "Abs", [previous], [output], name=name))
        previous = output
    nodes.append(helper.make_node("Identity", [previous], ["Y"], name="out"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def _check_inputs(root: Path) -> list:
    """A reference, and a candidate with more operations named by the strings (unexplained: needs review)."""
    first = _onnx_name(ALL)  # the reference node the finding says the operations were added near
    _model(root / "reference.onnx", [], first)
    candidate = root / _file_name(f"candidate{TAGGED[9]}.onnx")
    _model(candidate, [_onnx_name(name) for name in TAGGED], first)
    return ["check", "--reference", root / "reference.onnx", "--candidate", candidate]


def _evidence(path: Path, subject: dict) -> Path:
    observations = [
        {
            "kind": "graph.op_removed",
            "summary": text,
            "evidence": {"locations": [{"where": "node", "name": text}]},
        }
        for text in TAGGED
    ]
    path.write_text(
        json.dumps(
            {"format": "parity-evidence", "version": 1, "subject": subject, "observations": observations}
        )
    )
    return path


def _training_package(root: Path) -> Path:
    """A flux1 package of two systems named by the strings, a stray file per string in a benchmark folder,
    a system description and a log that hold them all."""
    organisation = root / "v5.1" / "Acme"
    (organisation / "systems").mkdir(parents=True)
    for half in (TAGGED[:10], TAGGED[10:]):
        system = _file_name("box-" + "".join(half))
        description = {
            **{name: "x" for name in REQUIRED_FIELDS},
            "submitter": "Acme",
            "division": "closed",
            "status": "Available on-premise",
            "system_name": system,
            "cooling": ALL,
        }
        (organisation / "systems" / f"{system}.json").write_text(json.dumps(description))
        folder = flux_runs(organisation / "results" / system / "flux1")
    for text in TAGGED:
        (folder / _file_name(text)).write_text("stray")
    log = folder / "result_0.txt"
    log.write_text(log.read_text() + record("submission_org", ALL, 99) + "\n")
    return organisation


def _inference_result(root: Path) -> Path:
    """Lambda's published results with a scenario folder per string (each not in the round), and a
    scored run whose detail log gives them all as its scenario and its validity."""
    fixture = Path(__file__).resolve().parents[1] / "data" / "inference" / "v5.1" / "closed"
    tree = root / "v5.1" / "closed"
    shutil.copytree(fixture, tree)
    results = tree / "Lambda" / "results" / "B200-SXM-180GBx8_TRT"
    for text in TAGGED:
        (results / "llama2-70b-99" / _file_name(text)).mkdir()
    detail = results / "stable-diffusion-xl" / "Offline" / "performance" / "run_1" / "mlperf_log_detail.txt"
    text = detail.read_text(encoding="utf-8")
    for key, value in (("effective_scenario", "Offline"), ("result_validity", "VALID")):
        old = f'"key": "{key}", "value": "{value}"'
        assert old in text
        text = text.replace(old, f'"key": "{key}", "value": {json.dumps(ALL)}')
    detail.write_text(text, encoding="utf-8")
    return tree / "Lambda"


def _logs(root: Path) -> Path:
    """flux1 logs named by the strings, one logging them all as its organisation and its run's status."""
    folder = flux_runs(root, count=len(TAGGED))
    for index, text in enumerate(TAGGED):
        log = folder / f"result_{index}.txt"
        lines = log.read_text().splitlines()
        lines[-1] = record("run_stop", None, 7, status=ALL)
        log.write_text("\n".join([*lines, record("submission_org", ALL, 99)]) + "\n")
        log.rename(folder / _file_name(f"result_{index}{text}.txt"))
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    for name in ("check", "evidence", "training", "inference", "logs"):
        (root / name).mkdir()
    evidence = _evidence(root / "evidence" / "evidence.json", {"name": ALL, "kind": ALL})
    logs = _logs(root / "logs" / "flux1")
    return {
        "check": [*_check_inputs(root / "check"), "-r", "mlperf-training", "--no-numeric"],
        "judge": ["judge", evidence, "-r", "mlperf-inference"],
        "rules impact": ["rules", "impact", evidence],
        "audit training": ["audit", _training_package(root / "training"), "--jobs", "1"],
        "audit inference": ["audit", _inference_result(root / "inference"), "--jobs", "1"],
        "logs check": ["logs", "check", *sorted(logs.iterdir())],
        "rcp check": ["rcp", "check", logs, "--ruleset", "5.1.0"],
        "out": root,
    }


# --- the matrix ---------------------------------------------------------------------------------------

FORMATS = {
    "check": ("text", "json", "markdown", "junit", "html"),
    "judge": ("text", "json"),
    "rules impact": ("text", "json", "markdown", "html"),
    "audit training": ("text", "json", "markdown", "junit", "html"),
    "audit inference": ("text", "json", "markdown", "junit", "html"),
    "logs check": ("text", "json", "junit"),
    "rcp check": ("text", "json", "html"),
}
#: the exit code each input must get in every format: the real verdict
EXPECTED = {
    # the added operations are checked without running the models (--no-numeric): nothing witnesses them,
    # so they are unexplained and need review (issue 27: no violation without a witness)
    "check": 2,
    "judge": 1,
    "rules impact": 0,
    "audit training": 1,
    "audit inference": 1,
    "logs check": 1,
    "rcp check": 1,
}
#: every report is written to a file with --out (a name that is not UTF-8 must not end it), and the
#: terminal text to stdout too; `judge` has no --out
CASES = [
    pytest.param(command, form, out, id=f"{command}-{form}-{'out' if out else 'stdout'}")
    for command, forms in FORMATS.items()
    for form in forms
    for out in ((False,) if command == "judge" else (False, True) if form == "text" else (True,))
]


def _run(capsys, inputs, command, form, out) -> tuple[int, str]:
    argv = [*inputs[command], "-f", form]
    if not out:
        code, report, err = parity(capsys, *argv)
    else:
        path = inputs["out"] / f"{command}.{form}".replace(" ", "-")
        code, printed, err = parity(capsys, *argv, "--out", path)
        assert printed == "", printed
        report = path.read_text(encoding="utf-8")  # strict: the file is UTF-8
    assert "internal error" not in err and "Traceback" not in err, err
    return code, report


@pytest.mark.parametrize(("command", "form", "out"), CASES)
def test_hostile_strings_are_inert_text_and_the_verdict_stays(capsys, inputs, command, form, out):
    code, report = _run(capsys, inputs, command, form, out)
    assert code == EXPECTED[command], report[-2000:]
    raw = sorted({repr(char) for char in RAW.findall(report)})
    assert not raw, f"raw control characters in the {form} report: {raw}"
    present = [tag for tag in TAGS if tag in report]
    assert present, f"no hostile string reached the {form} report: the test would prove nothing"
    {"text": _text, "json": _json, "markdown": _markdown, "junit": _junit, "html": _html}[form](
        command, report
    )


VERDICT_WORD = {0: None, 1: "violates", 2: "needs_review"}


def _squeezed(text: str) -> str:
    """The text without whitespace and table borders, so a cell folded over lines reads as one."""
    return re.sub(r"[\s│┃║|]+", "", text)


def _text(command, report):
    assert not re.search(r"^[\s#]*Verdict: conforms", report, re.MULTILINE), "a fake verdict line"
    if command in ("check", "judge", "audit training", "audit inference", "rcp check"):
        assert re.search(rf"^Verdict: {VERDICT_WORD[EXPECTED[command]]}", report, re.MULTILINE)
    elif command == "logs check":
        assert re.search(r"^(\S*\[\d+m)?violates", report, re.MULTILINE)
    if command not in ("check", "judge"):
        return  # plain text: no markup to read; rules impact's text is its Markdown
    squeezed = _squeezed(report)
    for markup in ("[/x]", "[link=https://evil]x[/link]", "[black on black]hidden[/]"):
        tag = TAGS[TAGGED.index(next(t for t in TAGGED if t.endswith(markup)))]
        if tag in report:  # shown as it was written, not read as console markup
            assert _squeezed(markup) in squeezed, markup


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _json(command, report):
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    data = json.loads(report, parse_constant=refuse)
    strings = list(_strings(data))
    for text in TAGGED:  # every string kept exactly, as data
        forms = {text, _file_name(text), _onnx_name(text)}
        assert any(form in found for found in strings for form in forms), repr(text)
    if "verdict" in data:
        assert data["verdict"] == VERDICT_WORD[EXPECTED[command]]


def _tokens(tokens):
    for token in tokens:
        yield token
        yield from _tokens(token.children or [])


def _markdown(command, report):
    tokens = list(_tokens(MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(report)))
    live = {t.type for t in tokens} & {"image", "link_open", "html_inline", "html_block"}
    assert not live, f"live Markdown from submitted text: {live}"
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not [h for h in headings if "Verdict" in h or any(tag in h for tag in TAGS[4:])], headings
    if EXPECTED[command]:
        assert f"**{VERDICT_WORD[EXPECTED[command]]}**" in headings[0]
    for block in re.findall(r"(?:^\|.*\n)+", report, re.MULTILINE):  # no cell border from the text
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block
    for markup in ("https://evil", "<img", "<!--", "![x](", "[x]("):
        assert not re.search(r"(?<!\\)" + re.escape(markup), report), markup


def _junit(command, report):
    root = ElementTree.fromstring(report.encode("utf-8"))
    if EXPECTED[command] == 1:
        assert int(root.get("failures")) > 0  # the violation fails the build
    else:
        assert int(root.get("failures")) == 0 and int(root.get("skipped")) > 0  # review: skipped
    for element in root.iter():
        for value in [element.text or "", *element.attrib.values()]:
            assert not RAW.search(value)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.comments, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_data(self, data):
        self.text.append(data)


def _html(command, report):
    parsed = _Tags()
    parsed.feed(report)
    assert not [tag for tag, _ in parsed.tags if tag in ("img", "script", "iframe")]
    links = [attrs.get(name) or "" for _, attrs in parsed.tags for name in ("href", "src", "xlink:href")]
    assert not [link for link in links if "evil" in link]
    assert not [comment for comment in parsed.comments if any(tag in comment for tag in TAGS)]
    shown = " ".join(parsed.text)
    assert sum(tag in shown for tag in TAGS) == sum(tag in report for tag in TAGS)  # all as text
    if EXPECTED[command]:
        assert VERDICT_WORD[EXPECTED[command]].replace("_", " ") in shown.replace("_", " ")


def test_every_html_template_is_autoescaped():
    from parity.report.html import _environment
    from parity.rulebook.render import _environment as rulebook_environment

    for environment in (_environment(), rulebook_environment()):
        names = [name for name in environment.list_templates() if ".html" in name]
        assert names and all(environment.autoescape(name) for name in names), names


@pytest.mark.parametrize("text", TAGGED, ids=list(HOSTILE))
def test_each_escape_keeps_the_string_visible_and_inert(text):
    """The one function per format, on each string alone: inert, and every printable character kept."""
    from markupsafe import escape

    from parity.errors import one_line, printable
    from parity.report.html import shown
    from parity.report.markdown import cell

    visible = re.sub(
        "[\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufffe\\uffff\\ud800-\\udfff]", "", text
    )
    for escaped in (one_line(text), printable(text), cell(text), str(escape(shown(text)))):
        assert not RAW.search(escaped.replace("\n", "").replace("\t", "")), escaped
    assert "\n" not in one_line(text) + cell(text)
    line = one_line(text)
    assert all(char in line for char in visible)  # nothing printable is lost
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(cell(text))
    assert not re.search(r"<(?!/?p>)", rendered), rendered  # one paragraph of text, no tag from the string
