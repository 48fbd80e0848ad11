"""Claim 4 (contagion): would a bursting LLM segment severely hurt the rest of AI?

Two measurements, each with its interval and effective sample size:

* **Return betas** (primary when market data is available). Weekly log returns from 2019 on
  (the AI era; before 2019 the "LLM-exposed" basket is a handful of chip and software names
  doing something else). The LLM basket's return is orthogonalised to the market (SPY; QQQ is
  dominated by the same mega-caps), and each non-LLM basket is regressed on that LLM-specific
  return with its own intercept and market beta. By Frisch-Waugh-Lovell the coefficient equals
  the one on the raw LLM return in a regression that also holds SPY, so the beta measures
  co-movement with LLM-specific moves, not with the market. The primary effect pools the baskets
  (one common LLM beta, basket-specific intercepts and market betas) with Driscoll-Kraay
  standard errors: the scores of all baskets in a week are summed and the sum gets a Newey-West
  (Bartlett) long-run variance, so correlation across baskets and over time is allowed.
* **Funding co-movement** (primary without market data). Elasticity of non-LLM venture funding
  to LLM funding on log changes of non-overlapping calendar quarters (or years), with
  Newey-West standard errors. Quarters in which either side raised nothing have no log change
  and are left out (said in the table).

The claim is tested against a stated materiality threshold: a beta (or elasticity) of
:data:`MATERIALITY_BETA` = 0.5 means a 50% LLM-specific fall drags the rest of AI down about 29%
(``exp(0.5 log 0.5) - 1``); the claim is supported when the pooled beta is significantly below it.

Inference
---------
Slopes, standard errors, n_eff, p-values and intervals come from :mod:`analysis.hac`: Newey-West
(Driscoll-Kraay for the pooled beta) standard errors and a restricted wild bootstrap of the t
statistic, because the asymptotic t test over-rejects with heavy-tailed weekly returns and with
a dozen quarterly funding changes. ``n_eff = n / (1 + 2 sum_j w_j rho_j)`` from the slope's score
(capped at n); baskets in the same week are one unit, so the pooled n_eff counts weeks. The
per-basket and per-domain significance flags use Holm's adjustment over the table, and the
sentence the briefing prints is generated from those flags (:meth:`BasketBetas.text`).

Baskets sharing members
-----------------------
A non-LLM basket that shares members with the LLM basket co-moves with it mechanically. Such
members are removed from the non-LLM basket (it is rebuilt from its other members when prices are
given); a basket left without members, or one that cannot be rebuilt (no prices given), is kept
out of the pooled beta and flagged in the table with the shared names.

References
----------
Newey, W. K. and West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55(3), 703-708.
Newey, W. K. and West, K. D. (1994). Automatic lag selection in covariance matrix estimation.
Review of Economic Studies 61(4), 631-653 (the ``4 (n/100)^(2/9)`` lag rule).
Driscoll, J. C. and Kraay, A. C. (1998). Consistent covariance matrix estimation with spatially
dependent panel data. Review of Economics and Statistics 80(4), 549-560.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal
of Statistics 6(2), 65-70.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import inference
from analysis.hac import Slope, residualise, pooled_slope, slope
from analysis.inference import ALPHA, ClaimTest

NUMBER = 4
STATEMENT = "A bursting LLM segment would not severely hurt the rest of AI."
#: Beta (or elasticity) that counts as severe contagion: a 50% LLM fall -> about -29% elsewhere.
MATERIALITY_BETA = 0.5
#: First date of the return sample (the AI era).
RETURNS_START = "2019-01-01"
WEEK = "W-FRI"
#: Fewer weeks than this (two years) and the return test is not run.
MIN_WEEKS = 104
#: Fewer effective periods than this and a funding elasticity is not tested.
MIN_FUNDING_N_EFF = 8.0
#: Fewer log changes than this and a domain's funding elasticity is not estimated.
MIN_FUNDING_CHANGES = 8


# --------------------------------------------------------------------------------------------
# Return betas on LLM-specific moves
# --------------------------------------------------------------------------------------------


def weekly_returns(levels: pd.DataFrame | pd.Series, start=RETURNS_START, end=None, freq: str = WEEK) -> pd.DataFrame:
    """Weekly log returns (last close of each week); a week without a close is missing."""
    frame = levels.to_frame() if isinstance(levels, pd.Series) else levels
    weekly = np.log(frame.resample(freq).last()).diff()
    if start is not None:
        weekly = weekly[weekly.index >= pd.Timestamp(start)]
    if end is not None:
        weekly = weekly[weekly.index <= pd.Timestamp(end) + pd.offsets.Week(weekday=4)]
    return weekly


@dataclass(frozen=True)
class BasketBetas:
    """Betas of the non-LLM baskets on the LLM basket's market-orthogonal weekly return.

    ``table`` (one row per basket): ``basket``, ``segments`` (taxonomy segments it stands for),
    ``weeks``, ``n_eff``, ``beta``, ``se``, ``ci_low``/``ci_high`` (90%), ``beta_market``,
    ``p_zero`` and ``p_zero_holm`` (H0 beta = 0, Holm over the baskets), ``p_null`` (H0 beta =
    ``null``), ``in_pooled``, ``shared_members``, and the flags ``co_moves`` / ``moves_against``
    (Holm-adjusted p < 5% with a positive / negative beta) and ``material`` (significantly above
    ``null`` after Holm). ``pooled`` is the common beta (:func:`pooled_slope`).
    """

    table: pd.DataFrame
    pooled: Slope | None
    llm_basket: str
    llm_market_beta: Slope | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    null: float = MATERIALITY_BETA
    market: bool = True
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        return self.table

    def text(self) -> str:
        """The sentence the briefing prints, generated from the table's flags (the same rule)."""
        return _flags_text(self.table, "non-LLM baskets", "weekly returns",
                           "the LLM basket's market-neutral return" if self.market else "the LLM basket's return",
                           self.null)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda v: f"{v:.3g}")


