"""The machine-wide setting IT deploys once per PC: which store to open."""

from __future__ import annotations

import os
from argparse import Namespace

import pytest

from cus_desk.cli import main
from cus_desk.cli.common import database_url
from cus_desk.store.db import sqlite_url


def _config(text: str) -> None:
    path = os.environ["CUS_DESK_MACHINE_CONFIG"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def test_the_machine_setting_chooses_the_store_unless_the_user_says_otherwise(tmp_path, monkeypatch):
    default = database_url(Namespace(db=None, demo=False))
    assert default.endswith("cus-desk.sqlite3")  # nothing deployed: the embedded file
    shared = sqlite_url(tmp_path / "partage.sqlite3")
    _config(f'[database]\nurl = "{shared}"\n')
    assert database_url(Namespace(db=None, demo=False)) == shared
    monkeypatch.setenv("CUS_DESK_DB", sqlite_url(tmp_path / "env.sqlite3"))
    assert database_url(Namespace(db=None, demo=False)).endswith("env.sqlite3")
    assert database_url(Namespace(db=str(tmp_path / "arg.sqlite3"), demo=False)).endswith("arg.sqlite3")


@pytest.mark.parametrize("content, expected", [
    ("[database\nurl = 1", "mal formé"),
    ("[database]\nurl = 42\n", "doit être une adresse"),
    ("[database]\nurl = \"  \"\n", "doit être une adresse"),
])
def test_a_bad_machine_setting_is_a_french_message_and_exit_2(content, expected, capsys):
    _config(content)
    assert main(["cases", "list", "--json"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "service informatique" in err
    assert "Traceback" not in err
