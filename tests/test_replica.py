"""naap.replica re-exports its modules' public names, each module imported only when one of its
names is first used."""
import importlib
import subprocess
import sys

import pytest
from conftest import ROOT

import naap.replica


@pytest.mark.parametrize("name", naap.replica.__all__)
def test_every_re_exported_name_is_its_modules_object(name):
    home = importlib.import_module(f"naap.replica.{naap.replica._MODULE_OF[name]}")
    assert getattr(naap.replica, name) is getattr(home, name)
    assert not name.startswith("_") and name in dir(naap.replica)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        naap.replica.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        from naap.replica import no_such_name  # noqa: F401


def test_the_package_and_its_rules_import_neither_numba_nor_pandas_nor_sklearn():
    code = ("import sys; from naap.replica import PAPER_VERSION, rules; "
            "print(sorted(m for m in ('numba', 'pandas', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
