"""The "LLM bubble, not an AI bubble" thesis, claim by claim: each claim an effect with its
interval, the effective number of independent units behind it, the smallest effect the data could
detect, a p-value and a verdict on the scale of :mod:`analysis.inference`.

The claims and their tests
--------------------------
1. *Overvaluation is concentrated in LLMs.* Levels first: each company's valuation-to-revenue
   multiple at its priced rounds (revenue public by the round date), summarised per company as
   the median log multiple; LLM companies against non-LLM AI companies (Hodges-Lehmann shift,
   Mann-Whitney p, companies resampled for the interval). Growth second: each company's
   time-weighted valuation growth between priced rounds (sum of log step-ups over the years they
   span), compared the same way. The levels test is primary when both sides have
   ``MIN_COMPANIES`` companies with a multiple, else the growth test; the other is shown beside it.
   One company is one unit however many rounds it has, and a pair a month apart weighs a month,
   so no single pair decides the verdict.
2. *Other AI domains are growing.* Per non-LLM domain with ``MIN_DOMAIN_ROUNDS`` rounds in each
   year, log growth of disclosed new money in the last twelve months of data against the twelve
   before; the effect is the median domain's log growth (a domain growing 500-fold from a tiny
   base is one rank, not an average-breaker), with the share of domains growing and the
   dollar-weighted growth of all non-LLM money beside it. p from the exact sign test over domains
   (the null: a domain is as likely to shrink as to grow); interval from resampling each domain's
   companies.
3. *Money and models shift toward smaller, specialised models.* From Epoch AI's notable-models
   database (``data/models.csv``): the share of notable models under ``SMALL_MODEL_PARAMS``
   parameters after ChatGPT's launch (2023 on) against 2019-2022, with a linear-probability
   regression clustered by organisation. Not testable without that data.
4. *An LLM bust would not severely hurt the rest of AI.* See :mod:`analysis.contagion`.
5. *LLM companies raise far more capital per dollar of revenue.* Per company, disclosed new money
   raised up to its latest revenue figure over that revenue (log), LLM against non-LLM (as claim
   1). Not testable with fewer than ``MIN_EFFICIENCY_COMPANIES`` companies a side.

Claims 1, 2, 3 and 5 use no market prices, so their verdicts are the same with and without market
data. Holm's adjustment runs across the five primary tests under the headline (broad) LLM
definition; the narrow definition is a sensitivity analysis, shown unadjusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis import inference as I
from analysis.data.taxonomy import Taxonomy, load_taxonomy

CLAIMS = {
    1: "Overvaluation is concentrated in LLMs rather than in AI as a whole.",
    2: "Other AI domains (biology, chemistry, image, audio, video, ...) are growing.",
    3: "Money and models are shifting toward smaller, specialised models.",
    4: "A bursting LLM segment would not severely hurt the rest of AI.",
    5: "LLM companies raise far more capital per dollar of revenue than other AI companies.",
}
#: Fewest independent companies per side for the two-sample tests of claims 1 and 5 (claim 5's
#: floor is the issue's: fewer than 10 a side is not a comparison of capital efficiency).
MIN_COMPANIES = 5
MIN_EFFICIENCY_COMPANIES = 10
#: Fewest non-LLM domains with rounds in both years for claim 2.
MIN_DOMAINS = 5
#: A domain enters claim 2 with at least this many rounds in each of the two years.
MIN_DOMAIN_ROUNDS = 2
#: "Small" models for claim 3 (parameters), and the fewest models with a parameter count per era.
SMALL_MODEL_PARAMS = 10e9
MIN_MODELS = 30
N_BOOT = 999


@dataclass(frozen=True)
class ThesisResult:
    """The five primary claim tests (Holm-adjusted) and the sensitivity runs by definition."""

    claims: tuple[I.ClaimTest, ...]
    sensitivity: dict = field(default_factory=dict)   # definition -> tuple of ClaimTest (unadjusted)
    secondary: dict = field(default_factory=dict)     # claim number -> ClaimTest shown beside it

    def summary(self) -> pd.DataFrame:
        rows = []
        for c in self.claims:
            rows.append({"claim": c.number, "statement": c.statement, "verdict": c.verdict,
                         "effect": c.effect, "interval": c.interval, "n_eff": c.n_eff, "mde": c.mde,
                         "p_raw": c.p_raw, "p_adjusted": c.p_adjusted, "evidence": c.evidence,
                         "limits": c.limits})
        return pd.DataFrame(rows)

    def metrics(self) -> dict:
        out = {str(c.number): c.metrics() for c in self.claims}
        for number, claim in self.secondary.items():
            out[str(number)]["secondary"] = claim.metrics()
        return out

    def sensitivity_metrics(self) -> dict:
        return {d: {str(c.number): {"verdict": c.verdict, "effect": c.metrics()["effect"],
                                    "p_raw": c.metrics()["p_raw"]} for c in claims}
                for d, claims in self.sensitivity.items()}

    def _repr_html_(self) -> str:
        return self.summary().drop(columns=["evidence", "limits"]).to_html(index=False, escape=True)


def _pct(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.0%}"


def _mult(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.2f}x"


def two_sample(number: int, x: pd.Series, y: pd.Series, *, test: str, effect_label: str, min_units: int,
               supports: str = "above", seed: int = 0, **kwargs) -> I.ClaimTest:
    """LLM units ``x`` against non-LLM units ``y`` (one value per company): Hodges-Lehmann shift,
    bootstrap interval, Mann-Whitney p, Noether MDE; not testable below ``min_units`` a side."""
    x, y = x.dropna(), y.dropna()
    n_eff = {"llm": float(len(x)), "non_llm": float(len(y))}
    if len(x) < min_units or len(y) < min_units:
        return I.not_testable(number, CLAIMS[number], test, effect_label,
                              f"Too few independent companies: {len(x)} LLM and {len(y)} non-LLM "
                              f"(at least {min_units} a side are needed).", n_eff, supports=supports, **kwargs)
    effect = I.hodges_lehmann(x, y)
    return I.ClaimTest(number, CLAIMS[number], test, effect_label, effect,
                       I.bootstrap_shift_interval(x, y, n_boot=N_BOOT, seed=seed), n_eff,
                       I.mde_two_sample(x, y), I.mann_whitney_p(x, y), supports=supports, **kwargs)


# --------------------------------------------------------------------------------------------
# Claim 1: valuations, levels and growth
# --------------------------------------------------------------------------------------------


def company_growth(pairs: pd.DataFrame) -> pd.DataFrame:
    """Time-weighted valuation growth per company: ``sum(log step-ups) / sum(years)`` over its
    consecutive priced rounds (a step-up a month apart weighs a month). Columns ``org_name``,
    ``domain`` (of the latest round), ``log_growth`` (per year), ``years``, ``pairs``."""
    if pairs.empty:
        return pd.DataFrame(columns=["org_name", "domain", "log_growth", "years", "pairs"])
    p = pairs.assign(log_ratio=np.log(pairs["value_ratio"].astype(float))).sort_values("second_date")
    g = p.groupby("org_name").agg(domain=("domain", "last"), log_sum=("log_ratio", "sum"),
                                  years=("years", "sum"), pairs=("log_ratio", "size")).reset_index()
    g["log_growth"] = g["log_sum"] / g["years"]
    return g[["org_name", "domain", "log_growth", "years", "pairs"]]


def company_multiples(multiples: pd.DataFrame) -> pd.DataFrame:
    """Median log valuation-to-revenue multiple per company over its priced rounds."""
    if multiples.empty:
        return pd.DataFrame(columns=["org_name", "domain", "log_multiple", "rounds"])
    m = multiples.assign(log_multiple=np.log(multiples["multiple"].astype(float))).sort_values("announced_on")
    return m.groupby("org_name").agg(domain=("domain", "last"), log_multiple=("log_multiple", "median"),
                                     rounds=("log_multiple", "size")).reset_index()


def claim_valuation(pairs: pd.DataFrame, multiples: pd.DataFrame, llm_domains: tuple[str, ...],
                    definition: str = "broad", references: dict | None = None,
                    seed: int = 1) -> tuple[I.ClaimTest, I.ClaimTest]:
    """Claim 1: the primary test (levels when testable, else growth) and the other one.

    ``references`` (optional) maps a label to a historical valuation-to-revenue multiple (sourced
    reference points such as the dot-com peak); the LLM companies' median multiple is reported
    against each in ``details``.
    """
    levels = company_multiples(multiples)
    growth = company_growth(pairs)
    is_llm_l = levels["domain"].isin(llm_domains)
    is_llm_g = growth["domain"].isin(llm_domains)
    level_test = two_sample(
        1, levels.loc[is_llm_l, "log_multiple"], levels.loc[~is_llm_l, "log_multiple"],
        test="valuation/revenue levels: Hodges-Lehmann shift of company median log multiples, Mann-Whitney",
        effect_label="LLM over non-LLM valuation-to-revenue multiple (ratio of typical multiples)",
        min_units=MIN_COMPANIES, definition=definition, seed=seed,
        limits="Revenue figures are press-reported run-rates; only companies with a figure public by "
               "the round date count.")
    growth_test = two_sample(
        1, growth.loc[is_llm_g, "log_growth"], growth.loc[~is_llm_g, "log_growth"],
        test="valuation growth: Hodges-Lehmann shift of company time-weighted log growth, Mann-Whitney",
        effect_label="LLM minus non-LLM valuation growth (log points a year)",
        min_units=MIN_COMPANIES, definition=definition, seed=seed + 1,
        limits="Repeat priced rounds are few and skewed to successful companies (down rounds are rarely "
               "announced).")
    if level_test.testable:
        x = levels.loc[is_llm_l, "log_multiple"]
        details = {"llm_median_multiple": round(float(np.exp(x.median())), 1),
                   "non_llm_median_multiple": round(float(np.exp(levels.loc[~is_llm_l, "log_multiple"].median())), 1)}
        for label, value in (references or {}).items():
            details[f"llm_median_over_{label}"] = round(float(np.exp(x.median()) / value), 2)
        lo, hi = level_test.interval
        evidence = (f"A typical LLM company is valued at {_mult(np.exp(level_test.effect))} the revenue multiple of a "
                    f"non-LLM AI company (90% interval {_mult(np.exp(lo))} to {_mult(np.exp(hi))}; "
                    f"{len(x)} LLM and {int(level_test.n_eff['non_llm'])} non-LLM companies; medians "
                    f"{details['llm_median_multiple']:.0f}x and {details['non_llm_median_multiple']:.0f}x).")
        primary = replace(level_test, evidence=evidence, details=details)
        secondary = _describe_growth(growth_test)
    elif growth_test.testable:
        primary = _describe_growth(growth_test)
        secondary = replace(level_test, evidence=level_test.evidence + " The growth test is primary instead.")
    else:
        primary = replace(growth_test, evidence="Neither valuation levels nor growth can be tested: "
                                                 + level_test.evidence)
        secondary = level_test
    return primary, secondary


def _describe_growth(test: I.ClaimTest) -> I.ClaimTest:
    if not test.testable:
        return test
    lo, hi = test.interval
    evidence = (f"LLM company valuations grew {test.effect:+.2f} log points a year faster than non-LLM ones "
                f"(90% interval {lo:+.2f} to {hi:+.2f}; {int(test.n_eff['llm'])} LLM and "
                f"{int(test.n_eff['non_llm'])} non-LLM companies with two or more priced rounds).")
    return replace(test, evidence=evidence)


# --------------------------------------------------------------------------------------------
# Claim 2: growth of the other domains
# --------------------------------------------------------------------------------------------


def _domain_windows(rounds: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna() & (rounds["announced_on"] <= end)]
    last = usable["announced_on"] > end - pd.DateOffset(years=1)
    prev = (usable["announced_on"] > end - pd.DateOffset(years=2)) & ~last
    return usable[last | prev].assign(window=np.where(last[last | prev], "last", "prev"))


def _domain_growth(frame: pd.DataFrame, domains: list[str]) -> pd.DataFrame:
    """Per domain: dollars and rounds in each window, log growth, weight."""
    g = frame.groupby(["effective_domain", "window"])["raised_amount_usd"].agg(["sum", "size"]).unstack("window")
    g = g.reindex(index=domains, columns=pd.MultiIndex.from_product([["sum", "size"], ["last", "prev"]]))
    out = pd.DataFrame({"last_usd": g[("sum", "last")], "prev_usd": g[("sum", "prev")],
                        "last_rounds": g[("size", "last")], "prev_rounds": g[("size", "prev")]}).fillna(0.0)
    ok = (out["last_rounds"] >= MIN_DOMAIN_ROUNDS) & (out["prev_rounds"] >= MIN_DOMAIN_ROUNDS)
    out["log_growth"] = np.where(ok, np.log(out["last_usd"].where(ok, 1.0) / out["prev_usd"].where(ok, 1.0)), np.nan)
    out["weight"] = out["last_usd"] + out["prev_usd"]
    return out


def _weighted_median_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`analysis.inference.weighted_median` of every row (NaN values carry no weight)."""
    w = np.where(np.isfinite(values), weights, 0.0)
    v = np.where(np.isfinite(values), values, np.inf)
    order = np.argsort(v, axis=1)
    v, w = np.take_along_axis(v, order, axis=1), np.take_along_axis(w, order, axis=1)
    cum = np.cumsum(w, axis=1)
    idx = np.minimum((cum < 0.5 * cum[:, -1:]).sum(axis=1), v.shape[1] - 1)
    out = v[np.arange(len(v)), idx]
    return np.where(cum[:, -1] > 0, out, np.nan)


