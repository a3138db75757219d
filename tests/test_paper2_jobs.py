"""naap/paper2/jobs.py: the jobs of a run (one per ensemble family, else per regressor; only the
extrapolating regressors outside interpolation), their cost, and their deal over array tasks."""
from naap import paper2, protocol


def test_plan_jobs_groups_ensemble_families_and_keeps_extrapolation_to_the_extrapolating():
    models = ["3-NN", "Random Forest (N=25)", "Random Forest (N=50)", "Linear Regression", "SVR (Linear kernel)"]
    jobs = paper2.plan_jobs(["interpolation", "left_extrapolation"], ["Scheme"], models)
    assert jobs == [("interpolation", "Scheme", ("3-NN",)),
                    ("interpolation", "Scheme", ("Random Forest (N=25)", "Random Forest (N=50)")),
                    ("interpolation", "Scheme", ("Linear Regression",)),
                    ("interpolation", "Scheme", ("SVR (Linear kernel)",)),
                    ("left_extrapolation", "Scheme", ("Linear Regression",)),
                    ("left_extrapolation", "Scheme", ("SVR (Linear kernel)",))]
    assert paper2.ensemble_size("AdaBoost (N=200)") == ("AdaBoost", 200)
    assert paper2.ensemble_size("Linear Regression (D=2)") == ("Linear Regression (D=2)", None)
    assert all(name in protocol.EXTRAPOLATING for _, _, names in jobs[4:] for name in names)


def test_deal_jobs_gives_the_longest_job_first_to_the_least_loaded_shard():
    jobs = paper2.plan_jobs(["interpolation"], ["Scheme", "Scheme+Quant.3"],
                               ["3-NN", "SVR (Linear kernel)", "Random Forest (N=25)"])
    # costs (protocol.FIT_COST x features^2): RF 5 x 17^2 = 1445, 5 x 8^2 = 320; SVR 173.4, 38.4; 3-NN 57.8, 12.8
    by_cost = {round(paper2.job_cost(j), 1): j for j in jobs}
    assert sorted(by_cost) == [12.8, 38.4, 57.8, 173.4, 320.0, 1445.0]
    assert paper2.deal_jobs(jobs, 2) == [[by_cost[1445.0]], [by_cost[c] for c in (320.0, 173.4, 57.8, 38.4, 12.8)]]
    # 1445 | 320 | 173.4, then 57.8, 38.4 and 12.8 all to 173.4's shard (231.2, 269.6, 282.4: still below 320)
    assert paper2.deal_jobs(jobs, 3) == [[by_cost[1445.0]], [by_cost[320.0]],
                                            [by_cost[c] for c in (173.4, 57.8, 38.4, 12.8)]]
    assert paper2.deal_jobs(jobs, 1) == [sorted(jobs, key=paper2.job_cost, reverse=True)]
    assert paper2.deal_jobs(jobs, 8)[6:] == [[], []]
