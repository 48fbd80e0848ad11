"""The scorecard: LLM against non-LLM AI (and each domain) on absolute yardsticks, each value with
its interval and a band (normal / elevated / extreme) whose cut-offs are sourced reference points.

Yardsticks
----------
* ``valuation_to_revenue`` - median across companies of post-money over revenue public by the
  round (priced rounds of the last two years of data); interval from resampling companies.
  Elevated from the median SaaS multiple at the 2021 peak (14.7x), extreme from the high-growth
  SaaS multiple at that peak (35x, close to Cisco's 31x EV/sales at the dot-com peak).
* ``funding_growth`` - growth of the full market's venture money from the last full year to the
  next (the ledger scaled to each publisher's published total, the LLM share estimated under each
  tail-allocation rule: ``analysis.share_model``), so a better-covered year does not read as
  growth; interval over publishers x rules. Domains: the ledger's trailing twelve months against
  the twelve before. Elevated from 41.4% a year (Greenwood, Shleifer and You's 100% two-year
  run-up, compounded annually), extreme from 58.1% (their 150% run-up, after which 80% of
  industries crashed).
* ``llm_share`` - the LLM share of AI venture money, full market; elevated from 32.9% (information
  technology's share of the S&P 500 at the March 2000 top: one theme's weight in a market).
* ``ai_share_of_venture`` - AI's share of all venture money (published); no sourced cut-off.
* ``mega_round_share`` and ``supplier_share`` (parents excluded) - trailing twelve months of the
  ledger; no sourced cut-off.
* ``market_signal`` - the listed basket's market bubble signal (0-100); elevated from the "high"
  threshold calibrated on past bubbles (:mod:`analysis.bubbles.signal`).
* ``drawdown`` - the listed basket's distance below its peak; shown beside the dot-com and 2022
  drawdowns, not banded (a fall is the end of a bubble, not a measure of one).
* ``capex_to_revenue`` - hyperscalers, trailing four quarters; elevated above telecom carriers'
  long-run 13-15%, extreme from their 50% at the 2000-01 peak.
* ``capex_to_ocf`` - hyperscalers' capex over operating cash flow; no sourced cut-off (at 100%
  capex uses all operating cash flow).

Rows whose yardstick is marked ``in_verdict`` feed :mod:`analysis.verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.taxonomy import Taxonomy, load_taxonomy

BANDS = ("normal", "elevated", "extreme")
N_BOOT = 999
LEVEL = 0.90
MIN_COMPANIES = 3


@dataclass(frozen=True)
class Yardstick:
    id: str
    label: str
    unit: str                        # "multiple", "fraction", "score"
    elevated: tuple | None = None    # (reference id, how the cut-off derives from its value)
    extreme: tuple | None = None
    in_verdict: bool = False
    description: str = ""
    needs_prices: bool = False       # read from listed prices: absent until the market cache is filled


def _two_year_to_annual(r: float) -> float:
    return float(np.sqrt(1.0 + r) - 1.0)


#: The yardsticks and where their cut-offs come from. A cut-off is (reference id, transform of
#: the reference row's value, text); a transform may also carry a stated constant where the row
#: states the number in its metric (GSY's 150% run-up class).
YARDSTICKS = (
    Yardstick("valuation_to_revenue", "Valuation / revenue", "multiple",
              ("peak2021_saas_median_ev_ntm_revenue_nov", lambda v: v, "median SaaS multiple at the 2021 peak"),
              ("peak2021_saas_high_growth_ev_ntm_revenue", lambda v: v, "high-growth SaaS multiple at the 2021 peak"),
              in_verdict=True),
    Yardstick("funding_growth", "Funding growth (a year)", "fraction",
              ("gsy_runup_threshold_raw_2y", _two_year_to_annual, "GSY's 100% two-year run-up, a year"),
              ("gsy_crash_probability_net_150", lambda v: _two_year_to_annual(1.5), "GSY's 150% two-year run-up, a year"),
              in_verdict=True),
    Yardstick("market_signal", "Listed bubble signal (0-100)", "score",
              ("signal_high", lambda v: v, "the signal's 'high' threshold, calibrated on past bubbles"), None,
              in_verdict=True, needs_prices=True),
    Yardstick("capex_to_revenue", "Hyperscaler capex / revenue", "fraction",
              ("telecom_carrier_capex_to_revenue_normal", "high", "telecom carriers' long-run capex/revenue (top)"),
              ("telecom_carrier_capex_to_sales_peak", lambda v: v, "telecom carriers' capex/sales at the 2000-01 peak"),
              in_verdict=True),
    Yardstick("llm_share", "LLM share of AI venture money", "fraction",
              ("dotcom_peak_sp500_it_market_cap_share", lambda v: v, "IT's share of the S&P 500 at the March 2000 top"),
              None),
    Yardstick("ai_share_of_venture", "AI share of all venture money", "fraction"),
    Yardstick("mega_round_share", "Share in $1bn+ rounds", "fraction"),
    Yardstick("supplier_share", "Share from cloud/chip suppliers (parents excluded)", "fraction"),
    Yardstick("drawdown", "Listed basket below its peak", "fraction", needs_prices=True),
    Yardstick("capex_to_ocf", "Hyperscaler capex / operating cash flow", "fraction"),
)
BY_ID = {y.id: y for y in YARDSTICKS}


def cutoffs(references: pd.DataFrame, signal_high: float | None = None) -> dict:
    """Each yardstick's (elevated, extreme) cut-off values with their reference ids and texts,
    read from the sourced reference points (None where the row is absent)."""
    ref = references.set_index("id") if len(references) else pd.DataFrame()
    out = {}
    for y in YARDSTICKS:
        pair = []
        for spec in (y.elevated, y.extreme):
            if spec is None:
                pair.append(None)
                continue
            rid, how, text = spec
            if rid == "signal_high":
                pair.append(None if signal_high is None else (float(signal_high), rid, text))
                continue
            if rid not in ref.index:
                pair.append(None)
                continue
            row = ref.loc[rid]
            value = float(row["high"]) if how == "high" else how(float(row["value"]) if pd.notna(row["value"]) else np.nan)
            pair.append(None if not np.isfinite(value) else (value, rid, text))
        out[y.id] = tuple(pair)
    return out


def band(value: float | None, cut: tuple) -> str | None:
    """normal / elevated / extreme, or None without a value or any cut-off."""
    if value is None or not np.isfinite(value) or (cut[0] is None and cut[1] is None):
        return None
    if cut[1] is not None and value >= cut[1][0]:
        return "extreme"
    if cut[0] is not None and value >= cut[0][0]:
        return "elevated"
    return "normal"


def firm(interval: tuple | None, value_band: str | None, cut: tuple) -> bool:
    """Whether the whole interval lies in the value's band or beyond it (for normal: below the
    elevated cut-off)."""
    if interval is None or value_band is None or any(v is None or not np.isfinite(v) for v in interval):
        return False
    lo, hi = interval
    if value_band == "extreme":
        return lo >= cut[1][0]
    if value_band == "elevated":
        return lo >= cut[0][0]
    first = cut[0] or cut[1]
    return hi < first[0]


# --------------------------------------------------------------------------------------------
# Values and intervals
# --------------------------------------------------------------------------------------------


def _percentile(draws, level=LEVEL) -> tuple[float, float] | None:
    draws = np.asarray([d for d in draws if np.isfinite(d)])
    if len(draws) < 10:
        return None
    tail = (1 - level) / 2
    lo, hi = np.quantile(draws, [tail, 1 - tail])
    return float(lo), float(hi)


def valuation_to_revenue(multiples: pd.DataFrame, domains, end: pd.Timestamp, seed: int = 0) -> dict:
    """Median across companies of their median log multiple (priced rounds of the last two years)."""
    m = multiples[multiples["domain"].isin(domains) & (multiples["announced_on"] > end - pd.DateOffset(years=2))
                  & (multiples["announced_on"] <= end)]
    per = np.log(m["multiple"].astype(float)).groupby(m["org_name"]).median().to_numpy()
    if len(per) < MIN_COMPANIES:
        return {"value": None, "interval": None, "n": int(len(per)),
                "note": f"{len(per)} companies with a revenue figure public by their round (need {MIN_COMPANIES})"}
    rng = np.random.default_rng(seed)
    draws = np.exp(np.median(per[rng.integers(0, len(per), (N_BOOT, len(per)))], axis=1))
    return {"value": float(np.exp(np.median(per))), "interval": _percentile(draws), "n": int(len(per)),
            "note": f"{len(per)} companies"}


def _company_sums(rounds: pd.DataFrame, domains, end: pd.Timestamp):
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna() & rounds["effective_domain"].isin(domains)]
    last = (usable["announced_on"] > end - pd.DateOffset(years=1)) & (usable["announced_on"] <= end)
    prev = (usable["announced_on"] > end - pd.DateOffset(years=2)) & (usable["announced_on"] <= end - pd.DateOffset(years=1))
    amount = usable["raised_amount_usd"].astype(float)
    frame = pd.DataFrame({"org": usable["org_name"], "last": amount.where(last, 0.0), "prev": amount.where(prev, 0.0),
                          "mega": amount.where(last & (amount >= 1e9), 0.0)})
    return frame, usable, last


def ledger_funding_growth(rounds: pd.DataFrame, domains, end: pd.Timestamp, seed: int = 0) -> dict:
    """Trailing twelve months of ledger new money against the twelve before; companies resampled."""
    frame, _, _ = _company_sums(rounds, domains, end)
    per = frame.groupby("org")[["last", "prev"]].sum()
    per = per[(per["last"] > 0) | (per["prev"] > 0)]
    if per["prev"].sum() <= 0 or len(per) < MIN_COMPANIES:
        return {"value": None, "interval": None, "n": int(len(per)), "note": "too few rounds in the year before"}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per), (N_BOOT, len(per)))
    last, prev = per["last"].to_numpy()[idx].sum(1), per["prev"].to_numpy()[idx].sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = last / prev - 1
    return {"value": float(per["last"].sum() / per["prev"].sum() - 1), "interval": _percentile(draws),
            "n": int(len(per)), "note": f"ledger, {len(per)} companies, 12 months to {end.date()} vs the 12 before"}


def share_of_last_year(rounds: pd.DataFrame, domains, end: pd.Timestamp, column: str, flags=None,
                       seed: int = 0) -> dict:
    """Share of the trailing twelve months' new money in $1bn+ rounds (``column="mega"``) or
    flagged rounds (``flags``: boolean per round, e.g. supplier-financed); companies resampled."""
    frame, usable, last = _company_sums(rounds, domains, end)
    if flags is not None:
        frame["flag"] = usable["raised_amount_usd"].astype(float).where(last & flags.reindex(usable.index).fillna(False), 0.0)
        column = "flag"
    per = frame.groupby("org")[["last", column]].sum()
    per = per[per["last"] > 0]
    if len(per) < MIN_COMPANIES:
        return {"value": None, "interval": None, "n": int(len(per)), "note": "too few rounds"}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per), (N_BOOT, len(per)))
    draws = per[column].to_numpy()[idx].sum(1) / per["last"].to_numpy()[idx].sum(1)
    return {"value": float(per[column].sum() / per["last"].sum()), "interval": _percentile(draws),
            "n": int(len(per)), "note": f"{len(per)} companies, 12 months to {end.date()}"}


def market_funding_growth(grid: pd.DataFrame, year: int) -> dict:
    """Full-market LLM and non-LLM venture money growth from ``year - 1`` to ``year``: each
    publisher's total split by the estimated LLM share under each tail-allocation rule; the value
    is the median over publishers of the default rule, the interval every publisher x rule."""
    from analysis.share_model import DEFAULT_ALLOCATION

    out = {}
    g = grid[grid["year"].isin([year - 1, year])]
    both = g.groupby(["publisher", "allocation"])["year"].nunique()
    keys = both[both == 2].index
    for side, frac in (("llm", lambda s: s), ("non_llm", lambda s: 1 - s)):
        values = {}
        for pub, alloc in keys:
            rows = g[(g["publisher"] == pub) & (g["allocation"] == alloc)].set_index("year")
            now = frac(rows.at[year, "share"]) * rows.at[year, "published_usd"]
            before = frac(rows.at[year - 1, "share"]) * rows.at[year - 1, "published_usd"]
            if before > 0:
                values[(pub, alloc)] = now / before - 1
        default = [v for (p, a), v in values.items() if a == DEFAULT_ALLOCATION]
        if not default:
            out[side] = {"value": None, "interval": None, "n": 0, "note": f"no publisher totals for {year - 1} and {year}"}
            continue
        allv = list(values.values())
        out[side] = {"value": float(np.median(default)), "interval": (float(min(allv)), float(max(allv))),
                     "n": len({p for p, _ in values}),
                     "note": f"full market {year} vs {year - 1}, {len({p for p, _ in values})} publishers x "
                             f"{len({a for _, a in values})} tail rules"}
    return out


# --------------------------------------------------------------------------------------------
# The scorecard
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scorecard:
    """One row per (yardstick, group): value, interval, band, whether the interval is firm in its
    band, cut-offs and their sources. Groups: ``llm_broad``, ``llm_narrow``, ``non_llm``,
    ``hyperscalers``, ``all_ai``, domain ids and basket ids."""

    table: pd.DataFrame
    cutoffs: dict = field(default_factory=dict)
    as_of: dict = field(default_factory=dict)   # newest input per source

    def summary(self) -> pd.DataFrame:
        return self.table

    def row(self, yardstick: str, group: str) -> dict | None:
        t = self.table[(self.table["yardstick"] == yardstick) & (self.table["group"] == group)]
        return None if t.empty else t.iloc[0].to_dict()

    def metrics(self) -> dict:
        """Plain values for metrics.json: yardstick -> group -> value, interval, band, firm, n, source."""
        def num(v, d=4):
            return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), d)

        out: dict = {}
        for r in self.table.to_dict("records"):
            interval = r["interval"] if isinstance(r["interval"], (tuple, list)) else None
            out.setdefault(r["yardstick"], {})[r["group"]] = {
                "value": num(r["value"]), "interval": None if interval is None else [num(v) for v in interval],
                "band": r["band"] if isinstance(r["band"], str) else None, "firm": bool(r["firm"]),
                "n": None if r["n"] is None or pd.isna(r["n"]) else int(r["n"]), "note": r["note"],
                "source": r["source"]}
        cuts = {}
        for y, (el, ex) in self.cutoffs.items():
            cuts[y] = {"elevated": None if el is None else {"value": num(el[0]), "reference": el[1], "text": el[2]},
                       "extreme": None if ex is None else {"value": num(ex[0]), "reference": ex[1], "text": ex[2]}}
        return {"rows": out, "cutoffs": cuts, "as_of": self.as_of}

    def _repr_html_(self) -> str:
        return self.table.drop(columns=["interval"]).to_html(index=False)


def _row(y: str, group: str, result: dict, cut: tuple, source: str) -> dict:
    value, interval = result.get("value"), result.get("interval")
    b = band(value, cut)
    return {"yardstick": y, "group": group, "value": value, "interval": interval, "band": b,
            "firm": firm(interval, b, cut), "n": result.get("n"), "note": result.get("note", ""), "source": source}


def build(rounds: pd.DataFrame, lab_financials: pd.DataFrame, market_totals: pd.DataFrame, capex,
          references: pd.DataFrame, end: pd.Timestamp, *, investors: pd.DataFrame | None = None,
          relationships: pd.DataFrame | None = None, signals: dict | None = None,
          drawdowns: dict | None = None, signal_high: float | None = None, infra_llm_share: float = 0.5,
          taxonomy: Taxonomy | None = None) -> Scorecard:
    """Compute every yardstick for the LLM side (each definition), non-LLM AI and each domain.

    ``end`` is the last date of ledger data used; ``signals`` maps basket ids to their
    :class:`~analysis.bubbles.signal.SignalHistory` and ``drawdowns`` to the current drawdown
    (both empty without market data); ``signal_high`` is the signal's calibrated threshold.
    """
    from analysis import share_model
    from analysis.valuation import revenue_multiples

    taxonomy = taxonomy or load_taxonomy()
    cuts = cutoffs(references, signal_high)
    groups = {"llm_broad": taxonomy.llm_domains("broad"), "llm_narrow": taxonomy.llm_domains("narrow"),
              "non_llm": taxonomy.non_llm_domains("broad")}
    domain_groups = {d: (d,) for d in taxonomy.ids}
    multiples = revenue_multiples(rounds, lab_financials)
    supplier_in = None
    if investors is not None:
        from analysis.deals import supplier_flags

        usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
        supplier_in = supplier_flags(usable, investors, relationships)["supplier_in"]
    rows = []
    for group, doms in {**groups, **domain_groups}.items():
        rows.append(_row("valuation_to_revenue", group, valuation_to_revenue(multiples, doms, end),
                         cuts["valuation_to_revenue"], "ledger post-money / data/lab_financials.csv revenue"))
        rows.append(_row("mega_round_share", group, share_of_last_year(rounds, doms, end, "mega"),
                         cuts["mega_round_share"], "ledger"))
        if supplier_in is not None:
            rows.append(_row("supplier_share", group, share_of_last_year(rounds, doms, end, "", flags=supplier_in),
                             cuts["supplier_share"], "ledger, investors.csv, relationships.csv"))
    # Funding growth: the full market for the two sides, the ledger for domains.
    fm = share_model.full_market_share(rounds, market_totals, "broad", infra_llm_share, taxonomy)
    full_years = sorted(int(y) for y in fm.table["year"]) if len(fm.table) else []
    last_full = max([y for y in full_years if y < end.year or (y == end.year and end.month == 12)], default=None)
    growth = market_funding_growth(fm.grid, last_full) if last_full else {}
    for group, side in (("llm_broad", "llm"), ("non_llm", "non_llm")):
        res = growth.get(side) or {"value": None, "interval": None, "n": 0, "note": "no full year with published totals"}
        rows.append(_row("funding_growth", group, res, cuts["funding_growth"], "ledger scaled to data/market_totals.csv"))
    for d in taxonomy.ids:
        rows.append(_row("funding_growth", d, ledger_funding_growth(rounds, (d,), end), cuts["funding_growth"], "ledger"))
    if last_full:
        r = fm.table[fm.table["year"] == last_full].iloc[0]
        rows.append(_row("llm_share", "llm_broad", {"value": r["share_mid"], "interval": (r["share_low"], r["share_high"]),
                                                    "n": int(r["publishers"]),
                                                    "note": f"full market {last_full}, publishers x tail rules"},
                         cuts["llm_share"], "ledger scaled to data/market_totals.csv"))
    rows.append(_row("ai_share_of_venture", "all_ai", ai_share_of_venture(market_totals), cuts["ai_share_of_venture"],
                     "data/market_totals.csv"))
    q = capex.quarterly.dropna(subset=["capex_to_revenue_t4q", "capex_to_ocf_t4q"])
    if len(q):
        last = q.iloc[-1]
        for y, col in (("capex_to_revenue", "capex_to_revenue_t4q"), ("capex_to_ocf", "capex_to_ocf_t4q")):
            res = {"value": float(last[col]), "interval": None, "n": 5, "note": f"four quarters to {q.index[-1]}"}
            for group in ("llm_broad", "llm_narrow", "hyperscalers"):
                rows.append(_row(y, group, res, cuts[y], "company filings (data/hyperscaler_financials.csv)"))
    basket_of = {g: taxonomy.segment_basket(g) for g in ("llm_broad", "llm_narrow")}
    basket_of.update({d: taxonomy[d].basket for d in taxonomy.ids})
    for group, basket in basket_of.items():
        if not basket or not signals or basket not in signals:
            continue
        latest = signals[basket].latest()
        rows.append(_row("market_signal", group, {"value": float(latest["score"]), "interval": None, "n": 1,
                                                  "note": f"{taxonomy.label(basket)}, {latest.name.date()}"},
                         cuts["market_signal"], "market data cache; analysis.bubbles.signal"))
        if drawdowns and basket in drawdowns:
            rows.append(_row("drawdown", group, {"value": drawdowns[basket], "interval": None, "n": 1,
                                                 "note": taxonomy.label(basket)}, cuts["drawdown"], "market data cache"))
    if signals:
        non = [signals[b] for b in {taxonomy[d].basket for d in taxonomy.non_llm_domains("broad")} - {None}
               - {taxonomy.segment_basket("llm_broad")} if b in signals]
        if non:
            scores = [float(s.latest()["score"]) for s in non if np.isfinite(s.latest()["score"])]
            if scores:
                rows.append(_row("market_signal", "non_llm", {"value": float(np.median(scores)),
                                                              "interval": (min(scores), max(scores)), "n": len(scores),
                                                              "note": f"median of {len(scores)} non-LLM baskets"},
                                 cuts["market_signal"], "market data cache; analysis.bubbles.signal"))
    as_of = {"ledger": end.date().isoformat(), "full_year": last_full,
             "capex": str(q.index[-1]) if len(q) else None}
    return Scorecard(pd.DataFrame(rows), cuts, as_of)


def ai_share_of_venture(market_totals: pd.DataFrame) -> dict:
    """AI's share of all venture money in the latest period any primary publisher reports for the
    whole world: the median across publishers, their range as the interval."""
    t = market_totals[(market_totals["metric"] == "ai_share_of_all_vc") & (market_totals["scope"] == "global")]
    if t.empty:
        return {"value": None, "interval": None, "n": 0, "note": "no published share"}
    latest_end = t["period_end"].max()
    cur = t[t["period_end"] == latest_end]
    vals = cur["value"].astype(float)
    period = cur["period"].iloc[0]
    return {"value": float(vals.median()), "interval": (float(vals.min()), float(vals.max())) if len(vals) > 1 else None,
            "n": int(len(vals)), "note": f"{period}, {', '.join(sorted(cur['publisher'].unique()))}"}