def _growth_interval(frame: pd.DataFrame, domains: list[str], seed: int) -> tuple[float, float]:
    """Bootstrap interval of claim 2's effect: each domain's companies are resampled with all
    their rounds (a company is the independent unit), the domain growths and their median
    recomputed (a domain short of rounds in a resample drops out of it)."""
    rng = np.random.default_rng(seed)
    per = frame.pivot_table(index=["effective_domain", "org_name"], columns="window", values="raised_amount_usd",
                            aggfunc=["sum", "size"], fill_value=0)
    growth, weight = np.full((N_BOOT, len(domains)), np.nan), np.zeros((N_BOOT, len(domains)))
    for j, d in enumerate(domains):
        block = per.loc[d]
        usd = {w: block[("sum", w)].to_numpy(float) if ("sum", w) in block else np.zeros(len(block))
               for w in ("last", "prev")}
        cnt = {w: block[("size", w)].to_numpy(float) if ("size", w) in block else np.zeros(len(block))
               for w in ("last", "prev")}
        idx = rng.integers(0, len(block), (N_BOOT, len(block)))
        last, prev = usd["last"][idx].sum(1), usd["prev"][idx].sum(1)
        ok = (cnt["last"][idx].sum(1) >= MIN_DOMAIN_ROUNDS) & (cnt["prev"][idx].sum(1) >= MIN_DOMAIN_ROUNDS)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth[:, j] = np.where(ok, np.log(last / prev), np.nan)
        weight[:, j] = np.where(ok, 1.0, 0.0)
    boots = _weighted_median_rows(growth, weight)
    tail = (1 - I.INTERVAL_LEVEL) / 2
    lo, hi = np.nanquantile(boots, [tail, 1 - tail])
    return float(lo), float(hi)


