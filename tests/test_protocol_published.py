"""naap/protocol/published.py: a published results CSV read by (model, feature set), and our
table compared against it cell by cell."""
import pandas as pd
import pytest

from naap import protocol
from naap.cli import InputError


def test_model_key():
    assert protocol.model_key("Linear Regression (D=0.5)") == protocol.model_key("Linear Regression D=0.5")
    assert protocol.model_key("Gradient Boosting (N=25)") == "Gradient Boosting N=25"


def frame(rows):
    return pd.DataFrame(rows, columns=protocol.RESULT_COLUMNS)


def test_compare_frame_and_markdown(tmp_path):
    published = tmp_path / "published.csv"
    frame([["Linear Regression D=0.5", "Scheme", 0.0123, 4, 780, 0.9949],
           ["3-NN", "Scheme", 0.02, 5, 780, 0.9936]]).to_csv(published, index=False)
    ours = frame([["Linear Regression (D=0.5)", "Scheme", 0.0123, 4, 780, 0.9949],
                  ["3-NN", "Scheme", 0.0212, 3, 780, 0.9962],
                  ["Mine", "Scheme", 0.01, 0, 780, 1.0]])
    comparison = protocol.compare_frame(ours, protocol.load_published(published))
    assert comparison["Match"].tolist() == [True, False, False]
    assert comparison.loc[1, ["DiffMeanAbsoluteError", "DiffNumViolations", "DiffMonotonicityScore"]].tolist() == \
        [0.0012, -2, 0.0026]
    assert comparison.loc[2, ["PublishedNumViolations"]].isna().all()
    lines = protocol.compare_markdown(comparison).splitlines()
    assert lines[0].startswith("1 of 3 rows match the published results exactly.")
    assert lines[4:] == ["| Linear Regression (D=0.5) | = |", "| 3-NN | +0.0012 / +0.0026 / -2 |", "| Mine | missing |"]


@pytest.mark.parametrize("text, message", [
    ("Model,Features\nA,Scheme\n", "missing column(s) MeanAbsoluteError"),
    ("Model,Features,MeanAbsoluteError,NumViolations,MaxViolations,MonotonicityScore\nA,Scheme,x,1,3,0.5\n",
     "column MeanAbsoluteError is not numeric"),
    ("Model,Features,MeanAbsoluteError,NumViolations,MaxViolations,MonotonicityScore\n"
     "A (N=1),Scheme,0.1,1,3,0.5\nA N=1,Scheme,0.1,1,3,0.5\n", "duplicate row for A N=1, Scheme"),
])
def test_bad_published_tables(tmp_path, text, message):
    path = tmp_path / "published.csv"
    path.write_text(text)
    with pytest.raises(InputError, match="published.csv: " + message.replace("(", r"\(").replace(")", r"\)")):
        protocol.load_published(path)