def _holm_flags(table: pd.DataFrame, null: float) -> pd.DataFrame:
    if table.empty:
        return table.assign(p_zero_holm=[], p_null_holm=[], co_moves=[], moves_against=[], material=[])
    p0 = inference.holm(dict(enumerate(table["p_zero"])))
    pn = inference.holm(dict(enumerate(table["p_null"])))
    out = table.assign(p_zero_holm=[p0[i] for i in range(len(table))],
                       p_null_holm=[pn[i] for i in range(len(table))])
    sig0 = out["p_zero_holm"].fillna(1.0) < ALPHA
    return out.assign(co_moves=sig0 & (out["beta"] > 0), moves_against=sig0 & (out["beta"] < 0),
                      material=(out["p_null_holm"].fillna(1.0) < ALPHA) & (out["beta"] > null))


def _flags_text(table: pd.DataFrame, units: str, data: str, driver: str, null: float) -> str:
    """One sentence from the table's flags: how many units co-move significantly with ``driver``
    (Holm-adjusted over the table), how many against it, how many exceed the materiality
    threshold. The briefing prints this sentence, so text and table cannot disagree."""
    estimated = table[table["beta"].notna()] if len(table) else table
    if estimated.empty:
        return f"No {units} had enough {data} to estimate a beta."
    pos = estimated.loc[estimated["co_moves"].astype(bool), "label"].tolist()
    neg = estimated.loc[estimated["moves_against"].astype(bool), "label"].tolist()
    mat = estimated.loc[estimated["material"].astype(bool), "label"].tolist()
    n = len(estimated)
    rest = n - len(pos) - len(neg)

    def listed(names):
        return f" ({', '.join(names)})" if names else ""

    text = (f"Of {n} {units} with enough {data}, {len(pos)} {'moves' if len(pos) == 1 else 'move'} significantly "
            f"with {driver}{listed(pos)}, {len(neg)} significantly against it{listed(neg)} and {rest} "
            f"{'shows' if rest == 1 else 'show'} no significant co-movement (Holm-adjusted p < 0.05 over the table).")
    if mat:
        text += (f" {len(mat)} {'is' if len(mat) == 1 else 'are'} significantly above the materiality threshold of "
                 f"{null:g}{listed(mat)}.")
    return text