def _sign_test(values: np.ndarray) -> tuple[float, float]:
    """Exact two-sided sign test of a zero median (domains growing vs shrinking; a domain at
    exactly zero is dropped), and the minimum detectable median shift at 80% power (Noether 1987:
    ``P(X > 0) - 1/2 = (z_{1-alpha/2} + z_0.8) / (2 sqrt n)`` under a normal location model with
    the domains' robust sd)."""
    from scipy import stats

    v = values[values != 0]
    n = len(v)
    p = float(stats.binomtest(int((v > 0).sum()), n, 0.5).pvalue) if n else float("nan")
    excess = (stats.norm.ppf(1 - I.ALPHA / 2) + stats.norm.ppf(0.8)) / (2 * np.sqrt(n)) if n else 1.0
    sigma = I.robust_sd(values - np.median(values))
    mde = float(sigma * stats.norm.ppf(0.5 + excess)) if excess < 0.5 else float("inf")
    return p, mde


def claim_growth(rounds: pd.DataFrame, end: pd.Timestamp, llm_domains: tuple[str, ...],
                 taxonomy: Taxonomy | None = None, definition: str = "broad", seed: int = 2) -> I.ClaimTest:
    """Claim 2 (see the module docstring). ``end`` is the last date of data used (the ledger's
    newest round or the report date, whichever is earlier)."""
    taxonomy = taxonomy or load_taxonomy()
    test = ("median of non-LLM domains' log funding growth (last 12 months vs the 12 before), "
            "exact sign test over domains")
    label = "growth of the median non-LLM domain (log points a year)"
    domains = [d for d in taxonomy.ids if d not in llm_domains]
    frame = _domain_windows(rounds[rounds["effective_domain"].isin(domains)], end)
    table = _domain_growth(frame, domains)
    tested = table.dropna(subset=["log_growth"])
    n_eff = {"domains": float(len(tested)), "companies": float(frame["org_name"].nunique())}
    if len(tested) < MIN_DOMAINS:
        return I.not_testable(2, CLAIMS[2], test, label,
                              f"Only {len(tested)} non-LLM domains have {MIN_DOMAIN_ROUNDS}+ rounds in both of the "
                              f"two years to {end.date()} (at least {MIN_DOMAINS} are needed).", n_eff,
                              definition=definition)
    values = tested["log_growth"].to_numpy()
    effect = float(np.median(values))
    p, mde = _sign_test(values)
    interval = _growth_interval(frame[frame["effective_domain"].isin(tested.index)], list(tested.index), seed)
    growing = int((tested["log_growth"] > 0).sum())
    all_last, all_prev = frame.loc[frame["window"] == "last", "raised_amount_usd"].sum(), \
        frame.loc[frame["window"] == "prev", "raised_amount_usd"].sum()
    details = {"domains_growing": growing, "domains_tested": int(len(tested)),
               "non_llm_dollar_growth": round(float(np.log(all_last / all_prev)), 4) if all_prev > 0 else None,
               "by_domain": {d: round(float(v), 4) for d, v in tested["log_growth"].items()},
               "left_out": sorted(set(domains) - set(tested.index)), "window_end": end.date().isoformat()}
    evidence = (f"{growing} of {len(tested)} non-LLM domains with {MIN_DOMAIN_ROUNDS}+ rounds in both years raised "
                f"more in the 12 months to {end.date()} than in the 12 before; the median domain grew "
                f"{_pct(np.expm1(effect))} (90% interval {_pct(np.expm1(interval[0]))} to "
                f"{_pct(np.expm1(interval[1]))}).")
    return I.ClaimTest(2, CLAIMS[2], test, label, effect, interval, n_eff, mde, p, evidence=evidence,
                       definition=definition, details=details,
                       limits="The ledger holds large rounds; a domain's year can turn on one round (hence the "
                              "median over domains and the test over domains).")


