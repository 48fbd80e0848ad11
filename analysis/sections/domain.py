"""One AI domain in depth: its funding, its valuations and (when market data is cached) its
listed exposure. The computation behind the domain deep-dive page, run once per domain by the
batch config ``reports.yaml``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import valuation
from analysis.data.ledger import Ledger
from analysis.data.taxonomy import load_taxonomy
from analysis.landscape import Landscape, landscape


@dataclass(frozen=True)
class ListedExposure:
    """Listed companies of one domain and an equal-weight basket of them from the AI era
    (``basket`` None and a ``notice`` in words when there is no market data or no listed member),
    with the basket's market bubble signal over time (``signal``, None when the basket is too
    short) and the survivorship caveat every basket carries (``note``)."""

    domain: str
    members: pd.DataFrame          # ticker, name, segment, priced
    basket: object | None          # analysis.baskets.BasketIndex
    drawdown: pd.DataFrame         # analysis.baskets.drawdown(...).table, or empty
    notice: str
    signal: object = None          # analysis.bubbles.signal.SignalHistory
    note: str = ""

    @property
    def available(self) -> bool:
        return self.basket is not None

    def summary(self) -> pd.DataFrame:
        return self.basket.summary() if self.basket is not None else pd.DataFrame([{"notice": self.notice}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def listed_exposure(universe, domain: str, companies: pd.DataFrame, cache=True) -> ListedExposure:
    """Equal-weight basket of the domain's listed companies, from cached prices only.

    Members are the ledger companies of the domain that have a ticker, plus the members of the
    basket the taxonomy names for the domain (``basket`` in ``data/taxonomy.yaml``). The basket
    starts in the AI era (:data:`analysis.baskets.AI_ERA_START`), each ticker from its own listing
    (``start_date``), and gets the monthly market bubble signal (:func:`analysis.bubbles.signal.history`,
    run-up against SPY; ``cache`` as in :func:`analysis.sections.signals.basket_signals`).
    """
    from analysis import baskets
    from analysis.bubbles import signal as bubble_signal
    from analysis.bubbles.fitcache import FitCache
    from analysis.errors import AIBubbleError

    basket_id = load_taxonomy()[domain].basket
    rows = [{"ticker": str(t).upper(), "name": n, "segment": "ledger company"}
            for t, n in companies.loc[(companies["domain"] == domain) & companies["ticker"].notna(),
                                      ["ticker", "name"]].itertuples(index=False)]
    if universe is not None and len(universe.tickers) and basket_id:
        t = universe.tickers.set_index("ticker")
        rows += [{"ticker": tk, "name": t.at[tk, "name"] if "name" in t else tk, "segment": t.at[tk, "segment"]}
                 for tk in baskets.basket_members(universe.tickers, basket_id)]
    members = pd.DataFrame(rows, columns=["ticker", "name", "segment"]).drop_duplicates("ticker")
    priced = set(universe.prices["ticker"].unique()) if universe is not None and universe.available else set()
    members = members.assign(priced=members["ticker"].isin(priced))
    empty = pd.DataFrame()
    if universe is None or not universe.available:
        return ListedExposure(domain, members, None, empty,
                              "No market data in the cache, so listed exposure, its drawdown and its bubble signals are "
                              "not shown. Fill the cache with `aibubble fetch` (or the report with offline = False) "
                              "or `aibubble import-prices FILE ...`, then run the report again.")
    have = members.loc[members["priced"], "ticker"].tolist()
    if not have:
        return ListedExposure(domain, members, None, empty,
                              "No listed company of this domain has cached prices"
                              + ("" if basket_id else " (the domain has no listed pure play)") + ".")
    prices = baskets.apply_start_dates(universe.prices, universe.tickers)
    have = [t for t in have if t in set(prices["ticker"].astype(str))]
    try:
        basket = baskets.basket_index(prices, have, start=baskets.AI_ERA_START,
                                      name=f"{load_taxonomy()[domain].label}: listed basket")
    except AIBubbleError:
        return ListedExposure(domain, members, None, empty, "No listed company of this domain has cached prices "
                              f"since {baskets.AI_ERA_START}.")
    dd = baskets.drawdown(basket.level.rename(basket.name)).table
    history = None
    if len(basket.level) >= 100:
        spy = baskets.close_series(universe, load_taxonomy().market_benchmark)
        history = bubble_signal.history(basket.level, market=spy, name=basket.name,
                                        cache=FitCache() if cache is True else (cache or None))
    return ListedExposure(domain, members, basket, dd, "", history, baskets.SURVIVORSHIP_NOTE)


@dataclass(frozen=True)
class DomainDeepDive:
    """Every view of one domain. ``metrics`` is what the report publishes to metrics.json."""

    domain: str
    label: str
    view: Landscape
    domain_share: pd.DataFrame     # year x (amount_usd, all_ai_usd, share)
    pairs: pd.DataFrame            # valuation.priced_pairs rows of the domain
    index: valuation.RepeatRoundIndex | None
    multiples: pd.DataFrame
    listed: ListedExposure
    metrics: dict

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"domain": self.domain, "rounds": self.view.rounds, "priced_pairs": len(self.pairs),
                              "valuation_index": self.index is not None, "listed": self.listed.available}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _round(value, digits: int = 4):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def deep_dive(data: Ledger, domain: str, lab_financials: pd.DataFrame, universe, *, period: str,
              start_year: int, as_of: str, top_n: int) -> DomainDeepDive:
    """Compute the deep-dive of ``domain`` (a taxonomy id) from the ledger and optional market data
    (``universe`` from :func:`analysis.data.market.load_universe`, or None).

    Notes
    -----
    Funding views are :func:`analysis.landscape.landscape` filtered to the domain; the domain's
    share of all disclosed AI funding is per calendar year. The repeat-round valuation index is
    Bailey-Muth-Nourse (:func:`analysis.valuation.repeat_round_index`) on the domain's
    consecutive priced rounds and is left out (None) below 3 usable pairs rather than estimated
    from noise.
    """
    from analysis import spending
    from analysis.bubbles import signal as bubble_signal
    from analysis.errors import ParameterError

    taxonomy = load_taxonomy()
    if domain not in taxonomy.ids:
        raise ParameterError(f"domain: the deep-dive needs one taxonomy domain ({', '.join(taxonomy.ids)}), "
                             f"got {domain!r}")
    label = taxonomy[domain].label
    rounds = data.rounds[data.rounds["announced_on"] >= pd.Timestamp(f"{start_year}-01-01")]
    scoped = Ledger(rounds, data.companies, data.investors, data.source)
    view = landscape(scoped, period, domain, "", "", top_n)
    try:
        yearly = spending.funding_by_domain(rounds, "year", start=f"{start_year}-01-01", end=as_of).amounts()
        share = pd.DataFrame({"amount_usd": yearly.get(domain, 0.0), "all_ai_usd": yearly.sum(axis=1)})
        share["share"] = share["amount_usd"] / share["all_ai_usd"].replace(0.0, np.nan)
        share.index = share.index.astype(str)
    except ValueError:
        share = pd.DataFrame(columns=["amount_usd", "all_ai_usd", "share"])
    pairs_all = valuation.priced_pairs(rounds)
    pairs = pairs_all[pairs_all["domain"] == domain] if len(pairs_all) else pairs_all
    try:
        index = valuation.repeat_round_index(pairs, "Y", label)
    except ValueError:
        index = None
    multiples = valuation.revenue_multiples(rounds[rounds["effective_domain"] == domain], lab_financials)
    listed = listed_exposure(universe, domain, data.companies)
    metrics = {
        "domain": domain,
        "rounds": int(view.rounds),
        "funding_usd_by_year": {y: float(v) for y, v in share["amount_usd"].items()},
        "share_of_ai_funding_by_year": {y: _round(v) for y, v in share["share"].items()},
        "valuation": {
            "priced_pairs": int(len(pairs)),
            "median_step_up": _round(pairs["value_ratio"].median()) if len(pairs) else None,
            "index_annual_growth": _round(index.annual_growth()) if index is not None else None,
            "median_revenue_multiple": _round(multiples["multiple"].median(), 2) if len(multiples) else None,
        },
        "listed": {"members": int(listed.members["priced"].sum()), "available": listed.available},
    }
    if listed.available:
        row = listed.basket.summary().iloc[0]
        metrics["listed"].update({"start": row["start"].isoformat(), "total_return": _round(row["total_return"]),
                                  "max_drawdown": _round(listed.drawdown["max_drawdown"].iloc[0])
                                  if "max_drawdown" in listed.drawdown else None})
        if listed.signal is not None:
            dd_row = listed.drawdown.iloc[0].to_dict() if len(listed.drawdown) else None
            metrics["listed"]["signal"] = bubble_signal.metrics(listed.signal, drawdown=dd_row)
    metrics["freshness"] = {"Funding ledger": f"{data.source}, last round "
                                              f"{data.last_round_date.date().isoformat()}"}
    return DomainDeepDive(domain, label, view, share, pairs, index, multiples, listed, metrics)