def basket_betas(levels: pd.DataFrame, llm_basket: str, market: pd.Series | None, *, start=RETURNS_START, end=None,
                 null: float = MATERIALITY_BETA, exclude: dict | None = None, segments: dict | None = None,
                 labels: dict | None = None, min_weeks: int = MIN_WEEKS) -> BasketBetas:
    """Per-basket and pooled betas on the LLM basket's market-orthogonal weekly log return.

    Parameters
    ----------
    levels : DataFrame
        Daily basket levels, date x basket id (one column is ``llm_basket``).
    market : Series or None
        Daily closes of the market factor (SPY). Without it the betas are on the raw LLM return
        and include market co-movement (said in ``notes``).
    exclude : dict, optional
        Basket id -> shared member tickers: estimated and shown, but kept out of the pooled beta.
    segments, labels : dict, optional
        Basket id -> the taxonomy segments it stands for / its display name.
    """
    exclude = exclude or {}
    segments = segments or {}
    labels = labels or {}
    notes = []
    rets = weekly_returns(levels, start, end)
    if market is not None and len(market.dropna()):
        m = weekly_returns(market.rename("market"), start, end)["market"]
        rets = rets.join(m, how="inner")
    else:
        rets = rets.assign(market=np.nan)
        notes.append("No market series: betas are on the raw LLM basket return and include market co-movement.")
    has_market = bool(rets["market"].notna().any())
    rets = rets[rets[llm_basket].notna() & (rets["market"].notna() | (not has_market))]
    others = [c for c in levels.columns if c != llm_basket]
    empty = pd.DataFrame(columns=["basket", "label", "segments", "weeks", "n_eff", "beta", "se", "ci_low", "ci_high",
                                  "beta_market", "beta_market_se", "p_zero", "p_null", "in_pooled", "shared_members"])
    if len(rets) < min_weeks:
        notes.append(f"{len(rets)} weeks of LLM basket returns from {start} (at least {min_weeks} needed).")
        return BasketBetas(_holm_flags(empty, null), None, llm_basket, None, None, None, null, has_market, tuple(notes))
    llm = rets[llm_basket].to_numpy()
    mkt = rets["market"].to_numpy() if has_market else None
    if has_market:
        llm_mkt = slope(llm, mkt, n_boot=0)
        x = residualise(llm, np.column_stack([np.ones(len(llm)), mkt]))
    else:
        llm_mkt, x = None, llm - llm.mean()
    rows, pooled_cols = [], []
    for b in others:
        y = rets[b].to_numpy()
        ok = np.isfinite(y)
        row = {"basket": b, "label": labels.get(b, b), "segments": ", ".join(segments.get(b, ())),
               "weeks": int(ok.sum()), "in_pooled": b not in exclude,
               "shared_members": ", ".join(exclude.get(b, ()))}
        if ok.sum() < min_weeks:
            rows.append({**row, "in_pooled": False, "note": f"{int(ok.sum())} weeks (< {min_weeks})"})
            continue
        s = slope(y[ok], x[ok], None if mkt is None else mkt[ok])
        mk = slope(y[ok], mkt[ok], x[ok], n_boot=0) if mkt is not None else None
        lo, hi = s.interval()
        rows.append({**row, "n_eff": s.n_eff, "beta": s.beta, "se": s.se, "ci_low": lo, "ci_high": hi,
                     "beta_market": float("nan") if mk is None else mk.beta,
                     "beta_market_se": float("nan") if mk is None else mk.se, "p_zero": s.p(0.0), "p_null": s.p(null), "r2": s.r2,
                     "note": "shares members with the LLM basket: kept out of the pooled beta" if b in exclude else ""})
        if b not in exclude:
            pooled_cols.append(b)
    table = _holm_flags(pd.concat([empty, pd.DataFrame(rows)], ignore_index=True), null) if rows else \
        _holm_flags(empty, null)
    pooled = pooled_slope(rets[pooled_cols].to_numpy(), x, mkt) if pooled_cols else None
    return BasketBetas(table, pooled, llm_basket, llm_mkt, rets.index[0], rets.index[-1], null, has_market,
                       tuple(notes))