# --------------------------------------------------------------------------------------------
# Claim 3: smaller, specialised models (Epoch AI)
# --------------------------------------------------------------------------------------------


def load_models() -> pd.DataFrame | None:
    """The bundled Epoch AI model table (``data/models.csv``), or None where it is absent."""
    from analysis import config

    path = config.DATASET_FILES.get("models")
    if path is None or not path.is_file():
        return None
    from analysis.data.ledger import load_dataset

    return load_dataset("models")


def claim_models(models: pd.DataFrame | None, break_year: int = 2023, first_year: int = 2019) -> I.ClaimTest:
    """Claim 3 from a tidy Epoch AI table (``organization``, ``publication_date``, ``parameters``,
    ``domain``): the share of notable models below ``SMALL_MODEL_PARAMS`` from ``break_year`` on
    against ``first_year`` .. ``break_year - 1``; OLS of the small-model indicator on the era with
    standard errors clustered by organisation (``statsmodels``)."""
    test = ("share of notable models under 10B parameters, 2023 on vs 2019-2022; linear probability model "
            "clustered by organisation")
    label = "change in the share of small (<10B parameter) notable models (percentage points)"
    if models is None or models.empty:
        return I.not_testable(3, CLAIMS[3], test, label,
                              "No model data: bundle data/models.csv (Epoch AI) or import a download with "
                              "aibubble import epoch FILE.")
    m = models.dropna(subset=["parameters", "publication_date"])
    m = m[(m["publication_date"].dt.year >= first_year)]
    post = (m["publication_date"].dt.year >= break_year).astype(float)
    n_eff = {"models_before": float((post == 0).sum()), "models_after": float((post == 1).sum()),
             "organisations": float(m["organization"].nunique())}
    if (post == 0).sum() < MIN_MODELS or (post == 1).sum() < MIN_MODELS:
        return I.not_testable(3, CLAIMS[3], test, label,
                              f"Too few notable models with a parameter count: {int((post == 0).sum())} before and "
                              f"{int((post == 1).sum())} from {break_year} (at least {MIN_MODELS} each).", n_eff)
    from statsmodels.regression.linear_model import OLS

    small = (m["parameters"] < SMALL_MODEL_PARAMS).astype(float).to_numpy()
    X = np.column_stack([np.ones(len(m)), post.to_numpy()])
    groups = pd.factorize(m["organization"].fillna("unknown"))[0]
    fit = OLS(small, X).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True},
                            use_t=True)
    effect, se = float(fit.params[1]), float(fit.bse[1])
    from scipy import stats

    t_crit = stats.t.ppf(0.5 + I.INTERVAL_LEVEL / 2, df=len(np.unique(groups)) - 1)
    interval = (effect - t_crit * se, effect + t_crit * se)
    mde = float((stats.t.ppf(1 - I.ALPHA / 2, df=len(np.unique(groups)) - 1) + stats.norm.ppf(0.8)) * se)
    before, after = float(small[post.to_numpy() == 0].mean()), float(small[post.to_numpy() == 1].mean())
    last = m["publication_date"].max().date().isoformat()
    # Descriptive companions: models outside language (specialised by domain) and open weights.
    every = models[models["publication_date"].dt.year >= first_year]
    every_post = every["publication_date"].dt.year >= break_year
    non_language = ~every["domain"].fillna("").str.contains("Language", case=False)
    extra = {"share_non_language_before": round(float(non_language[~every_post].mean()), 4),
             "share_non_language_after": round(float(non_language[every_post].mean()), 4)}
    if "open_weights" in every:
        ow = every["open_weights"].map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0})
        extra.update({"share_open_weights_before": round(float(ow[~every_post].mean()), 4),
                      "share_open_weights_after": round(float(ow[every_post].mean()), 4)})
    evidence = (f"Of notable models with a parameter count, {before:.0%} were under 10B parameters in "
                f"{first_year}-{break_year - 1} and {after:.0%} from {break_year} (change {effect * 100:+.0f} points, "
                f"90% interval {interval[0] * 100:+.0f} to {interval[1] * 100:+.0f}; "
                f"{int(n_eff['organisations'])} organisations). Epoch AI data to {last}.")
    return I.ClaimTest(3, CLAIMS[3], test, label, effect, interval, n_eff, mde, float(fit.pvalues[1]),
                       evidence=evidence, details={"share_small_before": round(before, 4),
                                                   "share_small_after": round(after, 4), "data_end": last, **extra},
                       limits="Epoch's notable models are chosen for being notable (frontier and highly cited); "
                              "model releases, not money; the snapshot ends in early 2025.")


