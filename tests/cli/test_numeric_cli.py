"""``symgrad crosscheck`` on the command line."""

from __future__ import annotations

import json

from symgrad.cli.main import main


def test_crosscheck_command_json(capsys):
    assert main(["crosscheck", "--check", "lstm_carousel", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and len(payload["rows"]) == 1
    assert set(payload["rows"][0]) >= {"quantity", "predicted", "measured", "rel_error",
                                       "tolerance", "ok"}


def test_crosscheck_command_lists_and_refuses(capsys):
    assert main(["crosscheck", "--list"]) == 0
    assert "he_vs_xavier" in capsys.readouterr().out.split()
    assert main(["crosscheck", "--check", "nope"]) == 2
    assert "unknown check" in capsys.readouterr().err
