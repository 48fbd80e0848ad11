"""The "LLM bubble, not an AI bubble" argument, claim by claim, with verdicts computed from the
numbers. Each verdict is one of "supported", "contradicted", "inconclusive" or "not testable",
decided by a stated rule (a significance test at 5%, or a majority rule), never written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.spending import split_names

ALPHA = 0.05
CLAIMS = {
    1: "Overvaluation is concentrated in LLMs rather than in AI as a whole.",
    2: "Other AI domains (biology, chemistry, image, audio, video, ...) are growing.",
    3: "Money is shifting toward smaller, specialised models and domains.",
    4: "A bursting LLM segment would not severely hurt the rest of AI.",
    5: "LLM companies raise far more capital per dollar of revenue than other AI companies.",
}


@dataclass(frozen=True)
class Claim:
    number: int
    statement: str
    verdict: str
    evidence: str
    numbers: dict = field(default_factory=dict)
    uncertainty: str = ""


@dataclass(frozen=True)
class ThesisResult:
    claims: tuple[Claim, ...]

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"claim": c.number, "statement": c.statement, "verdict": c.verdict,
                              "evidence": c.evidence, "uncertainty": c.uncertainty} for c in self.claims])

    def metrics(self) -> dict:
        return {str(c.number): {"verdict": c.verdict, **c.numbers} for c in self.claims}

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, escape=True)


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.0%}"


def claim_valuation(pairs: pd.DataFrame, multiples: pd.DataFrame, llm_domains: tuple[str, ...],
                    explosive: dict | None = None) -> Claim:
    """Claim 1: annualised log valuation growth per repeat-round pair, LLM vs non-LLM (Welch t)."""
    if pairs.empty:
        return Claim(1, CLAIMS[1], "not testable", "No repeat priced rounds in the ledger.")
    g = np.log(pairs["value_ratio"]) / pairs["years"]
    llm = g[pairs["domain"].isin(llm_domains)]
    other = g[~pairs["domain"].isin(llm_domains)]
    numbers = {"llm_pairs": int(len(llm)), "other_pairs": int(len(other))}
    if len(llm) < 3 or len(other) < 3:
        return Claim(1, CLAIMS[1], "inconclusive", "Too few repeat rounds on one side (fewer than 3).", numbers)
    t = stats.ttest_ind(llm, other, equal_var=False)
    llm_g, other_g = float(np.expm1(llm.mean())), float(np.expm1(other.mean()))
    numbers.update({"llm_growth_per_year": round(llm_g, 4), "other_growth_per_year": round(other_g, 4),
                    "pvalue": round(float(t.pvalue), 4)})
    if not multiples.empty:
        m_llm = multiples.loc[multiples["domain"].isin(llm_domains), "multiple"]
        m_oth = multiples.loc[~multiples["domain"].isin(llm_domains), "multiple"]
        numbers["llm_median_multiple"] = round(float(m_llm.median()), 1) if len(m_llm) else None
        numbers["other_median_multiple"] = round(float(m_oth.median()), 1) if len(m_oth) else None
    if t.pvalue < ALPHA:
        verdict = "supported" if llm.mean() > other.mean() else "contradicted"
    else:
        verdict = "inconclusive"
    evidence = (f"Between consecutive priced rounds, LLM company valuations grew {_pct(llm_g)} a year on average "
                f"({len(llm)} pairs) against {_pct(other_g)} for other AI ({len(other)} pairs); Welch t-test "
                f"p = {t.pvalue:.3f}.")
    if numbers.get("llm_median_multiple") is not None and numbers.get("other_median_multiple") is not None:
        evidence += (f" Median valuation/revenue at priced rounds: {numbers['llm_median_multiple']:.0f}x for LLM "
                     f"companies vs {numbers['other_median_multiple']:.0f}x for others with reported revenue.")
    if explosive:
        llm_expl = [k for k, v in explosive.items() if v and k.startswith("llm")]
        other_expl = [k for k, v in explosive.items() if v and not k.startswith("llm")]
        evidence += f" Public baskets in an explosive (PSY) episode now: LLM {len(llm_expl)}, other {len(other_expl)}."
    return Claim(1, CLAIMS[1], verdict, evidence, numbers,
                 "Repeat rounds are few and skewed to successful companies (down rounds are rarely announced).")


def claim_growth(rounds: pd.DataFrame, as_of: pd.Timestamp, llm_domains: tuple[str, ...],
                 taxonomy: Taxonomy | None = None, min_rounds: int = 3, n_boot: int = 2000, seed: int = 0) -> Claim:
    """Claim 2: per non-LLM domain, funding in the last 12 months vs the 12 months before."""
    taxonomy = taxonomy or load_taxonomy()
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna() & (rounds["announced_on"] <= as_of)]
    last = usable[usable["announced_on"] > as_of - pd.DateOffset(years=1)]
    prev = usable[(usable["announced_on"] > as_of - pd.DateOffset(years=2)) & (usable["announced_on"] <= as_of - pd.DateOffset(years=1))]
    growth = {}
    for d in taxonomy.ids:
        if d in llm_domains:
            continue
        a = last.loc[last["effective_domain"] == d, "raised_amount_usd"]
        b = prev.loc[prev["effective_domain"] == d, "raised_amount_usd"]
        if len(a) + len(b) >= min_rounds and b.sum() > 0:
            growth[d] = float(a.sum() / b.sum() - 1)
    if not growth:
        return Claim(2, CLAIMS[2], "not testable", "Too few non-LLM rounds in the last two years.")
    growing = sorted(d for d, g in growth.items() if g > 0)
    shrinking = sorted(d for d, g in growth.items() if g <= 0)
    other_last = last[~last["effective_domain"].isin(llm_domains)]["raised_amount_usd"].to_numpy()
    other_prev = prev[~prev["effective_domain"].isin(llm_domains)]["raised_amount_usd"].to_numpy()
    rng = np.random.default_rng(seed)
    boot = [rng.choice(other_last, len(other_last)).sum() / rng.choice(other_prev, len(other_prev)).sum() - 1
            for _ in range(n_boot)] if len(other_last) and len(other_prev) else [np.nan]
    lo, hi = np.nanquantile(boot, [0.05, 0.95])
    total = float(other_last.sum() / other_prev.sum() - 1) if other_prev.sum() > 0 else float("nan")
    numbers = {"domains_growing": len(growing), "domains_tested": len(growth), "non_llm_growth": round(total, 4),
               "non_llm_growth_low": round(float(lo), 4), "non_llm_growth_high": round(float(hi), 4),
               "by_domain": {d: round(g, 4) for d, g in sorted(growth.items())}}
    verdict = "supported" if len(growing) > len(growth) / 2 and lo > 0 else \
        "contradicted" if len(shrinking) > len(growth) / 2 and hi < 0 else "inconclusive"
    evidence = (f"{len(growing)} of {len(growth)} non-LLM domains with enough rounds raised more in the 12 months to "
                f"{as_of.date()} than in the 12 months before; non-LLM funding overall changed {_pct(total)} "
                f"(90% bootstrap interval {_pct(lo)} to {_pct(hi)}).")
    return Claim(2, CLAIMS[2], verdict, evidence, numbers,
                 "Year-on-year changes in a ledger of large rounds are lumpy; one mega-round can flip a domain.")


def claim_shift(model) -> Claim:
    """Claim 3: the post-ChatGPT trend of the LLM share (fractional logit): negative = shift away."""
    if model is None:
        return Claim(3, CLAIMS[3], "not testable", "The share model could not be fitted on this ledger.")
    t = model.trend
    numbers = {"slope_logodds_per_year": round(float(t["slope"]), 4), "ci_low": round(float(t["ci_low"]), 4),
               "ci_high": round(float(t["ci_high"]), 4), "definition": model.definition}
    if t["ci_high"] < 0:
        verdict = "supported"
    elif t["ci_low"] > 0:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    evidence = (f"Since ChatGPT's launch the LLM share ({model.definition} definition) moves "
                f"{t['slope']:+.2f} log-odds a year (95% CI {t['ci_low']:+.2f} to {t['ci_high']:+.2f}); a shift toward "
                f"specialised domains would show as a significantly negative slope.")
    return Claim(3, CLAIMS[3], verdict, evidence, numbers,
                 "The ledger records domains, not model sizes: a specialised model inside an LLM company is not seen.")


def claim_contagion(rounds: pd.DataFrame, llm_domains: tuple[str, ...], funding_channels: list,
                    return_channels: list | None = None) -> Claim:
    """Claim 4: exposure of the rest of AI to an LLM bust (betas, shared investors)."""
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    is_llm = usable["effective_domain"].isin(llm_domains)
    llm_leads = {n.lower() for xs in usable.loc[is_llm, "lead_investors"].map(split_names) for n in xs}
    other = usable[~is_llm]
    shared = other["lead_investors"].map(lambda f: any(n.lower() in llm_leads for n in split_names(f)))
    shared_share = float(other.loc[shared, "raised_amount_usd"].sum() / other["raised_amount_usd"].sum()) \
        if other["raised_amount_usd"].sum() else float("nan")
    numbers = {"shared_lead_investor_share": round(shared_share, 4)}
    fb = [c.beta for c in funding_channels]
    sig_f = [c for c in funding_channels if c.ci[0] > 0]
    numbers["funding_beta_median"] = round(float(np.median(fb)), 3) if fb else None
    numbers["funding_channels_significant"] = len(sig_f)
    evidence = (f"{_pct(shared_share)} of non-LLM funding was in rounds led by an investor that also led LLM rounds. ")
    if fb:
        evidence += (f"Funding of {len(sig_f)} of {len(fb)} non-LLM domains co-moves significantly with LLM funding "
                     f"(median elasticity {np.median(fb):.2f}).")
    rb = [c.beta for c in (return_channels or [])]
    if rb:
        numbers["return_beta_median"] = round(float(np.median(rb)), 3)
        evidence += f" Non-LLM public baskets have a median weekly beta of {np.median(rb):.2f} to the LLM basket."
    high_market = bool(rb) and np.median(rb) >= 0.7
    low_market = bool(rb) and np.median(rb) < 0.4
    if high_market or (fb and len(sig_f) > len(fb) / 2):
        verdict = "contradicted"
    elif (not rb or low_market) and fb and not sig_f and shared_share < 0.5:
        verdict = "supported"
    else:
        verdict = "inconclusive"
    return Claim(4, CLAIMS[4], verdict, evidence, numbers,
                 "Betas come from normal times; in a bust correlations usually rise, so this understates contagion.")


def claim_efficiency(rounds: pd.DataFrame, lab_financials: pd.DataFrame, llm_domains: tuple[str, ...]) -> Claim:
    """Claim 5: cumulative disclosed funding over the latest revenue figure, LLM vs other."""
    def key(name):
        return str(name).split("(")[0].strip().lower()

    rev = lab_financials[lab_financials["metric"].isin(["annualized_run_rate", "annual_revenue"])]
    latest = rev.assign(key=rev["company"].map(key)).sort_values("as_of_date").groupby("key").tail(1).set_index("key")
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    raised = usable.groupby(usable["org_name"].map(key)).agg(raised=("raised_amount_usd", "sum"),
                                                             domain=("effective_domain", "first"))
    joined = raised.join(latest[["value_usd"]], how="inner")
    joined["ratio"] = joined["raised"] / joined["value_usd"]
    llm = joined[joined["domain"].isin(llm_domains)]["ratio"]
    other = joined[~joined["domain"].isin(llm_domains)]["ratio"]
    numbers = {"llm_companies": int(len(llm)), "other_companies": int(len(other)),
               "llm_median_raised_per_revenue": round(float(llm.median()), 2) if len(llm) else None,
               "other_median_raised_per_revenue": round(float(other.median()), 2) if len(other) else None}
    if len(llm) < 3 or len(other) < 3:
        ev = (f"Revenue is reported for {len(llm)} LLM and {len(other)} other AI companies in the ledger; "
              f"at least 3 on each side are needed.")
        if len(llm):
            ev += f" LLM companies raised a median {llm.median():.1f}x their latest revenue."
        return Claim(5, CLAIMS[5], "inconclusive", ev, numbers, "Private revenue figures are press-reported run-rates.")
    test = stats.mannwhitneyu(llm, other, alternative="two-sided")
    numbers["pvalue"] = round(float(test.pvalue), 4)
    verdict = ("supported" if llm.median() > other.median() else "contradicted") if test.pvalue < ALPHA else "inconclusive"
    evidence = (f"LLM companies raised a median {llm.median():.1f}x their latest revenue ({len(llm)} companies) against "
                f"{other.median():.1f}x for other AI companies ({len(other)}); Mann-Whitney p = {test.pvalue:.3f}.")
    return Claim(5, CLAIMS[5], verdict, evidence, numbers, "Private revenue figures are press-reported run-rates.")