# --------------------------------------------------------------------------------------------
# Claim 5: capital raised per dollar of revenue
# --------------------------------------------------------------------------------------------


def _key(name: str) -> str:
    return str(name).split("(")[0].strip().lower()


def raised_per_revenue(rounds: pd.DataFrame, lab_financials: pd.DataFrame) -> pd.DataFrame:
    """Per company with a revenue figure: disclosed new money raised up to that figure's date over
    the latest revenue (annual revenue or run-rate). Columns ``org_name``, ``domain``,
    ``raised_usd``, ``revenue_usd``, ``revenue_date``, ``log_ratio``."""
    rev = lab_financials[lab_financials["metric"].isin(["annualized_run_rate", "annual_revenue"])].dropna(
        subset=["value_usd"])
    date_col = "published_on" if "published_on" in rev else "as_of_date"
    rev = rev.assign(key=rev["company"].map(_key), when=rev[date_col].fillna(rev["as_of_date"])
                     if date_col == "published_on" else rev["as_of_date"])
    latest = rev.sort_values("when").groupby("key").tail(1).set_index("key")
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()].assign(
        key=lambda r: r["org_name"].map(_key))
    rows = []
    for key, r in latest.iterrows():
        own = usable[(usable["key"] == key) & (usable["announced_on"] <= r["when"])]
        if own.empty or r["value_usd"] <= 0:
            continue
        raised = float(own["raised_amount_usd"].sum())
        rows.append({"org_name": own["org_name"].iloc[-1], "domain": own.sort_values("announced_on")["effective_domain"].iloc[-1],
                     "raised_usd": raised, "revenue_usd": float(r["value_usd"]), "revenue_date": r["when"],
                     "log_ratio": float(np.log(raised / r["value_usd"]))})
    return pd.DataFrame(rows, columns=["org_name", "domain", "raised_usd", "revenue_usd", "revenue_date", "log_ratio"])


