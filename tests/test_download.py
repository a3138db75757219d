"""download_naap440.py: verified downloads over HTTP and from a directory; failures leave nothing behind."""
import contextlib
import functools
import http.server
import shutil
import socket
import threading

import pytest
from conftest import run_script

SCRIPT = "download_naap440.py"
CSVS = ["naap440.csv", "naap440v2.csv"]


@contextlib.contextmanager
def serve(directory):
    """Serve directory over HTTP on 127.0.0.1 (a free port) in a thread; yield the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def ref_url(ref_dir):
    with serve(ref_dir) as url:
        yield url


def corrupted_copy(ref_dir, tmp_path, name):
    """A copy of the release's CSVs with one byte of `name` changed."""
    copy_dir = tmp_path / "corrupt"
    copy_dir.mkdir()
    for csv_name in CSVS:
        shutil.copyfile(ref_dir / csv_name, copy_dir / csv_name)
    data = bytearray((copy_dir / name).read_bytes())
    data[100] = ord("7") if data[100] != ord("7") else ord("8")
    (copy_dir / name).write_bytes(bytes(data))
    return copy_dir


def assert_refused(result, *expected):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]


def test_help():
    result = run_script(SCRIPT, "--help")
    assert result.returncode == 0
    assert "--source" in result.stdout and "--raw-logs" in result.stdout


