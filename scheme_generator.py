"""Enumerate the 440 NAAP-440 candidate CNN schemes, depth first.

A scheme is a list of conv layers {kernel_size, width, stride, residual}. Every prefix of at least
MIN_DEPTH layers is itself a scheme and is written before its extensions; at each depth the options
are tried kernel -> width -> stride -> residual, in the orders listed in LAYER_OPTIONS. A residual
needs stride 1 and the previous layer's width; a stride-2 option is skipped once MAX_STRIDE2_LAYERS
exist. The output equals the published generated_schemes.json (scheme i is ModelId i+1).

Input:  none.
Output: OUT.json, a JSON list of schemes (indent 2); prints how many were written. An existing
        OUT.json is replaced only with --force; it may not be one of the program's own files.
Example: python scheme_generator.py generated_schemes.json
"""
import itertools
import json

from naap.cli import OneLineArgumentParser, run_cli
from naap.files import atomic_write_text, check_outputs_not_inputs

MIN_DEPTH = 3
MAX_STRIDE2_LAYERS = 3
# per depth: (kernel sizes, widths, strides, residual options), tried in this order
LAYER_OPTIONS = [
    ([3], [12, 16], [2], [False]),
    ([3], [16, 24], [2], [False]),
    ([1, 3], [16, 24, 32], [1, 2], [False, True]),
    ([1, 3], [32, 40], [1, 2], [False, True]),
]


def generate_schemes(layer_options=LAYER_OPTIONS, min_depth=MIN_DEPTH, max_stride2=MAX_STRIDE2_LAYERS):
    """Return the list of schemes in depth-first order."""
    schemes = []

    def extend(prefix):
        if len(prefix) >= min_depth:
            schemes.append(prefix)
        if len(prefix) == len(layer_options):
            return
        num_stride2 = sum(layer["stride"] == 2 for layer in prefix)
        for kernel, width, stride, residual in itertools.product(*layer_options[len(prefix)]):
            if stride == 2 and num_stride2 >= max_stride2:
                continue
            if residual and (stride != 1 or not prefix or prefix[-1]["width"] != width):
                continue
            extend(prefix + [{"kernel_size": kernel, "width": width, "stride": stride, "residual": residual}])

    extend([])
    return schemes


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output JSON file, e.g. generated_schemes.json")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    return p.parse_args(argv)


def main(args):
    check_outputs_not_inputs([args.out])  # no inputs but the program's own source files
    schemes = generate_schemes()
    atomic_write_text(args.out, json.dumps(schemes, indent=2), replace=args.force)
    print(f"{len(schemes)} schemes written to {args.out}")
    return schemes


if __name__ == "__main__":
    run_cli(main, parse_args())
