"""The docs' generated blocks (bench/docs_blocks.py) and the command that rewrites them
(`python -m bench.update_docs`): every block has a producer, says where it came from, and is what
its producer gives. The baseline tables are compared with the test suite's own runs in
tests/test_run_experiments.py (test_docs_tables_are_what_the_code_produces); the fidelity table
takes about 4 minutes of 2 cores to recompute, so here its rows are checked against the emulation's
parts; the paper-2 tables come from hours-long runs, so each must match what
docs/records/paper2.json records of it, and the renderers are run on small hand-made runs."""
import re

import pandas as pd
import pytest
from conftest import ROOT, message_lines, run_script

from bench import docs_blocks, paper2_heldout, paper2_leaders
from bench import update_docs as ud
from naap import protocol
from naap.cli import InputError

PAPER2 = [name for name, (kind, _) in ud.BLOCKS.items() if kind == "paper2"]
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


@pytest.fixture(scope="module")
def blocks():
    """{name: [(file name, body), ...]} of every generated block in README.md and docs/*.md."""
    found = {}
    for path in docs_blocks.doc_paths():
        for name, body in docs_blocks.generated_blocks(path.read_text()).items():
            found.setdefault(name, []).append((path.name, body))
    return found


def test_every_block_has_a_producer_and_says_where_it_came_from(blocks):
    assert set(blocks) == set(ud.BLOCKS)  # a hand-written block has no producer; a producer with no block is stale
    for name, copies in blocks.items():
        assert len({body for _, body in copies}) == 1, name  # the copies of a block agree
        provenance, table = docs_blocks.split_body(copies[0][1])
        assert table.strip() and "\n" not in provenance, name
        assert DATE.search(provenance), (name, "no date")
        assert "`python " in provenance or "`/usr/bin/time python " in provenance, (name, "no command")


def test_fidelity_block_lists_every_part_of_the_emulation(blocks):
    (_, body), = blocks["fidelity"]
    provenance, table = docs_blocks.split_body(body)
    assert "bench_fidelity" in provenance and "cores" in provenance
    labels = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    parts = protocol.DATA_RULES + protocol.PAPER_RULES
    assert labels == ["everything on (the default)", *[f"without {p}" for p in parts],
                      "everything off (today's libraries)"]
    assert table.splitlines()[2].split("|")[2].strip() == "96"  # the published table, all rows


def test_paper2_blocks_are_their_recorded_tables(blocks):
    record = docs_blocks.read_record()
    for name in PAPER2:
        (_, body), = blocks[name]
        provenance, table = docs_blocks.split_body(body)
        assert record["blocks"][name]["sha256"] == docs_blocks.digest(table), (name, "table edited by hand or stale")
        assert provenance == ud.paper2_provenance(name, record), name
    (_, body), = blocks["paper2-whole-run"]
    assert body == ud.whole_run_body(record)


def test_a_hand_edited_paper2_table_is_refused(blocks):
    record = docs_blocks.read_record()
    (_, body), = blocks["paper2-extrapolation"]
    current = {"paper2-extrapolation": (body.replace("0.0168", "0.0167"), [])}
    with pytest.raises(InputError, match="differs from docs/records/paper2.json"):
        ud.produce_paper2("paper2-extrapolation", record, {}, {}, current)
    assert ud.produce_paper2("paper2-extrapolation", record, {}, {}, {"paper2-extrapolation": (body, [])}) == body


COLUMNS = ["Mode", "Model", "FeatureSetName", "Flags", "MAE", "NumViolations", "FinalScore"]


def results(mode, fs, scored_on=None):
    frame = pd.DataFrame([(mode, "Linear Regression", fs, "1" * 8, 0.05, 50, 0.02),
                          (mode, "Linear Regression", fs, "1" * 4 + "0" * 4, 0.01, 5, 0.001)], columns=COLUMNS)
    if scored_on:
        frame = pd.concat([frame, frame.iloc[[1, 0]]], ignore_index=True)
        frame["ScoredOn"] = ["validation", "validation", "test", "test"]
    return frame


