"""knn_0_20_1 reproduces scikit-learn 0.20.1's brute-force k-NN regression on numpy 1.15.4: its
choice among tied neighbours (numpy 1.15.4's argpartition and argsort) and numpy's pairwise mean.
Where the two releases must agree (no ties) scikit-learn 1.9.1 is the reference."""
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsRegressor

from naap.replica.knn_0_20_1 import knn_predict_0_20_1


def sklearn_1_9_1(X_train, y_train, X_test, k):
    model = KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
    return model.predict(X_test)


def test_knn_tie_at_k2_goes_to_the_later_row():
    """Rows 0 and 1 tie at squared distance 4, row 2 is at 1. dumb_select (see the argpartition
    trace above) keeps rows 2 and 1: mean(0, 20) = 10. scikit-learn 1.9.1 keeps rows 2 and 0."""
    X_train, y = np.array([[2.0], [2.0], [1.0]]), np.array([10.0, 20.0, 0.0])
    X_test = np.array([[0.0]])
    assert knn_predict_0_20_1(X_train, y, X_test, 2).tolist() == [10.0]
    assert sklearn_1_9_1(X_train, y, X_test, 2).tolist() == [5.0]


def test_knn_tie_at_k5_median_of_3():
    """Squared distances 9, 1, 9, 1, ... (the median-of-3 trace above, kth 4): 0.20.1 keeps the
    four rows at 1 and row 2 of the rows at 9; 1.9.1 takes row 0. y is 0 except y0 = 100 and
    y2 = 200."""
    X_train = np.array([[3.0], [1.0]] * 4)
    y = np.zeros(8)
    y[0], y[2] = 100.0, 200.0
    X_test = np.array([[0.0]])
    assert knn_predict_0_20_1(X_train, y, X_test, 5).tolist() == [40.0]
    assert sklearn_1_9_1(X_train, y, X_test, 5).tolist() == [20.0]


def test_knn_mean_of_9_is_pairwise():
    """9 neighbours at distances 0..8 with y = 1, 2**-53 x 8 in that order. numpy's add-reduce
    from 0 with pairwise summation: ((1 + e) + (e + e)) + ((e + e) + (e + e)) = 1 + 3 * 2**-52,
    then + e is a tie that rounds to even: 1 + 2**-50. Left to right would stay at 1."""
    e = 2.0**-53
    X_train = np.arange(9.0)[:, None]
    y = np.array([1.0] + [e] * 8)
    got = knn_predict_0_20_1(X_train, y, np.array([[0.0]]), 9)
    assert got.tolist() == [(1.0 + 2.0**-50) / 9]
    assert got[0] != 1.0 / 9


@pytest.mark.parametrize("k", [1, 3, 5, 7, 9])
def test_knn_agrees_with_sklearn_without_ties(k):
    rs = np.random.RandomState(k)
    X_train, X_test = rs.randn(80, 6), rs.randn(25, 6)
    y = rs.randn(80)
    assert np.array_equal(knn_predict_0_20_1(X_train, y, X_test, k),
                          sklearn_1_9_1(X_train, y, X_test, k))


def test_knn_rejects_bad_k():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError):
        knn_predict_0_20_1(X, np.zeros(3), X, 4)
    with pytest.raises(ValueError):
        knn_predict_0_20_1(X, np.zeros(3), X, 0)