# --------------------------------------------------------------------------------------------
# Funding co-movement
# --------------------------------------------------------------------------------------------


def funding_panel(rounds: pd.DataFrame, llm_domains, freq: str = "Q", end=None, domains=()) -> pd.DataFrame:
    """New-money funding per complete period (rows) and domain (columns; every one of
    ``domains`` is present, with zeros where it raised nothing), plus ``llm`` (LLM domains) and
    ``non_llm`` (the rest). A period counts only once it has ended by ``end`` (default: the
    ledger's last round date), so a half-recorded quarter is not a fall."""
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    end = pd.Timestamp(end) if end is not None else usable["announced_on"].max()
    usable = usable[usable["announced_on"] <= end]
    wide = usable.assign(period=usable["announced_on"].dt.to_period(freq)).pivot_table(
        index="period", columns="effective_domain", values="raised_amount_usd", aggfunc="sum", fill_value=0.0)
    grid = pd.period_range(wide.index.min(), wide.index.max(), freq=freq)
    wide = wide.reindex(grid, fill_value=0.0)
    wide = wide.reindex(columns=list(wide.columns) + [d for d in domains if d not in wide.columns], fill_value=0.0)
    wide = wide[wide.index.end_time.normalize() <= end.normalize()]
    llm_cols = [d for d in wide.columns if d in set(llm_domains)]
    return wide.assign(llm=wide[llm_cols].sum(axis=1), non_llm=wide.drop(columns=llm_cols).sum(axis=1))


def log_changes(series: pd.Series) -> pd.Series:
    """Log change between consecutive non-overlapping periods; undefined where either is zero."""
    s = series.where(series > 0)
    return np.log(s).diff()


@dataclass(frozen=True)
class FundingComovement:
    """Elasticities of non-LLM funding (pooled and per domain) to LLM funding.

    ``table``: one row per non-LLM domain (``label``, ``changes``, ``n_eff``, ``beta``, ``se``,
    ``ci_low``/``ci_high`` at 90%, ``p_zero``, ``p_null``, Holm flags as in
    :class:`BasketBetas`, ``note``); ``pooled`` the elasticity of all non-LLM funding.
    """

    table: pd.DataFrame
    pooled: Slope | None
    freq: str
    periods: int
    null: float = MATERIALITY_BETA
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        return self.table

    def text(self) -> str:
        unit = {"Q": "quarterly", "Y": "annual"}.get(self.freq, self.freq)
        return _flags_text(self.table, "non-LLM domains", f"{unit} funding changes", "LLM funding", self.null)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda v: f"{v:.3g}")


def funding_comovement(rounds: pd.DataFrame, llm_domains, freq: str = "Q", end=None,
                       null: float = MATERIALITY_BETA, labels: dict | None = None,
                       min_changes: int = MIN_FUNDING_CHANGES, domains=None) -> FundingComovement:
    """Elasticities of funding log changes (non-overlapping periods) on LLM funding's, pooled and
    per domain (``domains``: every domain to show, default the taxonomy's)."""
    from analysis.data.taxonomy import load_taxonomy

    labels = labels or {}
    domains = load_taxonomy().ids if domains is None else domains
    panel = funding_panel(rounds, llm_domains, freq, end, domains)
    x = log_changes(panel["llm"])
    notes = []

    def fit(target: pd.Series):
        both = pd.concat([log_changes(target).rename("y"), x.rename("x")], axis=1).dropna()
        if len(both) < min_changes or both["x"].std() == 0:
            return None, len(both)
        return slope(both["y"].to_numpy(), both["x"].to_numpy()), len(both)

    pooled, n_pooled = fit(panel["non_llm"])
    if pooled is None:
        notes.append(f"{n_pooled} periods with funding on both sides (at least {min_changes} needed).")
    rows = []
    for d in [c for c in panel.columns if c not in set(llm_domains) | {"llm", "non_llm"}]:
        s, n = fit(panel[d])
        row = {"domain": d, "label": labels.get(d, d), "changes": n}
        if s is None:
            rows.append({**row, "note": f"{n} periods with funding on both sides (< {min_changes})"})
            continue
        lo, hi = s.interval()
        rows.append({**row, "n_eff": s.n_eff, "beta": s.beta, "se": s.se, "ci_low": lo, "ci_high": hi,
                     "p_zero": s.p(0.0), "p_null": s.p(null), "r2": s.r2, "note": ""})
    cols = ["domain", "label", "changes", "n_eff", "beta", "se", "ci_low", "ci_high", "p_zero", "p_null", "r2", "note"]
    table = pd.concat([pd.DataFrame(columns=cols), pd.DataFrame(rows)], ignore_index=True)
    estimated = table[table["beta"].notna()]
    flagged = _holm_flags(estimated.reset_index(drop=True), null)
    table = table.merge(flagged[["domain", "p_zero_holm", "p_null_holm", "co_moves", "moves_against", "material"]],
                        on="domain", how="left")
    for c in ("co_moves", "moves_against", "material"):
        table[c] = table[c].astype("boolean").fillna(False).astype(bool)
    return FundingComovement(table, pooled, freq, len(panel), null, tuple(notes))


