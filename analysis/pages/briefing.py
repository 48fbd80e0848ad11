"""The bubble-risk briefing (``notebooks/briefings/bubble-risk.ipynb``): every section built from
the notebook's validated parameters, and the metrics that go to ``metrics.json``.

The answer comes first: the verdict (from the scorecard and the claim tests), the numbers a
portfolio manager looks for first and the scorecard; then the scores, the claims, the money, the
market signals, the stress test and the back-test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.baskets import MarketContext
from analysis.data.ledger import Ledger
from analysis.sections import Section
from analysis.spending import FundingByDomain, LLMShare

DEFINITIONS = ("narrow", "broad", "attributed")


@dataclass(frozen=True)
class Briefing:
    """Everything the briefing shows, computed once."""

    as_of: str
    definition: str
    data: Ledger
    market: MarketContext
    funding: FundingByDomain        # at the chosen period, for the funding chart
    shares: tuple[LLMShare, ...]    # yearly LLM share under each definition
    verdict: Section
    risk: Section
    thesis: Section
    spending: Section
    money: Section
    signals: Section
    stress: Section
    backtest: Section
    metrics: dict

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"as_of": self.as_of, "definition": self.definition, "rounds": len(self.data.rounds),
                              "market_data": self.market.available,
                              "verdict": self.metrics["verdict"]["label"]}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _market_side(data: Ledger, *, as_of: str, offline: bool, trust_basket: str, lab: pd.DataFrame, capex,
                 infra_llm_share: float):
    """The part of the briefing that runs next to the private-market sections: the market context
    and its basket signals (yielded first, for the risk score and the stress test), then the claims
    and the verdict that uses them."""
    from analysis import baskets
    from analysis.bubbles import signal as S
    from analysis.data.ledger import load_dataset
    from analysis.sections.signals import basket_signals
    from analysis.sections.thesis import thesis_section
    from analysis.sections.verdict import verdict_section
    from analysis.thesis import load_models

    market = baskets.market_context(as_of, offline=offline)
    signals = basket_signals(market, trust_basket=trust_basket) if market.available else None
    yield market, signals
    histories = signals.histories if signals is not None else {}
    drawdowns = {k: {"current": v["drawdown"]["current"], "as_of": v["as_of"]}
                 for k, v in (signals.metrics() if signals is not None else {}).items()
                 if v["drawdown"]["current"] is not None}
    thesis = thesis_section(data, as_of=as_of, lab_financials=lab, market=market, models=load_models())
    verdict = verdict_section(data, as_of=as_of, lab_financials=lab, market_totals=load_dataset("market_totals"),
                              capex=capex, references=load_dataset("reference_points"),
                              claims=thesis.metrics["thesis"], signals=histories, drawdowns=drawdowns,
                              signal_high=S.HIGH if histories else None,
                              prices_as_of=market.as_of_text if market.available else None,
                              infra_llm_share=infra_llm_share)
    yield thesis, verdict


def build(*, as_of: str, ledger: str, period: str, definition: str, infra_llm_share: float,
          capex_llm_share: float, start_year: int, risk_weights: dict, llm_valuation_haircut: float,
          llm_funding_drop: float, capex_cut: float, offline: bool) -> Briefing:
    """Build the briefing from the notebook's validated parameters (``analysis.params.validate``;
    their defaults live in the notebook's parameters cell only).

    The market side (prices, basket signals, then the claims and the verdict) runs in a second
    process when the machine allows it (:mod:`analysis.background`), next to the funding, spending,
    back-test, risk and stress sections; the split keeps both processes busy about equally long
    (measured in benchmarks/report_market_e2e.py). The result is the same wherever it runs. Call this before
    importing what the page displays, so the second process starts early.
    """
    from analysis import spending
    from analysis.background import in_background
    from analysis.data.ledger import load_dataset, load_ledger
    from analysis.data.taxonomy import load_taxonomy
    from analysis.errors import ParameterError

    data = load_ledger(ledger or None, as_of=as_of)
    lab = load_dataset("lab_financials")
    capex = spending.capex_flows(load_dataset("hyperscaler_financials"), capex_llm_share)
    llm_basket = load_taxonomy().segment_basket("llm_broad")
    with in_background(_market_side, data, as_of=as_of, offline=offline, trust_basket=llm_basket, lab=lab, capex=capex,
                       infra_llm_share=infra_llm_share) as market_side:
        # imported after the fork, while the second process works
        from analysis.sections.backtest import backtest_section
        from analysis.sections.funding import funding_metrics, money_section
        from analysis.sections.risk import risk_section
        from analysis.sections.signals import signals_section
        from analysis.sections.spending import spending_section
        from analysis.sections.stress import stress_section

        totals = load_dataset("market_totals")
        relationships = load_dataset("relationships")
        start = f"{start_year}-01-01"
        try:
            funding = spending.funding_by_domain(data.rounds, period, start=start, end=as_of)
            yearly = spending.funding_by_domain(data.rounds, "year", start=start, end=as_of)
        except ValueError:
            raise ParameterError(f"as_of {as_of}, start_year {start_year}: the ledger has no round with a disclosed "
                                 f"amount from {start_year} to {as_of}") from None
        shares = tuple(spending.llm_share(yearly, d, infra_llm_share=infra_llm_share) for d in DEFINITIONS)
        spend = spending_section(data, as_of=as_of, start_year=start_year, definition=definition,
                                 infra_llm_share=infra_llm_share, capex=capex, market_totals=totals)
        money = money_section(data, as_of=as_of, start_year=start_year)
        metrics = funding_metrics(data, yearly, list(shares))
        backtest = backtest_section()   # needs nothing from the second process: done while it works

        market, basket_signals = market_side.next()
        signals = signals_section(market, trust_basket=llm_basket, computed=basket_signals)
        histories = signals.model.histories if signals.model is not None else {}
        risk = risk_section(data, as_of=as_of, definition=definition, lab_financials=lab, capex=capex,
                            signals=histories, risk_weights=risk_weights, relationships=relationships)
        stress = stress_section(data, as_of=as_of, capex=capex, market=market,
                                llm_valuation_haircut=llm_valuation_haircut, llm_funding_drop=llm_funding_drop,
                                capex_cut=capex_cut)   # the second process is still on the claims and the verdict
        thesis, verdict = market_side.next()
    metrics.update(verdict.metrics)
    metrics.update(risk.metrics)
    metrics.update(thesis.metrics)
    metrics.update(stress.metrics)
    metrics["money"] = money.metrics
    metrics["spending"] = spend.metrics
    metrics["market_signals"] = signals.metrics
    metrics["backtest"] = backtest.metrics
    metrics["freshness"] = {"Funding ledger": f"{data.source}, last round {metrics['ledger']['last_round_date']}",
                            "Market data": market.banner}
    metrics["banners"] = [] if market.available and "stale" not in market.banner and not market.problems \
        else [market.banner]
    return Briefing(as_of, definition, data, market, funding, shares, verdict, risk, thesis, spend, money, signals,
                    stress, backtest, metrics)
