"""The shape of the code: scripts on top, one package below, layers one way, one home per fact,
small modules and functions, no path hacks. Each check reads the sources (ast), so a change that
breaks the architecture fails here before it reaches a review."""
import ast
import subprocess
import sys

import pytest
from conftest import ROOT

SHARED_TOP_LEVEL = {"models", "metrics"}  # the libraries the papers name, kept beside the scripts
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def parsed(paths):
    return {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(), str(p)) for p in paths}


def top_level():
    return parsed(sorted(ROOT.glob("*.py")))


def package():
    return parsed(sorted((ROOT / "naap").rglob("*.py")))


def bench():
    return parsed(sorted((ROOT / "bench").glob("*.py")))


def is_script(tree):
    """A script runs under `if __name__ == "__main__":`; a library module has no such block."""
    return any(isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) for node in tree.body)


def imported_modules(tree):
    """Dotted names of every module a file imports, at any depth (imports inside functions too)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_top_level_holds_scripts_and_the_shared_libraries():
    modules = top_level()
    scripts = {Path_stem(name) for name, tree in modules.items() if is_script(tree)}
    libraries = {Path_stem(name) for name, tree in modules.items() if not is_script(tree)}
    assert libraries == SHARED_TOP_LEVEL
    assert {"scheme_generator", "create_dataset", "data_dir_to_csv", "run_experiments", "feature_selection",
            "baselines", "zero_cost", "download_naap440"} <= scripts


def Path_stem(name):
    return name.rsplit("/", 1)[-1][:-len(".py")]


def test_every_script_has_the_shape_of_a_script():
    for name, tree in top_level().items():
        if not is_script(tree):
            continue
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert {"parse_args", "main"} <= functions, name
        assert ast.get_docstring(tree) and "Example" in ast.get_docstring(tree), name


def test_the_package_never_imports_a_script_bench_or_tests():
    scripts = {Path_stem(name) for name, tree in top_level().items() if is_script(tree)}
    for name, tree in package().items():
        roots = {module.split(".")[0] for module in imported_modules(tree)}
        assert not roots & (scripts | {"bench", "tests", "conftest"}), (name, roots & (scripts | {"bench"}))


def test_the_shared_libraries_import_no_script():
    scripts = {Path_stem(name) for name, tree in top_level().items() if is_script(tree)}
    for name, tree in top_level().items():
        if not is_script(tree):
            assert not {m.split(".")[0] for m in imported_modules(tree)} & scripts, name


PATH_HACKS = ("sys.path." + "insert", "spec_from_file_" + "location")  # spelled apart: this file is scanned too


def test_no_path_hacks():
    # plugins.py loads a user's plug-in file by path: that is its job
    for path in [*ROOT.glob("*.py"), *ROOT.glob("naap/**/*.py"), *ROOT.glob("bench/*.py"),
                 *ROOT.glob("tests/*.py"), *ROOT.glob("examples/*.py")]:
        if path.name != "plugins.py":
            assert not any(hack in path.read_text() for hack in PATH_HACKS), path


def test_every_worker_pool_is_made_in_one_place():
    makers = {}
    for name, tree in {**top_level(), **package(), **bench()}.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in ("ProcessPoolExecutor", "Pool"):
                makers.setdefault(name, []).append(node.lineno)
    assert list(makers) == ["naap/workers.py"], makers


def test_data_dir_to_csv_needs_neither_torch_nor_sklearn_nor_numba():
    code = ("import sys, data_dir_to_csv; "
            "print(sorted(m for m in ('torch', 'sklearn', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def module_lengths():
    return {name: len(tree_source.splitlines()) for name, tree_source in
            ((p.relative_to(ROOT).as_posix(), p.read_text())
             for p in [*ROOT.glob("*.py"), *ROOT.glob("naap/**/*.py"), *ROOT.glob("bench/*.py")])}


def test_no_module_is_longer_than_its_limit():
    long = {name: n for name, n in module_lengths().items() if n > MAX_MODULE_LINES}
    assert long == {}


def long_functions(trees):
    found = {}
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1 - len(ast.get_docstring(node, clean=False) or "")
                body_start = node.body[1] if ast.get_docstring(node) and len(node.body) > 1 else node.body[0]
                length = node.end_lineno - body_start.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"{name}:{node.name}"] = length
    return found


def test_no_function_is_longer_than_its_limit():
    assert long_functions({**top_level(), **package(), **bench()}) == {}


# Names that several modules need (and once had copies of). tests/reference_training.py writes the
# recipe out again on purpose, as the independent reference of the training loop.
ONE_HOME = ("LR_CYCLE", "NUM_CLASSES", "PRECISION_KS", "whole_number", "REPLICA_VERSION", "EPOCHS",
            "load_schemes", "parse_shard", "MAX_VALUE", "TARGET", "SCHEME_FEATURES", "FULL_SCHEME_FEATURES",
            "SCHEME_V2_FEATURES", "NUM_TEST_BINS", "split_bins", "PARTS_0_20_1", "JOB_COST", "TASK_COST",
            "rule_parts", "paper_rules", "EPOCH_LINE", "SCHEME_LINE")


def defines(node, name):
    if isinstance(node, ast.Assign):
        if isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name):
            return False  # NAME = module.NAME re-exports the home's value; it defines nothing
        return any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    return isinstance(node, ast.FunctionDef) and node.name == name


@pytest.mark.parametrize("name", ONE_HOME)
def test_a_shared_name_is_defined_at_most_once(name):
    homes = [module for module, tree in {**top_level(), **package(), **bench()}.items()
             for node in tree.body if defines(node, name)]
    assert len(homes) <= 1, homes


def test_library_versions_are_named_not_written():
    # "1.9.1" and "0.20.1" name the replicated scikit-learn releases: constants, not literals
    found = []
    for name, tree in {**top_level(), **package()}.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in ("1.9.1", "0.20.1"):
                found.append(f"{name}:{node.lineno}")
    assert len(found) <= 2, found  # the two definitions in naap/replica/rules.py


# Modules that hold only constants: the tests of the modules that use them check their values.
CONSTANTS_ONLY = ("naap/protocol/settings.py", "naap/training/recipe.py")


def test_every_library_module_has_its_test_module():
    # tests mirror the package: naap/X.py -> tests/test_X.py, naap/SUB/X.py -> tests/test_X.py or test_SUB_X.py
    missing = []
    for path in sorted((ROOT / "naap").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if path.name == "__init__.py":
            continue
        if name in CONSTANTS_ONLY:  # constants only: a function or class here needs its own tests
            tree = ast.parse(path.read_text())
            assert not any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                           for node in ast.walk(tree)), name
            continue
        candidates = (f"test_{path.stem}.py", f"test_{path.parent.name}_{path.stem}.py")
        if not any((ROOT / "tests" / candidate).exists() for candidate in candidates):
            missing.append(name)
    assert missing == []
