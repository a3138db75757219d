"""The field's baselines beside paper 1's regressors, at every epoch budget (baselines.py).

- run: the zero-cost proxies' table, the tasks (regressors per epoch count, LCE, LcSVR), how they
  run in workers and how each method is scored;
- report: the baselines tables (CSV and Markdown) and their split summaries.
The learning-curve methods themselves live in naap.learning_curves.
"""
