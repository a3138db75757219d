"""Bit-exact re-implementations of the library code that decides the published NAAP-440 table.

The paper's table was made with Python 3.7.1, numpy 1.15.4, pandas 0.23.4 and scikit-learn 0.20.1
(see FIDELITY_2022.md beside the published data). Today's libraries differ from those in a few
places that change results in the last bit or in the order of tied values, and some of today's
code paths depend on the CPU (SIMD dispatch, BLAS kernels). The modules here re-do the old
arithmetic and the old orders in plain scalar code (numba without fastmath, no BLAS, no OpenMP,
no numpy sort/log/pow), so their results are the 2022 results and the same on every CPU:

  pandas_0_23_parser      pandas 0.23.4's read_csv float parser (xstrtod)
  numpy_1_15_quicksort    numpy 1.15.4's argsort (quicksort, heapsort fallback)
  numpy_1_15_introselect  numpy 1.15.4's argpartition (introselect)
  numpy_1_15_sort_common  the float less-than both compare with, as int64 keys
  knn_0_20_1              scikit-learn 0.20.1's brute-force k-NN regression
  python37_set            CPython 3.7's iteration order of a set of tuples
  fixedmath               the C library's log/exp/pow and libsvm's dot products, on every CPU
  rules                   the two scikit-learn releases and the parts of the old one's behaviour
  trees, ensembles        scikit-learn's trees and ensembles, as 1.9.1 or 0.20.1 grew them (with
                          tree_builder, tree_splitter and tree_sort, which trees is built of)
  numba_cache             numba's on-disk cache made to notice edits of the modules a kernel calls

The names below are re-exported from their modules, each imported on first use: importing the
package (for rules, say) loads neither numba nor pandas nor scikit-learn.
"""
import importlib

_HOMES = {
    "pandas_0_23_parser": ("xstrtod", "read_csv_2022"),
    "numpy_1_15_sort_common": ("sort_keys",),
    "numpy_1_15_quicksort": ("argsort_1_15", "argsort_1_15_rows", "argsort_1_15_columns"),
    "numpy_1_15_introselect": ("argpartition_1_15_rows",),
    "knn_0_20_1": ("knn_predict_0_20_1",),
    "python37_set": ("int_hash_py37", "tuple_hash_py37", "set_order_py37"),
    "fixedmath": ("c_log", "c_exp", "c_pow", "c_logit", "c_expit", "dot_rows", "squared_norms", "libsvm_kernel"),
    "rules": ("REPLICA_VERSION", "PAPER_VERSION", "RULES", "TREE_PARTS", "ENSEMBLE_PARTS", "MODEL_PARTS",
              "DATA_PARTS", "parts_on", "as_release"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    """A re-exported name, from its module (imported now if it was not yet)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