def claim_efficiency(rounds: pd.DataFrame, lab_financials: pd.DataFrame, llm_domains: tuple[str, ...],
                     definition: str = "broad", seed: int = 5) -> I.ClaimTest:
    """Claim 5 (see the module docstring)."""
    table = raised_per_revenue(rounds, lab_financials)
    is_llm = table["domain"].isin(llm_domains)
    test = two_sample(5, table.loc[is_llm, "log_ratio"], table.loc[~is_llm, "log_ratio"],
                      test="capital raised per dollar of revenue: Hodges-Lehmann shift of company log ratios, "
                           "Mann-Whitney",
                      effect_label="LLM over non-LLM capital raised per dollar of revenue (ratio)",
                      min_units=MIN_EFFICIENCY_COMPANIES, definition=definition, seed=seed,
                      limits="Private revenue figures are press-reported run-rates.")
    if not test.testable:
        return test
    lo, hi = test.interval
    med_l, med_o = np.exp(table.loc[is_llm, "log_ratio"].median()), np.exp(table.loc[~is_llm, "log_ratio"].median())
    evidence = (f"LLM companies raised {_mult(np.exp(test.effect))} as much per dollar of revenue as non-LLM AI "
                f"companies (90% interval {_mult(np.exp(lo))} to {_mult(np.exp(hi))}; medians {med_l:.1f} and "
                f"{med_o:.1f} dollars raised per dollar of revenue).")
    return replace(test, evidence=evidence, details={"llm_median_raised_per_revenue": round(float(med_l), 2),
                                                     "non_llm_median_raised_per_revenue": round(float(med_o), 2)})


