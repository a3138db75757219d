"""Write measured tables into the docs: each generated block gets the file a run produced.

The docs hold result tables between `<!-- BEGIN generated: NAME -->` and
`<!-- END generated: NAME -->` (bench/docs_blocks.py). This script replaces the text of each
named block, in every Markdown file of the project that has it, by the content of a file a
pipeline or bench run wrote (results.md of run_experiments.py, best.md of feature_selection.py,
the --out table of bench/bench_fidelity.py, ...). The tests compare the blocks they can recompute
(the baseline tables of both estimator sets) with what the code produces, so the docs cannot
drift from the code.

Inputs: NAME=FILE pairs. Outputs: the Markdown files that hold those blocks, rewritten atomically.
A NAME that no file holds, or a FILE that cannot be read, is one error line and exit status 2.

Example:
  python bench/update_docs.py results-paper=results/results.md results-sklearn=results_sklearn/results.md
"""
import argparse
from pathlib import Path

from bench.docs_blocks import generated_blocks, replace_generated_block
from naap.cli import InputError, run_cli
from naap.files import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent

DOC_FILES = ["README.md", "docs/*.md"]  # where generated blocks may live


def doc_paths():
    return [p for pattern in DOC_FILES for p in sorted(ROOT.glob(pattern))]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("blocks", nargs="+", metavar="NAME=FILE", help="a generated block and the file that fills it")
    return p.parse_args(argv)


def main(args):
    updates = {}
    for item in args.blocks:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"{item}: expected NAME=FILE")
        try:
            body = Path(path).read_text()
        except OSError as e:
            raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
        updates[name] = body if body.endswith("\n") else body + "\n"
    texts = {path: path.read_text() for path in doc_paths()}
    holders = {name: [p for p, t in texts.items() if name in generated_blocks(t)] for name in updates}
    missing = [name for name, paths in holders.items() if not paths]
    if missing:
        raise InputError(f"no generated block named {', '.join(missing)} in {', '.join(DOC_FILES)}")
    changed = {}
    for name, paths in holders.items():
        for path in paths:
            changed[path] = replace_generated_block(changed.get(path, texts[path]), name, updates[name])
    for path, text in changed.items():
        if text != texts[path]:
            atomic_write_text(path, text)
            print(f"{path.relative_to(ROOT)}: updated")


if __name__ == "__main__":
    run_cli(main, parse_args())