def test_download_over_http_with_raw_logs(ref_dir, ref_url, tmp_path):
    dest = tmp_path / "dest"
    result = run_script(SCRIPT, "--source", ref_url, "--dest", dest, "--raw-logs")
    assert result.returncode == 0, result.stderr
    for name in CSVS:
        assert (dest / name).read_bytes() == (ref_dir / name).read_bytes()
    logs = sorted(p.name for p in (dest / "raw_data").iterdir())
    assert len(logs) == 440
    for i in (1, 206, 440):
        name = f"raw_data/scheme_{i}.txt"
        assert (dest / name).read_bytes() == (ref_dir / name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == ["naap440.csv", "naap440v2.csv", "raw_data"]
    assert "440 logs downloaded" in result.stdout

    again = run_script(SCRIPT, "--source", ref_url, "--dest", dest, "--raw-logs")
    assert again.returncode == 0, again.stderr
    assert "naap440.csv: up to date" in again.stdout
    assert "0 logs downloaded, 440 up to date" in again.stdout


def test_download_from_directory(ref_dir, tmp_path):
    # the CI path: an offline copy of the release
    dest = tmp_path / "dest"
    result = run_script(SCRIPT, "--source", ref_dir, "--dest", dest, "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == CSVS
    for name in CSVS:
        assert (dest / name).read_bytes() == (ref_dir / name).read_bytes()
        assert f"{name}: downloaded" in result.stdout


def test_wrong_existing_file_needs_force(ref_dir, ref_url, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "naap440.csv").write_text("stale\n")
    result = run_script(SCRIPT, "--source", ref_url, "--dest", dest)
    assert_refused(result, "naap440.csv", "--force")
    assert (dest / "naap440.csv").read_text() == "stale\n"
    assert sorted(p.name for p in dest.iterdir()) == ["naap440.csv"]

    forced = run_script(SCRIPT, "--source", ref_url, "--dest", dest, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (dest / "naap440.csv").read_bytes() == (ref_dir / "naap440.csv").read_bytes()


def test_up_to_date_file_is_kept(ref_dir, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    shutil.copyfile(ref_dir / "naap440.csv", dest / "naap440.csv")
    before = (dest / "naap440.csv").stat().st_mtime_ns
    result = run_script(SCRIPT, "--source", ref_dir, "--dest", dest)
    assert result.returncode == 0, result.stderr
    assert "naap440.csv: up to date" in result.stdout
    assert "naap440v2.csv: downloaded" in result.stdout
    assert (dest / "naap440.csv").stat().st_mtime_ns == before


@pytest.mark.parametrize("corrupt", CSVS)
@pytest.mark.parametrize("via", ["http", "dir"])
def test_corrupted_copy_is_refused(ref_dir, tmp_path, corrupt, via):
    # corrupting the second file checks that the good first file is not moved into place either
    copy_dir = corrupted_copy(ref_dir, tmp_path, corrupt)
    dest = tmp_path / "dest"
    dest.mkdir()
    if via == "http":
        with serve(copy_dir) as url:
            result = run_script(SCRIPT, "--source", url, "--dest", dest, "--force")
    else:
        result = run_script(SCRIPT, "--source", copy_dir, "--dest", dest, "--force")
    assert_refused(result, corrupt, "checksum mismatch")
    assert list(dest.iterdir()) == []


def test_404_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    dest = tmp_path / "dest"
    with serve(empty) as url:
        result = run_script(SCRIPT, "--source", url, "--dest", dest)
    assert_refused(result, url + "naap440.csv", "404")
    assert not dest.exists()


def test_dead_network_is_refused(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # the port is closed now: connecting is refused, like a server that is down
    dest = tmp_path / "dest"
    result = run_script(SCRIPT, "--source", f"http://127.0.0.1:{port}/", "--dest", dest)
    assert_refused(result, f"127.0.0.1:{port}", "cannot connect")
    assert not dest.exists()


def test_missing_source_dir_is_refused(tmp_path):
    dest = tmp_path / "dest"
    result = run_script(SCRIPT, "--source", tmp_path / "nowhere", "--dest", dest)
    assert_refused(result, "nowhere", "no such directory")
    assert not dest.exists()


@pytest.mark.parametrize("url, message", [
    ("http://[::1", "malformed URL (Invalid IPv6 URL)"),  # was a ValueError traceback
    ("http://localhost:abc/", "malformed URL (Port could not be cast to integer value as 'abc')"),
    ("http://", "malformed URL (no host)"),
    ("gopher://host/", "unsupported URL scheme 'gopher'"),
    ("http://exa mple.org/", "malformed URL (contains whitespace or control characters)"),
    ("http://example.org/\nerror: a forged second line", "malformed URL (contains whitespace"),
])
def test_malformed_url_is_one_line(tmp_path, url, message):
    dest = tmp_path / "new" / "dest"
    result = run_script(SCRIPT, "--source", url, "--dest", dest)
    assert_refused(result, f"--source {url[:8]}", message)
    assert list(tmp_path.iterdir()) == []


def test_option_error_is_one_line():
    result = run_script(SCRIPT, "--bogus")
    assert result.returncode == 2
    assert result.stderr == "error: download_naap440.py: unrecognized arguments: --bogus\n"


def test_unusable_dest_is_one_line_and_leaves_nothing(ref_dir, tmp_path):
    (tmp_path / "a_file").write_text("")
    result = run_script(SCRIPT, "--source", ref_dir, "--dest", tmp_path / "a_file" / "dest")  # was a traceback
    assert_refused(result, "a_file/dest/naap440.csv", "cannot write (Not a directory)")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "raw_data").write_text("")  # a file where the logs' directory goes
    result = run_script(SCRIPT, "--source", ref_dir, "--dest", dest, "--raw-logs")
    assert_refused(result, "raw_data/scheme_1.txt", "cannot write (Not a directory)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "dest"]
    assert [p.name for p in dest.iterdir()] == ["raw_data"]


def test_failure_removes_the_directories_it_made(ref_dir, tmp_path):
    copy_dir = corrupted_copy(ref_dir, tmp_path, "naap440v2.csv")
    result = run_script(SCRIPT, "--source", copy_dir, "--dest", tmp_path / "new" / "deeper" / "dest")
    assert_refused(result, "checksum mismatch")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt"]


def tree(directory):
    """{relative path: bytes} of every file under directory."""
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("alias", ["same", "symlink", "dot-dot"])
def test_source_that_is_dest_is_refused(ref_dir, tmp_path, alias):
    copy_dir = corrupted_copy(ref_dir, tmp_path, "naap440.csv")
    before = tree(copy_dir)
    dest = {"same": copy_dir, "symlink": tmp_path / "link", "dot-dot": copy_dir / ".." / "corrupt"}[alias]
    if alias == "symlink":
        dest.symlink_to(copy_dir)
    result = run_script(SCRIPT, "--source", copy_dir, "--dest", dest, "--force")
    assert_refused(result, f"--dest {dest}: is the --source directory {copy_dir}; naap440.csv cannot be fetched")
    assert tree(copy_dir) == before


def test_source_that_is_dest_and_intact_is_only_verified(ref_dir, tmp_path):
    copy_dir = corrupted_copy(ref_dir, tmp_path, "naap440.csv")
    shutil.copyfile(ref_dir / "naap440.csv", copy_dir / "naap440.csv")
    before = tree(copy_dir)
    result = run_script(SCRIPT, "--source", copy_dir, "--dest", copy_dir, "--force")
    assert result.returncode == 0, result.stderr
    assert "naap440.csv: up to date" in result.stdout and "naap440v2.csv: up to date" in result.stdout
    assert tree(copy_dir) == before and sorted(p.name for p in copy_dir.iterdir()) == CSVS


def test_dest_inside_source_leaves_the_source_as_it_was(ref_dir, tmp_path):
    # the files written (DEST/raw_data/...) are never the files read (SOURCE/raw_data/...)
    source = tmp_path / "release"
    shutil.copytree(ref_dir, source, ignore=shutil.ignore_patterns("*.json", "published_*", "*_results.csv"))
    before = tree(source)
    for dest in (source / "raw_data", source / "copy"):
        result = run_script(SCRIPT, "--source", source, "--dest", dest, "--raw-logs")
        assert result.returncode == 0, result.stderr
        assert "440 logs downloaded" in result.stdout
        published = {name: data for name, data in before.items() if name.name in CSVS or name.parts[0] == "raw_data"}
        assert len(published) == 442 and {name: (dest / name).read_bytes() for name in published} == published
    new = set(tree(source)) - set(before)
    assert len(new) == 2 * 442 and all(name.parts[0] in ("copy", "raw_data") for name in new)  # inside DEST only
    assert {name: data for name, data in tree(source).items() if name in before} == before


@pytest.mark.parametrize("option", ["--source", "--dest"])
def test_empty_path_is_refused(ref_dir, tmp_path, option):
    # Path("") is "."; without the check, --source '' read the current directory and --dest '' wrote into it
    other = {"--source": ["--dest", tmp_path / "dest"], "--dest": ["--source", ref_dir]}[option]
    result = run_script(SCRIPT, option, "", *other, cwd=tmp_path)
    assert_refused(result, f"error: {option}: empty path (name a directory")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fails", ["write", "staging", "move"])
def test_a_full_disk_is_exit_1_naming_the_file(ref_dir, tmp_path, monkeypatch, capsys, fails):
    import errno
    import os

    import download_naap440 as dl
    from naap.cli import run_cli

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fails == "write":  # the staging copy of naap440v2.csv: the disk fills after the first file
        real_write = dl.atomic_write_bytes
        monkeypatch.setattr(dl, "atomic_write_bytes",
                            lambda path, data: no_room() if path.name == "naap440v2.csv" else real_write(path, data))
    elif fails == "staging":
        monkeypatch.setattr(dl.tempfile, "mkdtemp", no_room)
    else:
        monkeypatch.setattr(dl, "rename_noreplace", no_room)
    dest = tmp_path / "new" / "dest"
    with pytest.raises(SystemExit) as info:
        run_cli(dl.main, dl.parse_args(["--source", str(ref_dir), "--dest", str(dest)]))
    assert info.value.code == 1  # was 2: the input was fine, the disk full
    named = {"write": dest / "naap440v2.csv", "staging": dest, "move": dest / "naap440.csv"}[fails]
    assert capsys.readouterr().err == f"error: {named}: cannot write (No space left on device)\n"
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the directories made for DEST


def test_file_that_appears_meanwhile_is_not_replaced(ref_dir, tmp_path, monkeypatch):
    # another run (or person) puts a different naap440v2.csv into DEST while this one downloads
    import download_naap440 as dl
    dest = tmp_path / "dest"
    fetch = dl.fetch

    def fetch_while_another_writes(source, name):
        if name == "naap440v2.csv":
            dest.mkdir(exist_ok=True)
            (dest / name).write_text("someone else's\n")
        return fetch(source, name)

    monkeypatch.setattr(dl, "fetch", fetch_while_another_writes)
    with pytest.raises(dl.InputError, match="naap440v2.csv: appeared while this run was downloading it"):
        dl.download(ref_dir, dest, CSVS, dl.load_checksums())
    # kept as it was, and this run's naap440.csv, already moved in, taken out again: all or nothing
    assert [p.name for p in dest.iterdir()] == ["naap440v2.csv"]
    assert (dest / "naap440v2.csv").read_text() == "someone else's\n"
