"""Assemble the briefing's headline metrics and the sentences generated from them.

Every number in generated text is formatted from the metrics dict that goes to ``metrics.json``,
so the text and the file cannot disagree.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.spending import FundingByDomain, LLMShare


def md_text(value: object) -> str:
    """Escape a data-derived string for a Markdown/HTML display (company names, investors)."""
    escaped = html.escape(str(value), quote=True)
    for ch in "\\`*_[]#|":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def funding_metrics(ledger: Ledger, yearly: FundingByDomain, shares: list[LLMShare]) -> dict:
    """Headline funding numbers per year: totals and the LLM share under each definition."""
    by_year = yearly.amounts().sum(axis=1)
    metrics = {
        "ledger": {
            "rounds": int(len(ledger.rounds)),
            "companies": int(ledger.rounds["org_name"].nunique()),
            "last_round_date": ledger.rounds["announced_on"].max().date().isoformat(),
            "source": ledger.source,
        },
        "funding_usd_by_year": {str(p): float(v) for p, v in by_year.items()},
        "llm_share_by_year": {
            s.definition: {str(p): (None if pd.isna(v) else round(float(v), 4)) for p, v in s.table["share"].items()}
            for s in shares
        },
    }
    return metrics


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def usd_bn(value: float | None) -> str:
    return "n/a" if value is None else f"${value / 1e9:,.1f} bn"


def funding_headline(metrics: dict, definition: str) -> str:
    """One paragraph on the latest full year, built only from ``metrics``."""
    years = sorted(metrics["funding_usd_by_year"])
    if not years:
        return "The ledger has no funding in the selected period."
    latest = years[-1]
    share = metrics["llm_share_by_year"][definition].get(latest)
    text = (f"In {latest} the ledger records {usd_bn(metrics['funding_usd_by_year'][latest])} of disclosed AI "
            f"funding; {pct(share)} of it went to LLMs ({definition} definition).")
    if len(years) > 1:
        prev = years[-2]
        prev_share = metrics["llm_share_by_year"][definition].get(prev)
        text += f" In {prev} the share was {pct(prev_share)} of {usd_bn(metrics['funding_usd_by_year'][prev])}."
    return text


def spending_metrics(model, coverages: dict, conc, capex, yearly_llm_share: dict) -> dict:
    """Headline numbers of the spending model (all plain floats, rounded for reading)."""
    latest_cov = {}
    for definition, cov in coverages.items():
        row = cov.latest()
        latest_cov[definition] = {"year": int(row["year"]), "share_mid": round(float(row["share_mid"]), 4),
                                  "share_low": round(float(row["share_low"]), 4),
                                  "share_high": round(float(row["share_high"]), 4),
                                  "ledger_share": round(float(row["ledger_share"]), 4)}
    any_cov = next(iter(coverages.values()))
    ratios = any_cov.ratios
    last_year = int(ratios["year"].max()) if len(ratios) else None
    fc = model.forecast
    conc_last = conc.table.iloc[-1]
    q = capex.quarterly.dropna(subset=["capex_usd"])
    cq = q.iloc[-1]
    return {
        "coverage": {
            "year": last_year,
            "by_publisher": {r.publisher: round(float(r.coverage), 4) for r in ratios[ratios["year"] == last_year].itertuples()},
        },
        "full_market_llm_share": latest_cov,
        "share_model": {
            "definition": model.definition,
            "break_pvalue": round(model.break_result.pvalue, 4),
            "break_F": round(model.break_result.stat, 3),
            "slope_logodds_per_year": round(float(model.trend["slope"]), 3),
            "forecast_period": str(fc.index[-1]),
            "forecast_mean": round(float(fc["mean"].iloc[-1]), 4),
            "forecast_lower": round(float(fc["lower"].iloc[-1]), 4),
            "forecast_upper": round(float(fc["upper"].iloc[-1]), 4),
            "backtest_mae_model": round(float(model.backtest_errors.get("model_mae", float("nan"))), 4),
            "backtest_mae_naive": round(float(model.backtest_errors.get("naive_mae", float("nan"))), 4),
        },
        "concentration": {
            "year": int(conc.table.index[-1]),
            "hhi_companies": round(float(conc_last["hhi_companies"]), 4),
            "top5_company_share": round(float(conc_last["top5_company_share"]), 4),
            "mega_round_share": round(float(conc_last["mega_round_share"]), 4),
            "supplier_led_share": round(float(conc_last["supplier_led_share"]), 4),
            "supplier_participation_share": round(float(conc_last["supplier_participation_share"]), 4),
        },
        "capex": {
            "quarter": str(q.index[-1]),
            "capex_t4q_usd": float(cq["capex_t4q_usd"]),
            "capex_yoy": round(float(cq["capex_yoy"]), 4),
            "capex_to_revenue_t4q": round(float(cq["capex_to_revenue_t4q"]), 4),
            "capex_to_ocf_t4q": round(float(cq["capex_to_ocf_t4q"]), 4),
            "llm_capex_t4q_usd": float(q["llm_capex_usd"].tail(4).sum()),
        },
        "llm_share_by_year": yearly_llm_share,
    }


def spending_headline(m: dict) -> str:
    """Plain-words summary of the spending model, built only from ``spending_metrics`` output."""
    sm = m["share_model"]
    fm = m["full_market_llm_share"].get(sm["definition"])
    parts = []
    if fm:
        parts.append(
            f"Scaling the ledger to published market totals, LLMs took an estimated {pct(fm['share_mid'])} of AI "
            f"venture funding in {fm['year']} ({sm['definition']} definition; range {pct(fm['share_low'])} to "
            f"{pct(fm['share_high'])} across publishers), against {pct(fm['ledger_share'])} of the ledger's large rounds.")
    verdict = "a break" if sm["break_pvalue"] < 0.05 else "no significant break"
    parts.append(f"The share shows {verdict} at ChatGPT's launch (Chow F = {sm['break_F']:.2f}, p = {sm['break_pvalue']:.3f}).")
    parts.append(
        f"The model's forecast for {sm['forecast_period']} is {pct(sm['forecast_mean'])} "
        f"(90% interval {pct(sm['forecast_lower'])} to {pct(sm['forecast_upper'])}); in the 2025+ hold-out its mean "
        f"absolute error was {sm['backtest_mae_model']:.2f} against {sm['backtest_mae_naive']:.2f} for the last value.")
    c = m["capex"]
    parts.append(
        f"Hyperscaler capex reached {usd_bn(c['capex_t4q_usd'])} over the four quarters to {c['quarter']} "
        f"({pct(c['capex_to_ocf_t4q'])} of operating cash flow).")
    return " ".join(parts)


@dataclass(frozen=True)
class Section:
    """A briefing section: metrics for metrics.json, generated text, figures and tables by name,
    and the fitted model other sections reuse (``None`` when the section has none)."""

    metrics: dict
    text: str
    figures: dict
    tables: dict = field(default_factory=dict)
    model: object = None


def spending_section(data: Ledger, p: dict, market_totals: pd.DataFrame, hyperscalers: pd.DataFrame) -> Section:
    """The spending model's part of the briefing. A ledger too thin for the model (an imported
    sample, a short window) gives a section that says so instead of failing the report."""
    from analysis import plots, spending

    start = f"{p['start_year']}-01-01"
    definition = p["definition"]
    infra = p.get("infra_llm_share", 0.5)
    try:
        quarterly = spending.funding_by_domain(data.rounds, "quarter", start=start, end=p["as_of"])
        yearly = spending.funding_by_domain(data.rounds, "year", start=start, end=p["as_of"])
        model = spending.share_model(quarterly, definition, infra)
    except ValueError as exc:
        return Section({}, f"The spending model is not shown: {md_text(exc)}.", {})
    coverages = {d: spending.coverage(data.rounds, market_totals, d, infra) for d in ("narrow", "broad", "attributed")}
    conc = spending.concentration(data.rounds, data.investors, definition)
    capex = spending.capex_flows(hyperscalers, p.get("capex_llm_share", 0.5))
    shares = [spending.llm_share(yearly, d, infra) for d in ("narrow", "broad", "attributed")]
    metrics = spending_metrics(model, coverages, conc, capex,
                               funding_metrics(data, yearly, shares)["llm_share_by_year"])
    figures = {
        "full_market": plots.full_market_share_chart([coverages[definition]]),
        "share_model": plots.share_model_chart(model),
        "capex": plots.capex_vs_funding_chart(capex, quarterly, spending.llm_share(quarterly, definition, infra)),
    }
    return Section(metrics, spending_headline(metrics), figures, model=model)


# --------------------------------------------------------------------------------------------
# Market, bubble, risk, thesis and stress sections
# --------------------------------------------------------------------------------------------

LLM_TICKER_SEGMENTS = ("hyperscaler", "ai_chips", "ai_infrastructure_supplier", "neocloud", "llm_applications")
#: Which listed baskets stand for which risk segment (ticker segments of data/tickers.csv).
PUBLIC_BASKETS = {
    "LLM-exposed": LLM_TICKER_SEGMENTS,
    "AI infrastructure suppliers": ("ai_chips", "ai_infrastructure_supplier", "neocloud"),
    "AI drug discovery": ("ai_drug_discovery",),
    "Audio and speech AI": ("audio_speech",),
    "Image and video AI": ("image_video",),
    "Robotics and automation": ("robotics_automation",),
    "Autonomous driving": ("autonomous_driving",),
    "Healthcare AI": ("healthcare_ai",),
    "Chemistry and materials AI": ("chemistry_materials",),
}
BASKET_SEGMENTS = {
    "LLM-exposed": ("LLM (narrow)", "LLM (broad)"),
    "AI infrastructure suppliers": ("ai_infrastructure",),
    "AI drug discovery": ("biology",),
    "Audio and speech AI": ("audio",),
    "Image and video AI": ("image", "video"),
    "Robotics and automation": ("robotics",),
    "Autonomous driving": ("autonomous_vehicles",),
    "Healthcare AI": ("healthcare_clinical",),
    "Chemistry and materials AI": ("chemistry_materials",),
}
MARKET_BENCHMARK = "SPY"


def market_baskets(universe) -> pd.DataFrame:
    """Equal-weighted basket levels (date x basket name) for every PUBLIC_BASKETS group with data."""
    from analysis.markets import basket_index

    levels = {}
    t = universe.tickers
    have = set(universe.prices["ticker"].unique())
    for name, segments in PUBLIC_BASKETS.items():
        members = [tk for tk in t.loc[t["segment"].isin(segments) & ~t["is_benchmark"].astype(bool), "ticker"]
                   if tk in have]
        if members:
            levels[name] = basket_index(universe.prices, members, name=name).level
    return pd.DataFrame(levels).sort_index()


def benchmark_series(universe, ticker: str = MARKET_BENCHMARK) -> pd.Series | None:
    p = universe.prices
    s = p.loc[p["ticker"] == ticker].set_index("date")["close"]
    return s.sort_index() if len(s) else None


def bubble_status(levels: pd.DataFrame, nobs: int = 1600, lppls_windows=None) -> pd.DataFrame:
    """Current PSY and LPPLS status per basket: BSADF, its 95% critical value, explosive or not,
    start of the ongoing episode, LPPLS confidence (positive bubble) at the last date."""
    from analysis.bubbles import lppls as lp
    from analysis.bubbles import psy

    rows = []
    for name in levels.columns:
        s = levels[name].dropna()
        n = min(nobs, len(s))
        n = max(t for t in psy.DEFAULT_TABLE_N if t <= n) if n >= min(psy.DEFAULT_TABLE_N) else 0
        if n == 0:
            continue
        y = np.log(s.iloc[-n:])
        res = psy.radf(y)
        cv = psy.critical_values(n)
        cv95 = cv.bsadf_cv[0.95].to_numpy()
        episodes = psy.datestamp(res, cv).table
        ongoing = episodes[episodes["ongoing"].astype(bool)] if len(episodes) else None
        conf = lp.confidence(s, windows=lppls_windows) if len(s) >= 130 else None
        rows.append({
            "basket": name, "as_of": s.index[-1].date().isoformat(), "nobs": n,
            "bsadf": round(float(res.bsadf.iloc[-1]), 3), "cv95": round(float(cv95[-1]), 3),
            "explosive": bool(res.bsadf.iloc[-1] > cv95[-1]), "gsadf": round(float(res.gsadf), 3),
            "gsadf_cv95": round(float(cv.gsadf[0.95]), 3),
            "episode_start": (ongoing["start"].iloc[-1].date().isoformat()
                              if ongoing is not None and len(ongoing) else None),
            "lppls_confidence": round(float(conf.table["pos_conf"].iloc[-1]), 3) if conf is not None else None,
        })
    return pd.DataFrame(rows)


def risk_history(data: Ledger, p: dict, lab: pd.DataFrame, capex, levels: pd.DataFrame | None,
                 market: pd.Series | None, start: str = "2020-01-01", weights: dict | None = None):
    """Raw indicators and scores for every segment as of each quarter end since ``start``."""
    from analysis import risk

    dates = risk.quarter_ends(start, p["as_of"])
    dates = dates[dates <= pd.Timestamp(p["as_of"])]
    # Ledger indicators are computed up to the last round and carried forward from there, so a
    # report dated after the data does not read the missing months as a funding collapse.
    ledger_end = min(data.last_round_date, pd.Timestamp(p["as_of"]))
    private_dates = dates[dates <= ledger_end].union(pd.DatetimeIndex([ledger_end]))
    private = risk.private_indicators(data.rounds, data.investors, private_dates, lab)
    dates = dates.union(pd.DatetimeIndex([ledger_end]))
    parts = [risk.carry_forward(private, ledger_end, dates),
             risk.spending_indicators(capex.quarterly, dates, ["LLM (narrow)", "LLM (broad)", "ai_infrastructure"])]
    if levels is not None and not levels.empty:
        public = risk.public_indicators(levels, market, dates)
        for basket, segments in BASKET_SEGMENTS.items():
            rows = public[public["segment"] == basket]
            parts += [rows.assign(segment=seg) for seg in segments]
    raw = pd.concat([x for x in parts if len(x)], ignore_index=True)
    return raw, risk.score_history(raw, weights)


def risk_metrics(scores, thesis_result, stress_result, status: pd.DataFrame | None) -> dict:
    latest = scores.latest()
    out = {
        "risk_scores": {r.segment: {"score": None if pd.isna(r.score) else round(float(r.score), 1),
                                    "change": None if pd.isna(r.change) else round(float(r.change), 1),
                                    "as_of": pd.Timestamp(r.date).date().isoformat(),
                                    "coverage": round(float(r.coverage), 2)}
                        for r in latest.itertuples()},
        "thesis": thesis_result.metrics(),
    }
    if stress_result is not None and len(stress_result.outcomes):
        out["stress"] = {f"{r.channel}:{r.target}": {"q05": round(float(r.q05), 4), "q50": round(float(r.q50), 4),
                                                      "q95": round(float(r.q95), 4)}
                         for r in stress_result.outcomes.itertuples()}
        out["stress_parameters"] = stress_result.parameters
    if status is not None and len(status):
        out["bubble_status"] = {r["basket"]: {k: v for k, v in r.items() if k != "basket"}
                                for r in status.to_dict("records")}
    return out


def risk_headline(metrics: dict, definition: str = "broad") -> str:
    """The opening paragraph, generated only from ``metrics`` (so text and metrics.json agree)."""
    scores = {k: v for k, v in metrics.get("risk_scores", {}).items() if v["score"] is not None}
    parts = []
    llm_key = f"LLM ({definition if definition != 'attributed' else 'broad'})"
    if llm_key in scores:
        s = scores[llm_key]
        change = "" if s["change"] is None else f" ({s['change']:+.1f} since the previous quarter end)"
        parts.append(f"The LLM segment's bubble-risk score is {s['score']:.1f} out of 100 as of {s['as_of']}{change}.")
    others = {k: v for k, v in scores.items() if not k.startswith("LLM")}
    if others:
        top = max(others, key=lambda k: others[k]["score"])
        median = float(np.median([v["score"] for v in others.values()]))
        parts.append(f"Across the other {len(others)} AI segments scored, the median is {median:.1f}; "
                     f"the highest is {md_text(top)} at {others[top]['score']:.1f}.")
    verdicts = metrics.get("thesis", {})
    if verdicts:
        counts = {}
        for v in verdicts.values():
            counts[v["verdict"]] = counts.get(v["verdict"], 0) + 1
        text = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        parts.append(f"Of the five claims of the 'LLM bubble, not AI bubble' thesis, the data finds: {text}.")
    status = metrics.get("bubble_status", {})
    if status:
        explosive = sorted(k for k, v in status.items() if v.get("explosive"))
        parts.append(f"{len(explosive)} of {len(status)} listed AI baskets are in an explosive (PSY) episode"
                     + (f": {', '.join(md_text(e) for e in explosive)}." if explosive else "."))
    return " ".join(parts) if parts else "Not enough data for a risk score."


@dataclass(frozen=True)
class MarketContext:
    """Market data for a briefing run: basket levels (empty without data), the benchmark and
    the freshness banner."""

    levels: pd.DataFrame
    benchmark: pd.Series | None
    banner: str
    as_of_text: str
    status_table: pd.DataFrame

    @property
    def available(self) -> bool:
        return not self.levels.empty


def market_context(as_of: str, offline: bool = True) -> MarketContext:
    """Load the cached universe (refreshing first unless offline) and build the segment baskets.
    Any market-data problem degrades to "no market data" with the reason in the banner."""
    from analysis.data.market import load_universe
    from analysis.errors import AIBubbleError

    try:
        universe = load_universe(as_of=as_of, fetch=not offline)
    except AIBubbleError as exc:
        return MarketContext(pd.DataFrame(), None, f"No market data: {exc}", "none", pd.DataFrame())
    status = universe.status
    if not universe.available:
        return MarketContext(pd.DataFrame(), None, status.banner, "none", status.summary())
    last = status.last_date
    return MarketContext(market_baskets(universe), benchmark_series(universe), status.banner,
                         last.date().isoformat() if last is not None else "none", status.summary())


def risk_section(data: Ledger, p: dict, lab: pd.DataFrame, capex, market: MarketContext, model=None) -> Section:
    """Scores, thesis and stress test, with their figures and metrics."""
    from analysis import plots, stress, thesis, valuation
    from analysis.data.taxonomy import load_taxonomy

    llm = load_taxonomy().llm_domains("broad")
    levels = market.levels if market.available else None
    raw, scores = risk_history(data, p, lab, capex, levels, market.benchmark, weights=p.get("risk_weights") or None)
    status = bubble_status(levels, lppls_windows=(500, 425, 350, 275, 200, 125)) if levels is not None else None
    pairs = valuation.priced_pairs(data.rounds)
    multiples = valuation.revenue_multiples(data.rounds, lab)
    f_channels = stress.funding_channels(data.rounds, llm)
    r_channels = stress.return_channels(levels, "LLM-exposed") if levels is not None and "LLM-exposed" in levels else []
    c_channels = stress.capex_channels(levels, capex.quarterly["capex_usd"], ["AI infrastructure suppliers"]) \
        if levels is not None else []
    explosive = dict(zip(status["basket"], status["explosive"])) if status is not None and len(status) else None
    claims = thesis.ThesisResult((
        thesis.claim_valuation(pairs, multiples, llm, explosive),
        thesis.claim_growth(data.rounds, min(data.last_round_date, pd.Timestamp(p["as_of"])), llm),
        thesis.claim_shift(model),
        thesis.claim_contagion(data.rounds, llm, f_channels, r_channels),
        thesis.claim_efficiency(data.rounds, lab, llm),
    ))
    result = stress.stress_test(f_channels + r_channels + c_channels, p.get("llm_valuation_haircut", 0.5),
                                p.get("llm_funding_drop", 0.5), p.get("capex_cut", 0.3))
    metrics = risk_metrics(scores, claims, result, status)
    figures = {"scores": plots.risk_scores_chart(scores),
               "history": plots.score_history_chart(scores, ["LLM (broad)", "LLM (narrow)", "ai_infrastructure",
                                                             "biology", "robotics", "autonomous_vehicles"]),
               "stress": plots.stress_chart(result) if len(result.outcomes) else None}
    if levels is not None:
        figures["baskets"] = plots.basket_levels_chart(levels)
    tables = {"claims": claims.summary(), "status": status, "stress": result.outcomes,
              "channels": result.channels, "latest": scores.latest()}
    return Section(metrics, risk_headline(metrics, p.get("definition", "broad")), figures, tables)


def backtest_section(index_ticker: str = "^IXIC", market_ticker: str = "^GSPC", start: str = "1995-01-01",
                     end: str = "2002-12-31") -> Section:
    """The market part of the score through a historical episode, from imported index prices
    (e.g. ``aibubble import-prices IXIC.csv --ticker ^IXIC``). Missing data gives a notice."""
    from analysis import plots, risk
    from analysis.data.market import MarketCache

    cache = MarketCache()
    entries = {t: cache.read(t, "prices") for t in (index_ticker, market_ticker)}
    if not entries[index_ticker].ok:
        return Section({}, f"The back-test needs {md_text(index_ticker)} prices in the market cache "
                           f"(import them with `aibubble import-prices FILE --ticker {md_text(index_ticker)}`).", {})
    frame = entries[index_ticker].frame
    s = frame.set_index("date")["close"].sort_index()
    m = entries[market_ticker].frame.set_index("date")["close"].sort_index() if entries[market_ticker].ok else None
    s = s[(s.index >= pd.Timestamp(start) - pd.DateOffset(years=3)) & (s.index <= pd.Timestamp(end))]
    dates = pd.date_range(start, end, freq="QE")
    raw = risk.public_indicators(pd.DataFrame({index_ticker: s}), m, dates, lppls_last=None)
    # The market part alone: its indicators renormalised among themselves (no coverage floor).
    scores = risk.score_history(raw, min_coverage=0.0).scores.dropna(subset=["score"])
    if scores.empty:
        return Section({}, "Not enough index history for the back-test.", {})
    peak_date = s.idxmax()
    top = scores.loc[scores["score"].idxmax()]
    high = scores[scores["score"] >= 50]
    # A "false alarm": a quarter scoring 50+ not followed by a 30% fall within two years.
    false_alarms = []
    for r in high.itertuples():
        future = s[(s.index > r.date) & (s.index <= r.date + pd.DateOffset(years=2))]
        level = s[s.index <= r.date].iloc[-1]
        if len(future) and future.min() > 0.7 * level:
            false_alarms.append(r.date.date().isoformat())
    metrics = {"index": index_ticker, "peak_date": peak_date.date().isoformat(),
               "max_score": round(float(top["score"]), 1), "max_score_date": top["date"].date().isoformat(),
               "quarters_scoring_50_plus": int(len(high)), "false_alarms": false_alarms}
    text = (f"On {md_text(index_ticker)} the market part of the score peaked at {metrics['max_score']:.1f} on "
            f"{metrics['max_score_date']}; the index peaked on {metrics['peak_date']}. "
            f"{len(high)} quarter ends scored 50 or more; {len(false_alarms)} of them were not followed by a 30% fall "
            f"within two years (false alarms{': ' + ', '.join(false_alarms) if false_alarms else ''}).")
    return Section(metrics, text, {"chart": plots.backtest_chart(s[s.index >= pd.Timestamp(start)], scores)})


def largest_recent_rounds(data: Ledger, as_of: str, n: int = 10, months: int = 12) -> pd.DataFrame:
    """The largest disclosed rounds of the last ``months`` before ``as_of`` (names shown as given;
    the notebook displays them through an escaping formatter)."""
    end = min(pd.Timestamp(as_of), data.last_round_date)
    r = data.rounds[(data.rounds["announced_on"] > end - pd.DateOffset(months=months))
                    & (data.rounds["announced_on"] <= end)].dropna(subset=["raised_amount_usd"])
    top = r.nlargest(n, "raised_amount_usd")
    return pd.DataFrame({
        "date": top["announced_on"].dt.date.astype(str), "company": top["org_name"],
        "domain": top["effective_domain"], "round": top["investment_type"],
        "amount (USD bn)": (top["raised_amount_usd"] / 1e9).round(2),
        "post-money (USD bn)": (top["post_money_valuation_usd"] / 1e9).round(1),
        "lead investors": top["lead_investors"].fillna(""), "source": top["source_publisher"],
    }).reset_index(drop=True)


def runup_table(levels: pd.DataFrame, market: pd.Series | None, closes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Latest Greenwood-Shleifer-You run-up status per basket (and per ticker in ``closes``)."""
    from analysis.bubbles.runup import runup

    if market is None:
        return pd.DataFrame()
    frames = [levels] + ([closes] if closes is not None else [])
    rows = []
    for frame in frames:
        for col in frame.columns:
            s = frame[col].dropna()
            if len(s) < 300:
                continue
            last = runup(s, market).latest
            rows.append({"series": col, "as_of": s.index[-1].date().isoformat(),
                         "two_year_return": float(last["raw_return"]), "net_of_market": float(last["net_return"]),
                         "run_up_flag": bool(last["flag"])})
    return pd.DataFrame(rows)


def log_levels(s: pd.Series) -> pd.Series:
    """Natural log of a positive price or index series (PSY and LPPLS work on log prices)."""
    return np.log(s.where(s > 0)).dropna()


def score_changes(metrics: dict, as_of: str):
    """Risk scores and headline shares now against the previous run of this job (history.csv)."""
    from analysis.reporting.history import change_since_last_run

    changes = change_since_last_run(metrics, as_of, changed_only=False)
    table = changes.table
    if table is not None and len(table):
        keep = table["metric"].str.match(r"^(risk_scores\.[^.]+\.score|spending\.full_market_llm_share\.\w+\.share_mid)$")
        table = table[keep].reset_index(drop=True)
    return changes.__class__(changes.job, changes.as_of, changes.previous_as_of, table)