# --------------------------------------------------------------------------------------------
# Baskets that share members with the LLM basket
# --------------------------------------------------------------------------------------------


def shared_members(llm_basket: str, taxonomy=None, tickers: pd.DataFrame | None = None) -> dict[str, tuple[str, ...]]:
    """Non-LLM baskets that share members with ``llm_basket`` -> the shared tickers (or the
    shared ticker segments, in brackets, when no ticker table is given)."""
    from analysis.baskets import basket_members
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    llm_segments = set(taxonomy.basket(llm_basket).ticker_segments)
    out = {}
    for b in taxonomy.baskets:
        if b.id == llm_basket:
            continue
        if tickers is not None:
            shared = sorted(set(basket_members(tickers, b.id, taxonomy)) & set(basket_members(tickers, llm_basket, taxonomy)))
        else:
            shared = [f"[{s}]" for s in b.ticker_segments if s in llm_segments]
        if shared:
            out[b.id] = tuple(shared)
    return out


def disjoint_levels(levels: pd.DataFrame, llm_basket: str, universe, taxonomy=None) -> tuple[pd.DataFrame, dict, list]:
    """Rebuild each non-LLM basket without the members it shares with the LLM basket.

    Returns ``(levels, unresolved, notes)``: ``unresolved`` maps baskets that could not be made
    disjoint (no other priced member) to their shared tickers, for :func:`basket_betas`'
    ``exclude``.
    """
    from analysis.baskets import basket_index, basket_members

    from analysis.data.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    shared = shared_members(llm_basket, taxonomy, universe.tickers)
    out, unresolved, notes = levels.copy(), {}, []
    llm_label = taxonomy.label(llm_basket)
    priced = set(universe.prices["ticker"].unique())
    for b, tickers in shared.items():
        if b not in out:
            continue
        rest = [t for t in basket_members(universe.tickers, b, taxonomy) if t not in tickers and t in priced]
        if rest:
            out[b] = basket_index(universe.prices, rest, name=b).level.reindex(out.index)
            notes.append(f"{taxonomy.label(b)}: rebuilt without {', '.join(tickers)} (also in {llm_label}).")
        else:
            unresolved[b] = tickers
            notes.append(f"{taxonomy.label(b)}: every member is also in {llm_label}; kept out of the pooled beta.")
    return out, unresolved, notes


# --------------------------------------------------------------------------------------------
# The claim
# --------------------------------------------------------------------------------------------


def _round(v, d=4):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) or pd.isna(v) else round(float(v), d)


def _records(table: pd.DataFrame, key: str) -> list[dict]:
    cols = [c for c in (key, "weeks", "changes", "n_eff", "beta", "ci_low", "ci_high", "beta_market", "p_zero",
                        "p_zero_holm", "p_null", "co_moves", "moves_against", "material", "in_pooled",
                        "shared_members", "note") if c in table]
    out = []
    for r in table[cols].to_dict("records"):
        out.append({k: (_round(v) if isinstance(v, (float, np.floating)) else
                        bool(v) if isinstance(v, (bool, np.bool_)) else
                        int(v) if isinstance(v, (int, np.integer)) else v) for k, v in r.items()})
    return out


