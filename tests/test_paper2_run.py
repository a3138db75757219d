"""naap/paper2/run.py: shared fits equal plain per-regressor searches, a worker pool and an
interrupted journal give the same search, and held-out selection's searches never see the test
rows (only score_on_test's refits do)."""
import numpy as np
import pytest

from naap import paper2, protocol
from naap.data import FEATURE_SETS_V2
from naap.data.load import load_dataset
from naap.data.modes import mode_split


@pytest.fixture(scope="module")
def table(ref_dir):
    return load_dataset(ref_dir / "naap440v2.csv", FEATURE_SETS_V2["Scheme"])


def test_shared_fits_equal_plain_per_regressor_search(table):
    cols = FEATURE_SETS_V2["Scheme"][:3]  # 3 features: 7 masks, small enough to run every way
    for mode, names in [("interpolation", ("Gradient Boosting (N=50)", "Gradient Boosting (N=25)")),
                        ("interpolation", ("Random Forest (N=25)", "Random Forest (N=50)")),
                        ("interpolation", ("AdaBoost (N=50)", "AdaBoost (N=25)")),
                        ("interpolation", ("5-NN",)), ("dual_extrapolation", ("Linear Regression (Exp)",)),
                        ("dual_extrapolation", ("SVR (Polynomial kernel)",))]:
        arrays = mode_split(table, cols, mode)
        shared = paper2.run_job((mode, "Scheme", names), arrays, shared=True)
        plain = paper2.run_job((mode, "Scheme", names), arrays, shared=False)
        for name in names:
            assert [m for m, _ in shared[name]] == [m for m, _ in plain[name]], name
            for (_, a), (_, b) in zip(shared[name], plain[name]):
                assert {k: a[k] for k in ("mae", "violations", "score", "final", "seed")} == \
                       {k: b[k] for k in ("mae", "violations", "score", "final", "seed")}, name
                assert np.array_equal(a["pred"], b["pred"]), name


def test_pool_and_an_interrupted_journal_give_the_same_search(table, tmp_path, monkeypatch):
    from concurrent.futures import ProcessPoolExecutor
    job = ("interpolation", "Scheme", ("Random Forest (N=25)", "Random Forest (N=50)"))
    arrays = mode_split(table, FEATURE_SETS_V2["Scheme"][:4], "interpolation")
    journal = tmp_path / "job.pkl"
    reference = paper2.run_job(job, arrays, journal=journal)
    with ProcessPoolExecutor(2) as pool:
        pooled = paper2.run_job(job, arrays, pool=pool)
    # a run killed mid-write: the journal holds a few whole records and half of the next
    records = journal.read_bytes()
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(records[:len(records) // 3])
    kept = paper2.read_journal(cut)
    assert 0 < len(kept) < len(paper2.read_journal(journal))
    scored = []
    real = protocol.evaluate_paper2
    monkeypatch.setattr(protocol, "evaluate_paper2",
                        lambda names, *a, **k: scored.append(names) or real(names, *a, **k))
    resumed = paper2.run_job(job, arrays, journal=cut)
    assert sum(map(len, scored)) == len(paper2.read_journal(journal)) - len(kept)  # only what was missing
    # the torn tail was cut off, so the records appended by the rerun read back too
    assert paper2.read_journal(cut).keys() == paper2.read_journal(journal).keys()
    for end in range(len(records) // 3 - 200, len(records) // 3 + 200, 7):  # torn anywhere: no error
        cut.write_bytes(records[:end] + b"\x80\x05garbage")
        assert len(paper2.read_journal(cut)) <= len(kept) + 50 and cut.stat().st_size <= end
    for got in (pooled, resumed):
        assert list(got) == list(reference)
        for name in reference:
            assert [m for m, _ in got[name]] == [m for m, _ in reference[name]]
            assert all(a["mae"] == b["mae"] and a["violations"] == b["violations"]
                       and np.array_equal(a["pred"], b["pred"]) for (_, a), (_, b) in zip(got[name], reference[name]))


def test_validation_search_never_sees_the_test_rows(table, monkeypatch):
    cols = FEATURE_SETS_V2["Scheme"]
    jobs = paper2.plan_jobs(["interpolation", "dual_extrapolation"], ["Scheme"], ["Linear Regression", "3-NN"])
    data = {(mode, "Scheme"): mode_split(table, cols, mode) for mode in ("interpolation",
                                                                                  "dual_extrapolation")}
    test_ys = {data[k][3].tobytes() for k in data}
    calls = []
    real = protocol.evaluate_paper2
    monkeypatch.setattr(protocol, "evaluate_paper2",
                        lambda names, Xtr, ytr, Xte, yte, *a, **k: calls.append((len(ytr), yte.tobytes() in test_ys))
                        or real(names, Xtr, ytr, Xte, yte, *a, **k))
    results, tests = paper2.run_jobs(jobs, paper2.validation_data(data), 1, test_data=data)
    refits = [c for c in calls if c[1]]
    # the searches fit on 360 (interpolation) or 160 train rows and score on validation rows alone;
    # only score_on_test's refits, one per name and subset (best, whole set), fit on all train rows
    assert {n for n, on_test in calls if not on_test} == {360, 160}
    assert sorted(refits) == sorted((len(data[key[:2]][1]), True) for key in tests for _ in tests[key])
    assert len(calls) == sum(map(len, results.values())) + len(refits)
    # the refit is the protocol's own evaluation of that subset on the mode's split
    for key, tested in tests.items():
        mask, _ = paper2.best_of(results[key])
        assert list(tested) == list(dict.fromkeys([mask, (1,) * 8]))
        idx = [i for i, f in enumerate(mask) if f]
        Xtr, ytr, Xte, yte = data[key[:2]]
        name = key[2]
        own = real([name], Xtr[:, idx], ytr, Xte[:, idx], yte)[name]
        assert (own["mae"], own["violations"]) == (tested[mask]["mae"], tested[mask]["violations"])
    # other test targets: the same searches and subsets chosen, other test scores
    rng = np.random.default_rng(0)
    shuffled = {k: (Xtr, ytr, Xte, np.sort(rng.permutation(yte) + rng.normal(0, 0.01, len(yte))))
                for k, (Xtr, ytr, Xte, yte) in data.items()}
    again, tests_again = paper2.run_jobs(jobs, paper2.validation_data(data), 1, test_data=shuffled)
    assert {k: [(m, r["final"]) for m, r in v] for k, v in again.items()} == \
           {k: [(m, r["final"]) for m, r in v] for k, v in results.items()}
    assert {k: list(v) for k, v in tests_again.items()} == {k: list(v) for k, v in tests.items()}
    assert any(tests_again[k][m]["mae"] != tests[k][m]["mae"] for k in tests for m in tests[k])
