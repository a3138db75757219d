"""Paper 2's feature selection: the best-first subset search, run in parallel and resumably.

Library package (no command line, no work at import); feature_selection.py is its script. The
protocol (modes, noise, final score, the estimator sets) is naap.protocol's.

For each mode, start feature set and regressor, a best-first search visits binary feature masks
and the subset with the lowest final score wins (protocol.best_key). The modules, in the order
a run uses them:

  inputs.py      the option lists, the table's mode splits, held-out selection's validation rows
  jobs.py        the jobs (mode, feature set, one regressor or one ensemble family), their cost,
                 and their deal over the tasks of an array job (--shard)
  best_first.py  the search itself (pure), a search's best subset, feature frequencies
  run.py         the jobs' searches, their subsets scored in parallel, ensembles shared
  journal.py     the resume journal of every scored subset, its lock, its key
  report.py      results.csv's table, best.md, best.tex, and reading results.csv back

The names below are re-exported here: `from naap import paper2` then `paper2.run_jobs(...)`.
"""
from naap.paper2.best_first import BEST_SHARE, best_of, feature_frequency, flips, search
from naap.paper2.inputs import SELECT_ON, VALIDATION_BINS, load_modes, parse_list, validation_data, validation_rows
from naap.paper2.jobs import deal_jobs, ensemble_size, job_cost, plan_jobs
from naap.paper2.journal import (
    PROTOCOL_SOURCES,
    append_journal,
    check_journals,
    code_hash,
    journal_key,
    journal_lock,
    journal_name,
    protocol_files,
    read_journal,
)
from naap.paper2.report import MODE_LABEL, best_latex, best_markdown, read_results, results_table, summary
from naap.paper2.run import run_job, run_jobs, score_on_test

__all__ = ["BEST_SHARE", "best_of", "feature_frequency", "flips", "search",
           "SELECT_ON", "VALIDATION_BINS", "load_modes", "parse_list", "validation_data", "validation_rows",
           "deal_jobs", "ensemble_size", "job_cost", "plan_jobs",
           "PROTOCOL_SOURCES", "append_journal", "check_journals", "code_hash", "journal_key", "journal_lock",
           "journal_name", "protocol_files", "read_journal",
           "MODE_LABEL", "best_latex", "best_markdown", "read_results", "results_table", "summary",
           "run_job", "run_jobs", "score_on_test"]