@dataclass(frozen=True)
class Contagion:
    """Both measurements and which one is primary (returns when estimable, else funding)."""

    returns: BasketBetas | None
    funding: FundingComovement | None
    null: float = MATERIALITY_BETA
    notes: tuple[str, ...] = ()
    definition: str = "broad"

    @property
    def primary(self) -> str:
        if self.returns is not None and self.returns.pooled is not None and self.returns.market:
            return "returns"
        return "funding"

    def summary(self) -> pd.DataFrame:
        parts = []
        if self.returns is not None:
            parts.append(self.returns.table.assign(measure="weekly return beta", unit=lambda t: t["basket"]))
        if self.funding is not None:
            parts.append(self.funding.table.assign(measure="funding elasticity", unit=lambda t: t["domain"]))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def text(self) -> str:
        parts = [p.text() for p in (self.returns, self.funding) if p is not None]
        return " ".join(parts)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda v: f"{v:.3g}")

    def claim(self) -> ClaimTest:
        return _claim(self)


def contagion(rounds: pd.DataFrame, levels: pd.DataFrame | None = None, market: pd.Series | None = None, *,
              universe=None, taxonomy=None, definition: str = "broad", null: float = MATERIALITY_BETA,
              start=RETURNS_START, end=None, funding_freq: str = "Q") -> Contagion:
    """Return betas (when basket levels and the market series are given) and funding co-movement.

    ``universe`` (a :class:`analysis.data.market.Universe`) lets shared members be removed from
    the non-LLM baskets; without it baskets whose ticker segments overlap the LLM basket's are
    kept out of the pooled beta and flagged.
    """
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    llm_domains = taxonomy.llm_domains(definition)
    llm_basket = taxonomy.segment_basket(f"llm_{definition}" if definition in ("narrow", "broad") else "llm_broad")
    notes = []
    returns = None
    if levels is not None and not levels.empty and llm_basket in levels:
        segs = taxonomy.basket_segments()
        seg_labels = {b: tuple(taxonomy.label(s) for s in v) for b, v in segs.items()}
        labels = {b.id: b.label for b in taxonomy.baskets}
        if universe is not None:
            levels, exclude, more = disjoint_levels(levels, llm_basket, universe, taxonomy)
        else:
            exclude = {b: v for b, v in shared_members(llm_basket, taxonomy).items() if b in levels}
            more = [f"{taxonomy.label(b)}: shares ticker segments "
                    f"{', '.join(taxonomy.label(x.strip('[]')) for x in v)} with {taxonomy.label(llm_basket)}; "
                    f"kept out of the pooled beta (no prices given to rebuild it)." for b, v in exclude.items()]
        notes.extend(more)
        returns = basket_betas(levels, llm_basket, market, start=start, end=end, null=null, exclude=exclude,
                               segments=seg_labels, labels=labels)
    funding = funding_comovement(rounds, llm_domains, funding_freq, end, null, taxonomy.labels(), domains=taxonomy.ids)
    return Contagion(returns, funding, null, tuple(notes), definition)


