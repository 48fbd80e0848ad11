"""``aibubble import crunchbase|pitchbook``: summary, exit codes, one-line errors, no partial files."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from analysis.cli import data as import_cli
from analysis.data.ledger import load_ledger
from analysis.data.tables import read_table
from analysis.errors import AIBubbleError, DataValidationError
from tests.data.importers.common import CB, PB


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aibubble")
    parser.add_argument("--debug", action="store_true")
    import_cli.add_import_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def _cli(argv: list[str]) -> int:
    """What analysis.cli.main does around a handler: AIBubbleError -> message + exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}")
        return exc.exit_code
    except AIBubbleError as exc:
        print(f"error: {exc}")
        return exc.exit_code


def test_cli_crunchbase_success_prints_summary_and_writes_report(tmp_path, capsys):
    out, report = tmp_path / "ledger.csv", tmp_path / "classification.csv"
    code = _cli(["import", "crunchbase", "--funding-rounds", str(CB / "funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(out), "--report", str(report)])
    printed = capsys.readouterr().out
    assert code == 0
    for fragment in ("rows read          15", "rows kept          11", "other_ai (no domain rule fired): 1 companies",
                     "not an AI company: 1", "wrote ledger.csv (11 rounds)"):
        assert fragment in printed, printed
    assert len(load_ledger(out).rounds) == 11
    assert pd.read_csv(report)[["org_name", "domain", "rule"]].shape == (9, 3)
    # A report named companies.csv beside the ledger would be read back as its companies table.
    assert _cli(["import", "crunchbase", "--funding-rounds", str(CB / "funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(tmp_path / "other.csv"),
                 "--report", str(tmp_path / "companies.csv")]) == 1
    assert "choose another name" in capsys.readouterr().out


def test_cli_pitchbook_success(tmp_path, capsys):
    out = tmp_path / "pb.csv"
    assert _cli(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 0
    assert "rows kept           7" in capsys.readouterr().out
    assert len(read_table(out, "funding_rounds")) == 7


def test_cli_errors_exit_non_zero_without_traceback_and_leave_no_file(tmp_path, capsys):
    out = tmp_path / "ledger.csv"
    code = _cli(["import", "crunchbase", "--funding-rounds", str(CB / "bad_date_funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "bad_date_funding_rounds.csv:5: column announced_on value '2024-13-45': not a date" in printed
    assert "Traceback" not in printed
    assert list(tmp_path.iterdir()) == []
    # An existing ledger is not replaced without --force, and a failed --force import keeps it.
    out.write_text("keep me\n")
    assert _cli(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().out
    assert _cli(["import", "pitchbook", "--deals", str(PB / "ragged_deals.csv"), "--out", str(out), "--force"]) == 1
    assert out.read_text() == "keep me\n"


def test_aibubble_main_matches_cli_exit_codes(tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "ledger.csv"
    assert main(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 0
    assert main(["import", "pitchbook", "--deals", str(PB / "missing_column_deals.csv"),
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert "missing_column_deals.csv:1: column DEAL_DATE: required column is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:   # argparse: a required option missing
        main(["import", "crunchbase", "--out", str(out)])
    assert info.value.code == 2


def test_cli_epoch_writes_the_models_table_and_refuses_to_overwrite(tmp_path, capsys):
    download = tmp_path / "notable_ai_models_2026-05-01.csv"
    download.write_text("Model,Organization,Publication date,Parameters,Model accessibility\n"
                        "A,Lab,2024-01-01,7e9,Open weights (unrestricted)\nB,Lab,,1e9,API access\n",
                        encoding="utf-8")
    out = tmp_path / "models.csv"
    assert _cli(["import", "epoch", "--models", str(download), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rows kept" in printed and "no readable publication date" in printed and "CC BY 4.0" in printed
    models = read_table(out, "models")
    assert models["model"].tolist() == ["A"] and "snapshot 2026-05-01" in models["source"].iloc[0]
    before = out.read_bytes()
    assert _cli(["import", "epoch", "--models", str(download), "--out", str(out)]) != 0
    assert "exists" in capsys.readouterr().out and out.read_bytes() == before
    assert _cli(["import", "epoch", "--models", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m2.csv")]) != 0
    assert "file not found" in capsys.readouterr().out and not (tmp_path / "m2.csv").exists()
