"""Epoch AI importer (analysis.data.epoch): vintages, drops, errors, the bundled snapshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.data.epoch import COLUMNS, import_epoch, write_models
from analysis.data.ledger import load_dataset
from analysis.errors import DataValidationError, ParameterError

SHARED = Path("/work/shared/epoch")


def _write(tmp_path, text, name="notable_ai_models_2026-05-01.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_older_vintage_with_system_and_a_2020_cost_column(tmp_path):
    path = _write(tmp_path, (
        "System,Domain,Task,Organization,Publication date,Parameters,Training compute (FLOP),"
        "Training compute cost (2020 USD),Country (of organization),Model accessibility\n"
        "GPT-3 175B,Language,Text autocompletion,OpenAI,2020-05-28,1.75E+11,3.14E+23,\"4,324,883\","
        "United States of America,API access\n"
        "Mystery,Vision,,Lab,,10,,,,\n"                      # no date: dropped
        ",Vision,,Lab,2020-01-01,10,,,,\n"                   # no name: dropped
        "GPT-3 175B,Language,Text autocompletion,OpenAI,2020-05-28,1.75E+11,,,,\n"))  # duplicate
    got = import_epoch(path)
    assert (got.rows_read, got.kept) == (4, 1)
    assert got.dropped == {"no model name": 1, "no readable publication date": 1,
                           "duplicate model, organization and date": 1}
    row = got.table.iloc[0]
    assert list(got.table.columns) == COLUMNS
    assert row["model"] == "GPT-3 175B" and row["task"] == "Text autocompletion"
    assert row["training_cost_usd"] == pytest.approx(4_324_883) and row["parameters"] == pytest.approx(1.75e11)
    assert row["open_weights"] == "false" and "snapshot 2026-05-01" in row["source"]


def test_a_file_without_model_names_is_an_error_naming_file_and_column(tmp_path):
    path = _write(tmp_path, "Organization,Publication date\nLab,2020-01-01\n", name="x.csv")
    with pytest.raises(DataValidationError) as info:
        import_epoch(path)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("x.csv", 1, "model")


def test_write_models_refuses_to_overwrite_without_force(tmp_path):
    path = _write(tmp_path, "Model,Publication date,Model accessibility\nA,2024-01-01,Open weights (unrestricted)\n")
    got = import_epoch(path)
    out = write_models(got, tmp_path / "models.csv")
    with pytest.raises(ParameterError, match="exists"):
        write_models(got, out)
    write_models(got, out, force=True)
    back = load_dataset("models", out)
    assert back["open_weights"].tolist() == ["true"] and back["publication_date"].iloc[0] == pd.Timestamp("2024-01-01")


def test_bundled_models_are_the_notable_snapshot():
    bundled = load_dataset("models", config.DATASET_FILES["models"])
    assert len(bundled) == 895
    assert bundled["publication_date"].max() == pd.Timestamp("2025-02-17")
    assert bundled["source"].str.contains("notable_ai_models_2025-02-24.csv").all()
    if (SHARED / "notable_ai_models_2025-02-24.csv").exists():  # the shared copy it was made from
        again = import_epoch(SHARED / "notable_ai_models_2025-02-24.csv").table
        assert again["model"].tolist() == bundled["model"].tolist()
        pd.testing.assert_series_equal(again["training_compute_flop"], bundled["training_compute_flop"],
                                       rtol=1e-5, check_names=False)