def _claim(c: Contagion) -> ClaimTest:
    details = {"primary": c.primary, "materiality_beta": c.null, "text": c.text(), "notes": list(c.notes)}
    if c.returns is not None:
        r = c.returns
        details["baskets"] = _records(r.table, "basket")
        details["returns_notes"] = list(r.notes)
        if r.llm_market_beta is not None:
            details["llm_market_beta"] = _round(r.llm_market_beta.beta)
    if c.funding is not None:
        f = c.funding
        details["domains"] = _records(f.table, "domain")
        if f.pooled is not None:
            lo, hi = f.pooled.interval()
            details["funding_pooled"] = {"beta": _round(f.pooled.beta), "ci_low": _round(lo), "ci_high": _round(hi),
                                         "n": f.pooled.n, "n_eff": _round(f.pooled.n_eff, 1),
                                         "p_null": _round(f.pooled.p(c.null))}
    if c.primary == "returns":
        r = c.returns
        s = r.pooled
        k = int(r.table["in_pooled"].sum())
        test = (f"Pooled regression of the weekly log returns of {k} non-LLM baskets on the LLM basket's return "
                f"orthogonalised to SPY (basket-specific intercepts and SPY betas), {r.start.date()} to "
                f"{r.end.date()}; Driscoll-Kraay standard error (Newey-West, {s.lags} lags); two-sided dependent wild "
                f"bootstrap t-test of beta = {c.null}")
        label = "pooled beta of non-LLM baskets to LLM-specific weekly returns"
        n_eff = {"weeks": s.n_eff, "baskets": float(k)}
        uses_prices = True
        lo, hi = s.interval()
        evidence_lead = (f"A 1% LLM-specific move goes with a {s.beta:+.2f}% move in the other AI baskets "
                         f"(90% interval {lo:+.2f} to {hi:+.2f}; {s.n} weeks, n_eff {s.n_eff:.0f}).")
        limits = ("Betas come from 2019 on, a period without an LLM bust; in a bust correlations usually rise, so "
                  "the beta may understate contagion. A common AI factor beyond SPY is part of the beta.")
    else:
        f = c.funding
        s = f.pooled if f is not None else None
        label = "elasticity of non-LLM venture funding to LLM funding"
        unit = {"Q": "quarterly", "Y": "annual"}.get(getattr(f, "freq", "Q"), "")
        test = (f"OLS of {unit} log changes of non-LLM funding on LLM funding (non-overlapping periods), "
                f"Newey-West standard error; two-sided dependent wild bootstrap t-test of elasticity = {c.null}")
        uses_prices = False
        if s is None or s.n_eff < MIN_FUNDING_N_EFF:
            reason = ("Too few periods with funding on both sides to estimate the elasticity"
                      if s is None else f"Only {s.n_eff:.1f} effective periods (at least {MIN_FUNDING_N_EFF:.0f} "
                                        f"needed)") + "; no market data for the return test."
            return inference.not_testable(NUMBER, STATEMENT, test, label, reason,
                                          {} if s is None else {"periods": s.n_eff}, null=c.null, supports="below",
                                          uses_prices=False, details=details, definition=c.definition)
        n_eff = {"periods": s.n_eff}
        lo, hi = s.interval()
        evidence_lead = (f"A 1% change in LLM funding goes with a {s.beta:+.2f}% change in non-LLM funding "
                         f"(90% interval {lo:+.2f} to {hi:+.2f}; {s.n} {unit} changes, n_eff {s.n_eff:.0f}).")
        limits = ("Venture funding on both sides follows the same cycle (rates, fund-raising), which the "
                  "elasticity does not remove. Quarters are lumpy: one mega-round can decide an LLM quarter, and "
                  "that noise in the regressor biases the elasticity toward zero, i.e. in the claim's favour.")
    p_raw = s.p(c.null)
    evidence = f"{evidence_lead} {c.text()}"
    return ClaimTest(NUMBER, STATEMENT, test, label, s.beta, (lo, hi), n_eff, s.mde(), p_raw, null=c.null,
                     supports="below", verdict=inference.verdict(s.beta, c.null, "below", p_raw, None),
                     evidence=evidence, limits=limits, definition=c.definition, uses_prices=uses_prices,
                     details=details)


def claim_contagion(rounds: pd.DataFrame, levels: pd.DataFrame | None = None, market: pd.Series | None = None, *,
                    universe=None, taxonomy=None, definition: str = "broad", null: float = MATERIALITY_BETA,
                    start=RETURNS_START, end=None) -> ClaimTest:
    """Claim 4 as a :class:`~analysis.inference.ClaimTest` (see the module docstring).

    ``effect`` is the pooled beta (with market data) or the funding elasticity (without),
    ``null`` the materiality threshold and ``supports="below"``; ``details`` holds the
    per-basket and per-domain tables and the sentence generated from their flags.
    """
    return contagion(rounds, levels, market, universe=universe, taxonomy=taxonomy, definition=definition,
                     null=null, start=start, end=end).claim()