# --------------------------------------------------------------------------------------------
# All five, adjusted
# --------------------------------------------------------------------------------------------


def run(rounds: pd.DataFrame, lab_financials: pd.DataFrame, end: pd.Timestamp, contagion: I.ClaimTest,
        models: pd.DataFrame | None = None, references: dict | None = None,
        taxonomy: Taxonomy | None = None, sensitivity_contagion: dict | None = None) -> ThesisResult:
    """Every claim under the broad definition (Holm-adjusted) and under the narrow one (unadjusted).

    ``contagion`` is claim 4's test (:func:`analysis.contagion.claim_contagion`); the other
    definitions reuse it unless ``sensitivity_contagion`` maps a definition to its own.
    """
    from analysis.valuation import priced_pairs, revenue_multiples

    taxonomy = taxonomy or load_taxonomy()
    pairs = priced_pairs(rounds)
    multiples = revenue_multiples(rounds, lab_financials)

    def claims_for(definition: str) -> tuple[list[I.ClaimTest], I.ClaimTest]:
        llm = taxonomy.llm_domains(definition)
        primary1, secondary1 = claim_valuation(pairs, multiples, llm, definition, references)
        c4 = (sensitivity_contagion or {}).get(definition, contagion)
        return [primary1, claim_growth(rounds, end, llm, taxonomy, definition), claim_models(models),
                replace(c4, definition=definition), claim_efficiency(rounds, lab_financials, llm, definition)], secondary1

    primary, secondary = claims_for("broad")
    narrow, _ = claims_for("narrow")
    return ThesisResult(tuple(I.adjust(primary)), {"narrow": tuple(I.unadjusted(c) for c in narrow)},
                        {1: I.unadjusted(secondary)})
