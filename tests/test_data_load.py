"""naap/data/load.py: the 2022 data path (pandas 0.23.4's parser, the C library's log, numpy
1.15.4's sort order), the split into train and test arrays, and every refusal of a bad table."""
import math

import numpy as np
import pandas as pd
import pytest

from naap.cli import InputError
from naap.data import FEATURE_SETS, FULL_SCHEME_FEATURES, MAX_VALUE, TARGET, TEST_FLAG
from naap.data.load import load_dataset, read_table, sort_table, split

COLUMNS = FEATURE_SETS["Scheme + Quantitative 3 epochs"]


def test_load_dataset_logs_and_sorts_as_the_paper(ref_dir):
    raw = read_table(ref_dir / "naap440.csv")
    df = load_dataset(ref_dir / "naap440.csv", COLUMNS)
    assert len(df) == len(raw) == 440 and int(df[TEST_FLAG].sum()) == 40
    assert np.all(np.diff(df[TARGET].to_numpy()) >= 0)
    assert list(df.index) == list(sort_table(raw).index)  # numpy 1.15.4's quicksort order of the ties
    for column in ("NumParams", "NumMACs"):  # the C library's log of each value
        assert df[column].tolist() == [math.log(v) for v in raw.loc[df.index, column]]
    assert df["NumLayers"].tolist() == raw.loc[df.index, "NumLayers"].tolist()


def test_without_the_2022_rules_todays_pandas_reads_and_sorts(ref_dir):
    today = read_table(ref_dir / "naap440.csv", frozenset())
    assert today.equals(pd.read_csv(ref_dir / "naap440.csv"))
    assert sort_table(today, frozenset()).equals(today.sort_values(TARGET))
    paper = read_table(ref_dir / "naap440.csv")
    assert list(paper.columns) == list(today.columns)
    assert np.allclose(paper[COLUMNS].to_numpy(float), today[COLUMNS].to_numpy(float), rtol=1e-15, atol=0)


def test_split_keeps_the_table_order(ref_dir):
    df = load_dataset(ref_dir / "naap440.csv", FULL_SCHEME_FEATURES)
    X_train, y_train, X_test, y_test = split(df, FULL_SCHEME_FEATURES)
    train, test = df[df[TEST_FLAG] == 0], df[df[TEST_FLAG] == 1]
    assert X_train.shape == (400, 6) and X_test.shape == (40, 6)
    assert X_train.dtype == X_test.dtype == y_train.dtype == y_test.dtype == np.float64
    assert np.array_equal(X_test, test[FULL_SCHEME_FEATURES].to_numpy(float))
    assert np.array_equal(y_train, train[TARGET].to_numpy(float))
    assert np.all(np.diff(y_test) >= 0)  # test rows in ground-truth order


def _tiny(**changes):
    """A 14-row table: 12 train rows, 2 test rows; `changes` replace columns."""
    df = pd.DataFrame({"ModelId": range(1, 15), "IsTest": [0] * 12 + [1, 1], "NumParams": range(100, 1500, 100),
                       "NumStages": [2] * 14, "MaxAccuracy": np.linspace(0.5, 0.8, 14)})
    return df.assign(**changes)


@pytest.mark.parametrize("changes, message", [
    (dict(ModelId=[1] * 14), "ModelId 1 appears more than once"),
    (dict(NumStages=[2] * 13 + [2e151]), "too large to scale"),
    (dict(NumStages=[2] * 13 + [np.inf]), "infinite values"),
    (dict(NumParams=[0] + list(range(200, 1500, 100))), "NumParams must be positive"),
    (dict(IsTest=[0] * 12 + [1, 2]), "IsTest must be 0 or 1"),
    (dict(NumStages=[True] * 14), "NumStages is not numeric"),
    (dict(IsTest=[0] * 6 + [1] * 8), "6 train row(s); 9-NN needs at least 9"),
    (dict(MaxAccuracy=np.linspace(50, 80, 14)), "column MaxAccuracy is an accuracy, from 0 to 1; row 2 has 50"),
    (dict(MaxAccuracy=[-0.5] + [0.5] * 13), "MaxAccuracy is an accuracy, from 0 to 1; row 2 has -0.5"),
    (dict(ModelId=["abc"] + list(range(2, 15))), "column ModelId is not numeric"),
    (dict(ModelId=[np.nan] + list(range(2, 15))), "column ModelId has missing values (row 2)"),
    (dict(ModelId=[1, 2, 5.5] + list(range(4, 15))), "ModelId 5.5 is not a whole number"),
    (dict(ModelId=[1, 2, -5] + list(range(4, 15))), "ModelId -5 must be at least 1"),
    (dict(ModelId=range(14)), "ModelId 0 must be at least 1"),
])
def test_bad_tables_are_one_line_naming_the_file(tmp_path, changes, message):
    path = tmp_path / "bad.csv"
    _tiny(**changes).to_csv(path, index=False)
    with pytest.raises(InputError) as refusal:
        load_dataset(path, ["NumParams", "NumStages"])
    assert str(refusal.value).startswith(f"{path}: ") and message in str(refusal.value)
    assert "\n" not in str(refusal.value)


def test_every_epoch_accuracy_asked_for_is_checked(tmp_path):
    path = tmp_path / "bad.csv"
    _tiny(e3Accuracy=[0.4] * 13 + [1.2], e3LossMean=[3.0] * 14).to_csv(path, index=False)
    assert len(load_dataset(path, ["NumParams", "e3LossMean"])) == 14  # a loss may exceed 1
    with pytest.raises(InputError, match="column e3Accuracy is an accuracy, from 0 to 1; row 15 has 1.2$"):
        load_dataset(path, ["NumParams", "e3Accuracy"])


def test_a_good_tiny_table_loads(tmp_path):
    _tiny().to_csv(tmp_path / "good.csv", index=False)
    assert len(load_dataset(tmp_path / "good.csv", ["NumParams", "NumStages"])) == 14
    assert MAX_VALUE == 1e150
