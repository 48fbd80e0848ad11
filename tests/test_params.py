
import pytest

from analysis import clock, config
from analysis import params as P
from analysis.errors import ConfigError, ParameterError


def test_defaults_are_read_from_the_parameters_cell():
    defaults = P.notebook_defaults(config.DEFAULT_BRIEFING)
    assert defaults["period"] == "quarter"
    assert defaults["start_year"] == 2019
    assert defaults["offline"] is True
    assert defaults["as_of"] == ""


def test_resolve_fills_defaults_and_normalises():
    values = P.resolve(config.DEFAULT_BRIEFING, {"period": "year", "start_year": "2021"})
    assert values["period"] == "year"
    assert values["start_year"] == 2021
    assert values["as_of"] == clock.today().isoformat()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"colour": "red"}, "unknown parameter 'colour'"),
        ({"period": "week"}, "period: 'week' is not one of month, quarter, year"),
        ({"definition": "huge"}, "definition: 'huge'"),
        ({"infra_llm_share": 1.5}, "outside [0, 1]"),
        ({"infra_llm_share": "lots"}, "is not a number"),
        ({"as_of": "2025-13-01"}, "not a date in YYYY-MM-DD form"),
        ({"as_of": "2999-01-01"}, "is in the future"),
        ({"start_year": 2.5}, "whole number"),
        ({"start_year": 2026, "as_of": "2024-06-30"}, "empty period"),
        ({"ledger": "no/such/file.csv"}, "file not found: file.csv"),
        ({"offline": "maybe"}, "not true or false"),
    ],
)
def test_bad_parameters_are_rejected_with_a_one_line_message(overrides, message):
    with pytest.raises(ParameterError) as err:
        P.resolve(config.DEFAULT_BRIEFING, overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_parse_assignments_types_values_safely():
    assert P.parse_assignments(["a=1", "b=x", "c=true", "d=", "e=2.5"]) == {
        "a": 1, "b": "x", "c": True, "d": "", "e": 2.5}
    with pytest.raises(ParameterError):
        P.parse_assignments(["novalue"])


def test_params_file_uses_the_safe_loader(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("period: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        P.load_params_file(evil)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        P.load_params_file(listy)
