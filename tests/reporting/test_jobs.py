"""Batch configs and the report job: nothing starts when anything is wrong, and every message
is one line naming the job and the key."""

from __future__ import annotations

import pytest

from analysis import config
from analysis.errors import ConfigError, ParameterError
from analysis.reporting import jobs
from tests.conftest import AS_OF
from tests.reporting.support import batch_config, tiny_notebook


@pytest.mark.parametrize("entries, expected", [
    ("- name: a\n  notebook: ok.ipynb\n  paramters: {}\n", "job 'a': unknown key 'paramters'"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {top_n: many}\n", "job 'a': parameters: top_n: 'many'"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {colour: red}\n",
     "job 'a': parameters: unknown parameter 'colour' for ok.ipynb"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {as_of: 2025-01-01}\n", "job 'a': parameters.as_of"),
    ("- name: a\n  notebook: missing.ipynb\n", "job 'a': notebook: file not found"),
    ("- name: A b\n  notebook: ok.ipynb\n", "job 'A b': name"),
    ("- name: a\n  notebook: ok.ipynb\n- name: a\n  notebook: ok.ipynb\n", "job 'a': name: used twice"),
    ("- name: a-{top_n}\n  notebook: ok.ipynb\n  matrix: {top_n: 3}\n", "matrix.top_n"),
    ("- name: a\n  notebook: ok.ipynb\n  timeout: -1\n", "job 'a': timeout: -1"),
    ("- name: a\n  notebook: ok.ipynb\n  cell_timeout: 0\n", "job 'a': cell_timeout: 0 must be a positive"),
])
def test_config_errors_are_one_line_and_name_job_and_key(tmp_path, entries, expected):
    tiny_notebook(tmp_path / "ok.ipynb", "pass")
    with pytest.raises((ConfigError, ParameterError)) as err:
        jobs.load_config(batch_config(tmp_path, entries))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_matrix_fans_out_over_the_taxonomy_and_defaults_apply_where_declared():
    from analysis.data.taxonomy import load_taxonomy

    cfg = jobs.load_config(config.ROOT / "reports.yaml", as_of=AS_OF)
    domains = load_taxonomy().ids
    assert cfg.names == ("bubble-risk", *(f"domain-{d}" for d in domains))
    assert len(cfg.jobs) == 14
    deep = cfg.jobs[1]
    assert deep.parameters["domain"] == domains[0] and deep.parameters["offline"] is True
    assert deep.parameters["as_of"] == AS_OF and deep.title == f"AI domain deep-dive: {domains[0]}"
    only = jobs.load_config(config.ROOT / "reports.yaml", as_of=AS_OF, only=["domain-bio*", "bubble-risk"])
    assert only.names == ("bubble-risk", "domain-biology")
    assert cfg.command == "aibubble run reports.yaml"


def test_report_job_resolves_parameters_once_and_rejects_a_timeout_that_would_disable_it(tmp_path):
    nb = tiny_notebook(tmp_path / "brief.ipynb", "pass")
    job = jobs.report_job(nb, {"top_n": "7", "as_of": AS_OF}, cell_timeout=30)
    assert job.name == "brief" and job.parameters == {"as_of": AS_OF, "top_n": 7}
    assert job.cell_timeout == 30 and job.timeout_s == jobs.default_job_timeout_s()
    for bad in (0, -5):
        with pytest.raises(ParameterError, match=f"--timeout: {bad} must be a positive number of seconds"):
            jobs.report_job(nb, {}, cell_timeout=bad)
    with pytest.raises(ParameterError, match="unknown parameter 'colour'"):
        jobs.report_job(nb, {"colour": "red"}, cell_timeout=30)
