"""Notebook parameters: one validator per known name, used before any kernel starts and again in
each notebook's validation cell, so a bad value fails the same way from the CLI and in JupyterLab.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable


import yaml

from analysis import clock
from analysis.errors import ConfigError, ParameterError
from analysis.data.vocabulary import INVESTMENT_TYPES, INVESTOR_TYPES
from analysis.data.taxonomy import LLM_DEFINITIONS, load_taxonomy

PERIODS = ("month", "quarter", "year")


def _as_of(value: Any) -> str:
    today = clock.today()  # the same day, in the same zone, as the report's "Generated" stamp
    if value in ("", None):
        return today.isoformat()
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"as_of: {value!r} is not a date in YYYY-MM-DD form") from None
    if day > today:
        raise ParameterError(f"as_of: {day} is in the future")
    if day.year < 2015:
        raise ParameterError(f"as_of: {day} is before the data starts (2015)")
    return day.isoformat()


def _path_or_empty(name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value in ("", None):
            return ""
        path = Path(str(value)).expanduser()
        if not path.is_file():
            raise ParameterError(f"{name}: file not found: {path.name}")
        return str(path.resolve())
    return check


def _choice(name: str, options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ParameterError(f"{name}: {value!r} is not one of {', '.join(options)}")
        return str(value)
    return check


def _share(name: str) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}: {value!r} is not a number") from None
        if not 0.0 <= number <= 1.0:
            raise ParameterError(f"{name}: {number} is outside [0, 1]")
        return number
    return check


def _int_between(name: str, low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise ParameterError(f"{name}: {value!r} is not a whole number")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}: {value!r} is not a whole number") from None
        if number != float(value) or not low <= number <= high:
            raise ParameterError(f"{name}: {value!r} must be a whole number from {low} to {high}")
        return number
    return check


def _bool(name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ParameterError(f"{name}: {value!r} is not true or false")
    return check


def _domain(value: Any) -> str:
    ids = load_taxonomy().ids
    if value in ("", None, "all"):
        return ""
    if value not in ids:
        raise ParameterError(f"domain: {value!r} is not a domain of the taxonomy ({', '.join(ids)})")
    return str(value)


def _basket(value: Any) -> str:
    ids = [b.id for b in load_taxonomy().baskets]
    if value not in ids:
        raise ParameterError(f"basket: {value!r} is not a basket of the taxonomy ({', '.join(ids)})")
    return str(value)


def _text(name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > 200:
            raise ParameterError(f"{name}: expected a short text, got {value!r}")
        return value
    return check


def _risk_weights(value: Any) -> dict:
    from analysis.risk import validate_weights

    if value in ("", None):
        return {}
    if not isinstance(value, dict):
        raise ParameterError(f"risk_weights: expected a mapping of indicator names to weights, got {value!r}")
    try:
        validate_weights(value)
    except ValueError as exc:
        raise ParameterError(f"risk_weights: {exc}") from None
    return dict(value)


#: Every parameter name any notebook may declare, with its validator.
VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "as_of": _as_of,
    "ledger": _path_or_empty("ledger"),
    "period": _choice("period", PERIODS),
    "definition": _choice("definition", LLM_DEFINITIONS),
    "start_year": _int_between("start_year", 2015, 2030),
    "offline": _bool("offline"),
    "domain": _domain,
    "infra_llm_share": _share("infra_llm_share"),
    "capex_llm_share": _share("capex_llm_share"),
    "top_n": _int_between("top_n", 1, 100),
    "risk_weights": _risk_weights,
    "basket": _basket,
    "tickers": _text("tickers"),
    "llm_valuation_haircut": _share("llm_valuation_haircut"),
    "llm_funding_drop": _share("llm_funding_drop"),
    "capex_cut": _share("capex_cut"),
    "round_type": lambda v: "" if v in ("", None, "all") else _choice("round_type", tuple(INVESTMENT_TYPES))(v),
    "investor_type": lambda v: "" if v in ("", None, "all") else _choice("investor_type", tuple(INVESTOR_TYPES))(v),
}


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Validate parameter values by name; unknown names are an error. Returns normalised values."""
    unknown = sorted(set(params) - set(VALIDATORS))
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}")
    out = {name: VALIDATORS[name](value) for name, value in params.items()}
    if "start_year" in out and "as_of" in out and out["start_year"] > int(out["as_of"][:4]):
        raise ParameterError(f"start_year: {out['start_year']} is after as_of {out['as_of']} (empty period)")
    return out


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """The names and default values of a notebook's ``parameters`` cell."""
    import papermill  # heavy import: only the CLI needs it, not the notebooks' validation cell

    declared = papermill.inspect_notebook(str(notebook))
    defaults = {}
    for name, info in declared.items():
        try:
            defaults[name] = yaml.safe_load(info["default"]) if info["default"] not in ("", None) else ""
        except yaml.YAMLError:
            defaults[name] = info["default"]
        if isinstance(defaults[name], str) and len(defaults[name]) >= 2 and defaults[name][0] == defaults[name][-1] == '"':
            defaults[name] = defaults[name][1:-1]
    return defaults


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``["period=year", "start_year=2020"]`` -> values typed by YAML rules (safe loader)."""
    out = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"-p {pair!r}: expected name=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out[name.strip()] = "" if value is None else value
    return out


def load_params_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping of parameters with the safe loader."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{Path(path).name}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{Path(path).name}: not valid YAML ({exc.__class__.__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{Path(path).name}: expected a mapping of parameter names to values")
    return data


def resolve(notebook: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge overrides into a notebook's defaults, rejecting names the notebook doesn't declare."""
    defaults = notebook_defaults(notebook)
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for {notebook.name} (known: {', '.join(sorted(defaults))})")
    return validate({**defaults, **overrides})
