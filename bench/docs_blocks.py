"""The docs' generated blocks: text between `<!-- BEGIN generated: NAME -->` and
`<!-- END generated: NAME -->`, rewritten by bench/update_docs.py and checked by the tests."""
import re

GENERATED_BLOCK = re.compile(r"<!-- BEGIN generated: (?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- END generated: (?P=name) -->",
                             re.S)


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
