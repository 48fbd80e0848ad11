"""Valuation analytics: step-ups between priced rounds, a repeat-round valuation index
(Bailey-Muth-Nourse), and valuation-to-revenue multiples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.taxonomy import Taxonomy, load_taxonomy

DAYS_PER_YEAR = 365.25


def priced_pairs(rounds: pd.DataFrame) -> pd.DataFrame:
    """Consecutive priced rounds of the same company (post-money known on both).

    ``value_ratio`` compares the second round's PRE-money valuation (post-money minus the new
    money) with the first round's post-money: the change in what the existing company was worth,
    not inflated by the cash just raised. When the second amount is undisclosed the post-money is
    used and the row says so (``pre_money_known`` False). ``annualised`` = ratio^(1/years) - 1.
    """
    priced = rounds[rounds["post_money_valuation_usd"].notna() & rounds["new_money"]].sort_values(
        ["org_name", "announced_on"])
    rows = []
    for org, g in priced.groupby("org_name"):
        g = g.reset_index(drop=True)
        for i in range(1, len(g)):
            first, second = g.iloc[i - 1], g.iloc[i]
            days = (second["announced_on"] - first["announced_on"]).days
            if days <= 0:
                continue
            # A split round's post-money sits on its first part; the new money behind it is the
            # whole announced round (data model v2), not just that part.
            total = second.get("announced_total_usd", float("nan"))
            raised = total if pd.notna(total) else second["raised_amount_usd"]
            pre_known = pd.notna(raised) and raised < second["post_money_valuation_usd"]
            value2 = second["post_money_valuation_usd"] - (raised if pre_known else 0.0)
            ratio = value2 / first["post_money_valuation_usd"]
            rows.append({
                "org_name": org, "domain": second["effective_domain"],
                "first_date": first["announced_on"], "second_date": second["announced_on"],
                "first_post_usd": first["post_money_valuation_usd"], "second_post_usd": second["post_money_valuation_usd"],
                "second_value_usd": value2, "pre_money_known": bool(pre_known),
                "years": days / DAYS_PER_YEAR, "value_ratio": ratio,
                "annualised": ratio ** (DAYS_PER_YEAR / days) - 1,
            })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RepeatRoundIndex:
    """A valuation index per period from repeat rounds (log scale estimates with standard errors).

    ``index`` has columns ``log_index``, ``se``, ``index`` (= exp(log_index), base period = 1),
    ``lower``/``upper`` (95%), and ``pairs`` (pairs whose second round falls in the period).
    """

    segment: str
    index: pd.DataFrame
    pairs: int
    period: str

    def annual_growth(self) -> float:
        """Average growth per year over the index's span (from the log index end points)."""
        idx = self.index.dropna(subset=["log_index"])
        if len(idx) < 2:
            return float("nan")
        span_years = (idx.index[-1].start_time - idx.index[0].start_time).days / DAYS_PER_YEAR
        return float(np.exp((idx["log_index"].iloc[-1] - idx["log_index"].iloc[0]) / span_years) - 1)

    def summary(self) -> pd.DataFrame:
        return self.index

    def _repr_html_(self) -> str:
        return f"<p>{self.segment}: {self.pairs} pairs</p>" + self.index.to_html(float_format=lambda x: f"{x:.3g}")


def repeat_round_index(pairs: pd.DataFrame, period: str = "Y", segment: str = "all",
                       min_pairs: int = 3) -> RepeatRoundIndex:
    """Bailey-Muth-Nourse repeat-sales regression on consecutive priced rounds.

    Notes
    -----
    For each pair, ``log(value_2 / post_1) = beta_{p(t2)} - beta_{p(t1)} + e``, with the first
    period's beta fixed at 0; OLS (statsmodels) gives each period's log index and its standard
    error. Pairs within one period carry no information and are dropped.

    References
    ----------
    Bailey, M. J., Muth, R. F. and Nourse, H. O. (1963). A regression method for real estate
    price index construction. Journal of the American Statistical Association 58(304), 933-942.
    """
    from statsmodels.regression.linear_model import OLS

    if pairs.empty:
        raise ValueError(f"no repeat-round pairs for segment {segment!r}")
    p1 = pairs["first_date"].dt.to_period(period)
    p2 = pairs["second_date"].dt.to_period(period)
    keep = p1 != p2
    p1, p2, y = p1[keep], p2[keep], np.log(pairs.loc[keep, "value_ratio"].to_numpy(dtype=float))
    if keep.sum() < min_pairs:
        raise ValueError(f"segment {segment!r} has {int(keep.sum())} usable pairs; need {min_pairs}")
    grid = pd.period_range(min(p1.min(), p2.min()), max(p1.max(), p2.max()), freq=period)
    pos = {p: i for i, p in enumerate(grid)}
    X = np.zeros((len(y), len(grid)))
    for row, (a, b) in enumerate(zip(p1, p2)):
        X[row, pos[a]] -= 1.0
        X[row, pos[b]] += 1.0
    X = X[:, 1:]  # base period normalised to zero
    identified = X.any(axis=0)
    fit = OLS(y, X[:, identified]).fit()
    log_index = np.full(len(grid), np.nan)
    se = np.full(len(grid), np.nan)
    log_index[0], se[0] = 0.0, 0.0
    cols = np.flatnonzero(identified) + 1
    log_index[cols] = fit.params
    se[cols] = fit.bse
    counts = p2.value_counts().reindex(grid, fill_value=0).to_numpy()
    frame = pd.DataFrame({"log_index": log_index, "se": se, "index": np.exp(log_index),
                          "lower": np.exp(log_index - 1.96 * se), "upper": np.exp(log_index + 1.96 * se),
                          "pairs": counts}, index=grid)
    return RepeatRoundIndex(segment, frame, int(keep.sum()), period)


