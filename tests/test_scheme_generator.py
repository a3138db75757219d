"""scheme_generator.py reproduces the published schemes file byte for byte, and refuses an output
it must not write (one that exists, the program's own file, an unwritable path) in one line."""
import json

from conftest import ROOT, published_schemes_text, run_script


def test_scheme_generator_script_reproduces_published_file(ref_dir, tmp_path):
    out = tmp_path / "schemes.json"
    result = run_script("scheme_generator.py", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "440 schemes" in result.stdout
    assert out.read_bytes() == published_schemes_text(ref_dir)
    assert len(json.loads(out.read_text())) == 440


def test_committed_schemes_equal_published(ref_dir):
    assert (ROOT / "generated_schemes.json").read_bytes() == published_schemes_text(ref_dir)


def test_unwritable_output_is_one_line_exit_2(tmp_path):
    (tmp_path / "a_file").write_text("")
    for out in (tmp_path, tmp_path / "a_file" / "schemes.json"):  # a directory; a path under a file
        done = run_script("scheme_generator.py", out)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {out}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no temp file left behind


def test_scheme_generator_output_rules(tmp_path):
    out = tmp_path / "schemes.json"
    out.write_text("keep")
    done = run_script("scheme_generator.py", out)
    assert done.returncode == 2 and done.stderr == f"error: {out}: already exists (use --force to replace it)\n"
    assert out.read_text() == "keep"
    before = (ROOT / "naap" / "cli.py").read_bytes()
    done = run_script("scheme_generator.py", ROOT / "naap" / "cli.py", "--force")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "one of this program's own files" in done.stderr
    assert (ROOT / "naap" / "cli.py").read_bytes() == before
    done = run_script("scheme_generator.py")
    assert done.returncode == 2
    assert done.stderr == "error: scheme_generator.py: the following arguments are required: out\n"
    done = run_script("scheme_generator.py", out, "--force")
    assert done.returncode == 0 and len(json.loads(out.read_text())) == 440


def test_an_output_named_as_a_directory_is_refused(tmp_path):
    # "newdir/" names a directory: writing a file called newdir would be wrong; atomic_write_text
    # checks the name before pathlib drops the slash, for every script that writes a file
    done = run_script("scheme_generator.py", "newdir/", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr == "error: newdir/: cannot write (names a directory, expected a file)\n"
    assert list(tmp_path.iterdir()) == []