def write_run(tmp_path, role):
    _, modes, sets, held_out = ud.PAPER2_RUNS[role]
    run = tmp_path / role
    run.mkdir()
    frames = [results(mode, fs, held_out) for mode in modes for fs in sets]
    pd.concat(frames, ignore_index=True).to_csv(run / "results.csv", index=False)
    (run / "best.md").write_text(f"best.md of {role}\n")
    return run


def test_paper2_blocks_are_rendered_from_the_runs(tmp_path):
    runs = {role: write_run(tmp_path, role) for role in ud.PAPER2_RUNS}
    tables = {role: ud.read_run(role, path) for role, path in runs.items()}
    record = docs_blocks.read_record()
    ud.record_runs(record, runs, "a test machine")
    expected = {
        "paper2-q3": "best.md of q3\n",
        "paper2-extrapolation": paper2_leaders.markdown(paper2_leaders.leaders(tables["extrapolation"])),
        "paper2-heldout-q3": paper2_heldout.report(paper2_heldout.picks(tables["q3"], tables["q3-validation"])),
    }
    for name in PAPER2:
        body = ud.produce_paper2(name, record, runs, tables, {})
        provenance, table = docs_blocks.split_body(body)
        assert record["blocks"][name]["sha256"] == docs_blocks.digest(table)
        assert "a test machine" in provenance and ud.PAPER2_RUNS["q3" if "q3" in name else "extrapolation"][0] \
            in provenance
        if name in expected:
            assert table == expected[name], name
    best = docs_blocks.split_body(ud.produce_paper2("paper2-heldout-best", record, runs, tables, {}))[1]
    rows = [line for line in best.splitlines() if line.startswith("| ") and "(4 of 8)" in line]
    assert len(rows) == 13  # interpolation + 3 modes x 4 start sets


def test_a_run_of_the_wrong_kind_or_given_in_part_is_refused(tmp_path):
    q3 = write_run(tmp_path, "q3")
    with pytest.raises(InputError, match="expected modes left_extrapolation"):
        ud.read_run("extrapolation", q3)
    with pytest.raises(InputError, match="q3-validation too"):
        ud.produce_paper2("paper2-heldout-q3", docs_blocks.read_record(), {"q3": q3}, {}, {})


@pytest.mark.parametrize("args, message", [
    (["no-such-block"], "no producer for no-such-block"),
    (["paper2-q3", "--paper2-run", "q9=x"], "--paper2-run q9=x: expected ROLE=DIR"),
    (["paper2-q3", "--paper2-run", "q3=/nonexistent"], "/nonexistent/results.csv: no such file"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, message):
    before = {p: p.read_bytes() for p in docs_blocks.doc_paths() + [docs_blocks.RECORD]}
    done = run_script("bench/update_docs.py", *args, cwd=ROOT)
    assert done.returncode == 2
    lines = message_lines(done.stderr)
    assert len(lines) == 1 and message in lines[0]
    assert before == {p: p.read_bytes() for p in before}


def test_the_leaderboard_block_has_every_predictor_and_baseline(blocks):
    from naap import budget
    from naap.predictors import TODAY
    from naap.predictors.hybrid import HYBRID
    (_, body), = blocks["leaderboard"]
    _, table = docs_blocks.split_body(body)
    names = [line.split("|")[1].strip() for line in table.strip().splitlines()[2:]]
    expected = [*protocol.BASELINE_NAMES, *TODAY, HYBRID, *(n for n in budget.RANKERS if n != budget.TO_THE_END)]
    assert sorted(names) == sorted(expected)


def test_the_budget_block_covers_every_budget_and_default_predictor(blocks):
    from naap import budget
    from naap.predictors import TODAY
    from naap.predictors.hybrid import HYBRID
    (_, body), = blocks["budget"]
    _, table = docs_blocks.split_body(body)
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ")]
    budgets = [r[0].strip() for r in rows if r[0].strip().startswith("<= ")]
    assert budgets == [f"<= {limit:g}" for limit in budget.BUDGET_LIMITS]
    paying = [r[0].strip() for r in rows if r[-1].strip().endswith(("candidates", "never"))]
    assert sorted(paying) == sorted([*budget.DEFAULT_REGRESSORS, *TODAY, HYBRID])
