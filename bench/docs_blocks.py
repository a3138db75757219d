"""The docs' generated blocks: text between `<!-- BEGIN generated: NAME -->` and
`<!-- END generated: NAME -->` in README.md and docs/*.md, written by `python -m bench.update_docs`
and checked by tests/test_docs.py.

A block's body opens with its provenance line (the command, machine and date it came from), then
a blank line, then the table. The paper-2 blocks' tables come from feature_selection.py runs that
take hours; docs/records/paper2.json records, per block, the runs it came from and the SHA-256 of
its table, so a table edited by hand, or left behind by a newer run, fails the tests.
"""
import hashlib
import json
import platform
import re
from pathlib import Path

from naap.workers import available_cores

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = ["README.md", "docs/*.md"]  # where generated blocks may live
RECORD = ROOT / "docs" / "records" / "paper2.json"

GENERATED_BLOCK = re.compile(
    r"<!-- BEGIN generated: (?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- END generated: (?P=name) -->", re.S)


def doc_paths(root=ROOT):
    """The Markdown files that may hold generated blocks."""
    return [p for pattern in DOC_FILES for p in sorted(root.glob(pattern))]


def generated_blocks(text):
    """{name: body} of the generated blocks of a Markdown text."""
    return {m["name"]: m["body"] for m in GENERATED_BLOCK.finditer(text)}


def replace_generated_block(text, name, body):
    """text with the generated block `name` holding body (which ends with a newline)."""
    found = [m for m in GENERATED_BLOCK.finditer(text) if m["name"] == name]
    if not found:
        raise KeyError(name)
    m = found[0]
    return text[:m.start("body")] + body + text[m.end("body"):]


def block_body(provenance, table):
    """A block's body: the provenance line, a blank line, the table (ending with a newline)."""
    return f"{provenance}\n\n{table if table.endswith(chr(10)) else table + chr(10)}"


def split_body(body):
    """(provenance line, table) of a block's body."""
    provenance, _, table = body.partition("\n\n")
    return provenance, table


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def machine_description():
    """This machine in a few words: architecture, cores, CPU model (Linux), Python version."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f" ({line.split(':', 1)[1].strip()})"
                break
    except OSError:
        pass
    return f"{platform.machine()}, {available_cores()} cores{model}, Python {platform.python_version()}"


def read_record(path=RECORD):
    return json.loads(path.read_text())


def record_text(record):
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"
