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