def segment_indices(pairs: pd.DataFrame, definition: str = "broad", period: str = "Y",
                    taxonomy: Taxonomy | None = None, min_pairs: int = 5) -> dict[str, RepeatRoundIndex]:
    """Repeat-round indices for LLM vs non-LLM companies and every domain with enough pairs."""
    taxonomy = taxonomy or load_taxonomy()
    llm = set(taxonomy.llm_domains(definition))
    groups = {"LLM": pairs[pairs["domain"].isin(llm)], "non-LLM": pairs[~pairs["domain"].isin(llm)]}
    for domain in taxonomy.ids:
        groups[domain] = pairs[pairs["domain"] == domain]
    out = {}
    for name, group in groups.items():
        try:
            out[name] = repeat_round_index(group, period, name, min_pairs=min_pairs)
        except ValueError:
            continue  # too few pairs: the segment is left out, not estimated from noise
    return out


def revenue_multiples(rounds: pd.DataFrame, lab_financials: pd.DataFrame, max_age_days: int = 366,
                      point_in_time: bool = True) -> pd.DataFrame:
    """Post-money valuation over the latest revenue figure known at the round's date.

    Revenue is the latest annualised run-rate or annual revenue dated on or before the round and
    no older than ``max_age_days`` (projections are never used: a multiple on hoped-for revenue
    is not comparable). With ``point_in_time`` (the default) a figure is used only if it was
    public by the round's date (``published_on`` <= ``announced_on``, data model v2): a figure
    for December published in May cannot have priced a round in March. Figures without a dollar
    value (another currency with no official rate) are never used. Company names are matched
    case-insensitively, and "Anysphere (Cursor)" style names on either side match on the part
    before the bracket.
    """
    def key(name: str) -> str:
        return str(name).split("(")[0].strip().lower()

    columns = ["org_name", "domain", "announced_on", "post_money_usd", "revenue_usd", "revenue_metric",
               "revenue_as_of", "revenue_published_on", "multiple"]
    revenue = lab_financials[lab_financials["metric"].isin(["annualized_run_rate", "annual_revenue"])
                             & lab_financials["value_usd"].notna()]
    published = revenue["published_on"] if "published_on" in revenue else pd.Series(pd.NaT, index=revenue.index)
    revenue = pd.DataFrame({"key": revenue["company"].map(key), "as_of_date": revenue["as_of_date"],
                            "published_on": published, "value_usd": revenue["value_usd"], "metric": revenue["metric"]})
    priced = rounds[rounds["post_money_valuation_usd"].notna()]
    priced = priced.assign(key=priced["org_name"].map(key), _row=np.arange(len(priced)))[
        ["_row", "key", "org_name", "effective_domain", "announced_on", "post_money_valuation_usd"]]
    if priced.empty or revenue.empty:
        return pd.DataFrame(columns=columns)
    pairs = priced.merge(revenue, on="key")
    usable = (pairs["as_of_date"] <= pairs["announced_on"]) & (
        pairs["announced_on"] - pairs["as_of_date"] <= pd.Timedelta(days=max_age_days))
    if point_in_time:
        usable &= pairs["published_on"].isna() | (pairs["published_on"] <= pairs["announced_on"])
    pairs = pairs[usable]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    # The latest figure per round (ties: the larger, as the earlier merge_asof kept the last row).
    merged = pairs.sort_values(["_row", "as_of_date", "value_usd"]).groupby("_row").tail(1).sort_values(
        ["announced_on", "_row"])
    out = pd.DataFrame({
        "org_name": merged["org_name"], "domain": merged["effective_domain"], "announced_on": merged["announced_on"],
        "post_money_usd": merged["post_money_valuation_usd"], "revenue_usd": merged["value_usd"],
        "revenue_metric": merged["metric"], "revenue_as_of": merged["as_of_date"],
        "revenue_published_on": merged["published_on"],
        "multiple": merged["post_money_valuation_usd"] / merged["value_usd"]})
    return out[columns].reset_index(drop=True)


def multiples_lost_to_publication(rounds: pd.DataFrame, lab_financials: pd.DataFrame,
                                  max_age_days: int = 366) -> pd.DataFrame:
    """Rounds whose multiple changes or disappears when only figures public at the time count.

    One row per priced round whose revenue figure under the look-ahead rule (any figure dated
    before the round) differs from the point-in-time one: ``status`` is ``lost`` (no figure was
    public yet) or ``older_figure`` (an earlier published figure is used instead).
    """
    ahead = revenue_multiples(rounds, lab_financials, max_age_days, point_in_time=False)
    pit = revenue_multiples(rounds, lab_financials, max_age_days, point_in_time=True)
    keys = ["org_name", "announced_on", "post_money_usd"]
    both = ahead.merge(pit[keys + ["revenue_usd", "multiple"]], on=keys, how="left", suffixes=("", "_pit"))
    changed = both[both["revenue_usd_pit"].isna() | (both["revenue_usd_pit"] != both["revenue_usd"])]
    return changed.assign(status=np.where(changed["revenue_usd_pit"].isna(), "lost", "older_figure")).reset_index(
        drop=True)
