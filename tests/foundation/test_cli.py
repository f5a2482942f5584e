"""The command line: version, French help, clear errors (exit 2) for a bad
database, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cus_desk import __version__
from cus_desk.cli import main


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cus_desk", *args], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"CUS Desk {__version__}"


def test_help_is_french():
    result = run("--help")
    assert result.returncode == 0
    assert "Commission d'Action Sociale" in result.stdout
    assert "--demo" in result.stdout and "affiche la version" in result.stdout


@pytest.mark.parametrize("url", ["nimportequoi://x/y", "sqlite:////dossier/inexistant/base.sqlite3"])
def test_bad_db_url_exit_2(url, capsys):
    code = main(["--db", url])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "cus-desk :" in err


def test_unreadable_database_file_exit_2(tmp_path):
    garbage = tmp_path / "pas-une-base.sqlite3"
    garbage.write_bytes(b"Ceci n'est pas une base SQLite\x00" * 50)
    result = run("--db", str(garbage))
    assert result.returncode == 2
    assert "n'est pas une base CUS Desk" in result.stderr
    assert "Traceback" not in result.stderr
    assert garbage.read_bytes().startswith(b"Ceci n'est pas")  # untouched


@pytest.mark.sqlite_only(reason="a damaged SQLite file")
def test_damaged_database_exit_2(db_path, tmp_path):
    from cus_desk.store.db import open_database, sqlite_url

    open_database(sqlite_url(db_path)).dispose()
    data = bytearray(db_path.read_bytes())
    data[4096:4096 * 3] = b"\xff" * (4096 * 2)  # trash pages after the header
    damaged = tmp_path / "abimee.sqlite3"
    damaged.write_bytes(bytes(data))
    result = run("--db", str(damaged))
    assert result.returncode == 2
    assert "endommagée" in result.stderr or "illisible" in result.stderr
    assert "Traceback" not in result.stderr


def test_directory_as_database(tmp_path, capsys):
    assert main(["--db", str(tmp_path)]) == 2
    assert "est un dossier" in capsys.readouterr().err


def test_demo_and_db_are_exclusive(tmp_path, capsys):
    assert main(["--demo", "--db", str(tmp_path / "x.sqlite3")]) == 2
    assert "s'excluent" in capsys.readouterr().err


def test_json_piped_into_a_reader_that_stops_early(tmp_path):
    env = dict(__import__("os").environ, CUS_DESK_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "cus_desk", "--demo", "cases", "list", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.read(10)  # like `| head -c 10`
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err
