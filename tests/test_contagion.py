"""Claim 4 (contagion) on simulated data with known betas, built on the real data's structure:
the weekly calendar of the market snapshot (2019-01-04 to 2026-07-31, 396 weekly returns), the
taxonomy's baskets (the LLM basket and the non-LLM baskets that share no ticker segment with it,
three of them starting late as their members listed), heavy-tailed returns with volatility
clustering, and the real quarterly calendar of the funding ledger."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.signal import lfilter
from threadpoolctl import threadpool_limits

from analysis import contagion as C
from analysis import hac
from analysis.data.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
LLM = TAXONOMY.segment_basket("llm_broad")
SHARING = set(C.shared_members(LLM, TAXONOMY))
_TICKERS = pd.read_csv(__import__("analysis.config", fromlist=["x"]).DATASET_FILES["tickers"])
#: Non-LLM baskets with listed members in data/tickers.csv (a basket without members has no prices).
NON_LLM = [b.id for b in TAXONOMY.baskets if b.id != LLM and b.id not in SHARING
           and _TICKERS["segment"].isin(b.ticker_segments).any()]
#: Weekly closes (Fridays) so that the returns run 2019-01-04 .. 2026-07-31 like the snapshot's.
CLOSES = pd.date_range("2018-12-28", "2026-07-31", freq="W-FRI")
T = len(CLOSES) - 1
#: Baskets whose members listed after 2019 start late (weeks into the sample), as in the snapshot.
LATE_START = {"audio_speech": 37, "ai_drug_discovery": 57, "healthcare_ai": T - 111}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The bootstrap's matrices are small: BLAS threads only contend with each other (tenfold
    slower on a busy two-core machine), so the simulations run single-threaded."""
    with threadpool_limits(1):
        yield


def simulate(rng, betas, sims: int = 1, llm_market_beta: float = 1.3):
    """Weekly log returns: market m, LLM = 0.003 + b m + e (e LLM-specific), non-LLM baskets
    Y = a + c_i m + beta_i e + AI factor + noise, all with one stochastic volatility and t(4)
    shocks. Returns m (sims, T), llm (sims, T), Y (sims, T, K) with NaN before late starts."""
    betas = np.asarray(betas, dtype=float)
    k = len(betas)
    vol = np.exp(lfilter([1.0], [1.0, -0.95], rng.normal(0, 0.2, (sims, T)), axis=1))

    def shock(*shape):
        return rng.standard_t(4, (sims, T) + shape) / np.sqrt(2)

    m = 0.002 + 0.02 * vol * shock()
    e = 0.025 * vol * shock()
    llm = 0.003 + llm_market_beta * m + e
    market_betas = np.linspace(0.8, 2.0, k)
    ai = 0.015 * vol * shock()
    Y = (0.001 + m[..., None] * market_betas + e[..., None] * betas + ai[..., None] * np.linspace(0.3, 1, k)
         + 0.03 * vol[..., None] * shock(k))
    for i, b in enumerate(NON_LLM[:k]):
        Y[:, :LATE_START.get(b, 0), i] = np.nan
    return m, llm, Y


def to_levels(m, llm, Y, names=None) -> tuple[pd.DataFrame, pd.Series]:
    """One simulation as daily-frame inputs: basket levels (NaN before a basket starts) and SPY."""
    names = names or NON_LLM[:Y.shape[1]]

    def level(r):
        r = np.asarray(r, dtype=float)
        out = 100 * np.exp(np.concatenate([[0.0], np.nancumsum(r)]))
        first = np.argmax(np.isfinite(r))
        out[:first] = np.nan
        return out

    levels = pd.DataFrame({LLM: level(llm), **{b: level(Y[:, i]) for i, b in enumerate(names)}}, index=CLOSES)
    return levels, pd.Series(level(m), index=CLOSES, name="SPY")


def market_neutral(llm, m):
    return hac.residualise(llm, np.column_stack([np.ones(len(m)), m]))


def test_the_simulation_has_the_real_structure():
    assert T == 396
    assert len(NON_LLM) == 7 and LLM == "llm_exposed"


def test_planted_betas_are_recovered_with_the_market_factor():
    planted = [0.0, 0.2, 0.9, 0.4, 1.2, -0.3, 0.7]
    m, llm, Y = simulate(np.random.default_rng(1), planted)
    levels, spy = to_levels(m[0], llm[0], Y[0])
    res = C.basket_betas(levels, LLM, spy)
    table = res.table.set_index("basket")
    for b, beta in zip(NON_LLM, planted):
        row = table.loc[b]
        assert abs(row["beta"] - beta) < 4 * row["se"], b
        assert row["ci_low"] < row["beta"] < row["ci_high"]
        assert 0 < row["n_eff"] <= row["weeks"]
    # the pooled beta is the weighted mean of the planted betas (weights: each basket's weeks)
    weights = table.loc[NON_LLM, "weeks"].to_numpy(float)
    assert abs(res.pooled.beta - np.average(planted, weights=weights)) < 4 * res.pooled.se
    assert res.llm_market_beta.beta == pytest.approx(1.3, abs=0.1)


def test_without_the_market_factor_the_beta_is_mostly_market():
    """The issue's diagnosis: regressed on the raw LLM return, a basket with no LLM-specific
    exposure shows a large 'beta to LLM' that is its market beta in disguise."""
    m, llm, Y = simulate(np.random.default_rng(2), [0.0] * 7)
    levels, spy = to_levels(m[0], llm[0], Y[0])
    with_market = C.basket_betas(levels, LLM, spy).table.set_index("basket")
    raw = C.basket_betas(levels, LLM, None).table.set_index("basket")
    last = NON_LLM[-1]                      # market beta 2.0, full sample
    assert abs(with_market.loc[last, "beta"]) < 4 * with_market.loc[last, "se"]
    assert raw.loc[last, "beta"] > 0.5
    assert raw.loc[last, "beta"] > 5 * raw.loc[last, "se"]


def test_claim_test_rejects_a_true_null_at_the_stated_rate():
    """Size: 400 simulations with every basket's beta exactly at the materiality threshold (0.5);
    the claim's test (pooled beta, dependent wild bootstrap-t) rejects at 5% within three binomial
    standard errors. 199 bootstrap draws per simulation (a bootstrap test is exact in size for
    any B with 0.05 (B + 1) an integer; the claim itself uses 999)."""
    sims = 400
    m, llm, Y = simulate(np.random.default_rng(3), [C.MATERIALITY_BETA] * 7, sims=sims)
    rejections = []
    for i in range(sims):
        s = hac.pooled_slope(Y[i], market_neutral(llm[i], m[i]), m[i], n_boot=199, seed=i)
        rejections.append(s.p(C.MATERIALITY_BETA) < 0.05)
    rate = float(np.mean(rejections))
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / sims), rate


def test_claim_test_detects_planted_effects():
    """Power at the real sample size: a pooled beta of 0 (no contagion) is found below the
    threshold, one of 1.0 above it, in at least 90% of 100 simulations each."""
    for planted, side in ((0.0, -1), (1.0, +1)):
        m, llm, Y = simulate(np.random.default_rng(4 + int(planted)), [planted] * 7, sims=100)
        hits = 0
        for i in range(100):
            s = hac.pooled_slope(Y[i], market_neutral(llm[i], m[i]), m[i], n_boot=199, seed=i)
            hits += s.p(C.MATERIALITY_BETA) < 0.05 and np.sign(s.beta - C.MATERIALITY_BETA) == side
        assert hits >= 90, (planted, hits)


def _rounds(rng, elasticity: float, quarters=pd.period_range("2019Q1", "2026Q2", freq="Q")) -> pd.DataFrame:
    """A ledger on the real quarterly calendar: one LLM and one non-LLM round per quarter whose
    log amounts follow a planted elasticity of quarterly log changes."""
    dx = rng.normal(0, 0.6, len(quarters))
    dy = elasticity * dx + rng.normal(0, 0.3, len(quarters))
    llm_amt, other_amt = 1e9 * np.exp(np.cumsum(dx)), 5e8 * np.exp(np.cumsum(dy))
    rows = []
    for q, a, b in zip(quarters, llm_amt, other_amt):
        day = q.start_time + pd.Timedelta(days=40)
        rows.append({"announced_on": day, "effective_domain": "llm_foundation", "raised_amount_usd": a,
                     "new_money": True})
        rows.append({"announced_on": day, "effective_domain": "robotics", "raised_amount_usd": b, "new_money": True})
    return pd.DataFrame(rows)


def test_claim_from_market_data_is_the_pooled_beta():
    rng = np.random.default_rng(5)
    m, llm, Y = simulate(rng, [0.0] * 7)
    levels, spy = to_levels(m[0], llm[0], Y[0])
    claim = C.claim_contagion(_rounds(rng, 0.0), levels, spy, end="2026-07-31")
    assert claim.number == 4 and claim.uses_prices and claim.supports == "below"
    assert claim.null == C.MATERIALITY_BETA
    weekly = C.weekly_returns(levels.join(spy))
    ref = hac.pooled_slope(weekly[NON_LLM].to_numpy(), market_neutral(weekly[LLM].to_numpy(), weekly["SPY"].to_numpy()),
                           weekly["SPY"].to_numpy())
    assert claim.effect == pytest.approx(ref.beta, rel=1e-10)
    assert claim.interval[0] < claim.effect < claim.interval[1]
    assert claim.n_eff["weeks"] <= T and claim.n_eff["baskets"] == 7
    assert claim.verdict == "supported"                      # planted 0 is far below 0.5
    json.dumps(claim.metrics())                               # plain values only
    big = C.claim_contagion(_rounds(rng, 0.0), *to_levels(*[a[0] for a in simulate(rng, [1.2] * 7)]))
    assert big.verdict == "contradicted"


def test_text_is_generated_from_the_table_flags():
    """The issue: '0 of 11 domains co-move significantly' next to a table with two significant
    negative betas. The sentence now counts the table's own (Holm-adjusted) flags."""
    planted = [0.0, 0.0, -1.5, 0.0, 1.5, 0.0, 0.0]
    m, llm, Y = simulate(np.random.default_rng(6), planted)
    levels, spy = to_levels(m[0], llm[0], Y[0])
    res = C.basket_betas(levels, LLM, spy, labels={b.id: b.label for b in TAXONOMY.baskets})
    t = res.table
    against = t.loc[t["moves_against"], "label"].tolist()
    with_ = t.loc[t["co_moves"], "label"].tolist()
    assert TAXONOMY.label(NON_LLM[2]) in against and TAXONOMY.label(NON_LLM[4]) in with_
    text = res.text()
    assert f"{len(with_)} move" in text and f"{len(against)} significantly against it" in text
    for name in against + with_:
        assert name in text
    # the flags use Holm-adjusted p-values
    assert (t.loc[t["co_moves"] | t["moves_against"], "p_zero_holm"] < 0.05).all()
    assert (t["p_zero_holm"] >= t["p_zero"]).all()


def test_shared_members_are_kept_out_of_the_pooled_beta_and_flagged():
    """Today the taxonomy's AI-infrastructure basket is made of ticker segments that are also in
    the LLM basket; without prices to rebuild it, it is estimated, flagged and not pooled."""
    shared = C.shared_members(LLM, TAXONOMY)
    if not shared:
        pytest.skip("the taxonomy's baskets are disjoint")
    rng = np.random.default_rng(7)
    m, llm, Y = simulate(rng, [0.0] * 7)
    levels, spy = to_levels(m[0], llm[0], Y[0])
    name = next(iter(shared))
    levels[name] = 100 * np.exp(np.log(levels[LLM] / 100) * 0.95)   # a near-copy of the LLM basket
    con = C.contagion(_rounds(rng, 0.0), levels, spy)
    row = con.returns.table.set_index("basket").loc[name]
    assert not row["in_pooled"] and row["shared_members"]
    assert row["beta"] > 0.9                                  # mechanical co-movement, visibly flagged
    assert con.returns.pooled.series == 7                     # the shared basket is not in it
    assert any(TAXONOMY.label(name) in n for n in con.notes)


def test_shared_members_are_removed_when_prices_are_given(tmp_path):
    """With a taxonomy in which a non-LLM basket holds one chip name also in the LLM basket,
    the basket is rebuilt from its other members only."""
    raw = yaml.safe_load(open(TAXONOMY_PATH := __import__("analysis.config", fromlist=["x"]).TAXONOMY_PATH))
    raw["baskets"]["robotics_automation"]["ticker_segments"] = ["robotics_automation", "hyperscaler"]
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw))
    tax = load_taxonomy(path)
    assert TAXONOMY_PATH.exists()
    tickers = pd.DataFrame({"ticker": ["MSFT", "NVDA", "TER"], "segment": ["hyperscaler", "ai_chips", "robotics_automation"],
                            "is_benchmark": [False, False, False]})
    days = pd.bdate_range("2019-01-01", periods=800)
    rng = np.random.default_rng(8)
    closes = {t: 50 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days)))) for t in tickers["ticker"]}
    prices = pd.DataFrame([{"date": d, "ticker": t, "close": closes[t][i]} for t in closes for i, d in enumerate(days)])

    class Universe:
        pass

    u = Universe()
    u.tickers, u.prices = tickers, prices
    assert C.shared_members(LLM, tax, tickers)["robotics_automation"] == ("MSFT",)
    levels = pd.DataFrame({LLM: 1.0, "robotics_automation": 2.0}, index=days)
    out, unresolved, notes = C.disjoint_levels(levels, LLM, u, tax)
    assert unresolved == {}
    np.testing.assert_allclose(out["robotics_automation"].to_numpy(), 100 * closes["TER"] / closes["TER"][0])
    assert "MSFT" in notes[0]


def test_funding_comovement_on_non_overlapping_quarters():
    rng = np.random.default_rng(9)
    rounds = _rounds(rng, 0.8)
    fc = C.funding_comovement(rounds, TAXONOMY.llm_domains("broad"), "Q", end="2026-06-30")
    assert fc.periods == 30
    assert fc.pooled.n == 29                                   # consecutive quarters: no overlap
    lo, hi = fc.pooled.interval()
    assert lo < 0.8 < hi
    row = fc.table.set_index("domain").loc["robotics"]
    assert row["changes"] == 29 and row["beta"] == pytest.approx(fc.pooled.beta)
    assert fc.table.set_index("domain").loc["video", "note"].startswith("0 periods")
    # a quarter not yet over is not a fall in funding
    assert C.funding_comovement(rounds, TAXONOMY.llm_domains("broad"), "Q", end="2026-05-15").periods == 29


def test_claim_without_market_data_uses_funding_and_says_so():
    rng = np.random.default_rng(10)
    claim = C.claim_contagion(_rounds(rng, 0.0), None, None, end="2026-06-30")
    assert not claim.uses_prices and claim.details["primary"] == "funding"
    assert claim.n_eff["periods"] > 10 and claim.verdict in ("supported", "leaning_supported")
    thin = _rounds(rng, 0.0, pd.period_range("2024Q1", "2025Q2", freq="Q"))
    nt = C.claim_contagion(thin, None, None, end="2025-06-30")
    assert nt.verdict == "not_testable" and "periods" in nt.evidence


def test_real_snapshot_numbers():
    """On the shared market snapshot: the claim runs on 2019+ weekly data with SPY, every beta
    has its interval and n_eff, and the sentence matches the table."""
    from tests.conftest import require_shared_market

    market = require_shared_market()
    from analysis.baskets import market_context
    from analysis.data.ledger import load_ledger
    from analysis.data.prices_import import import_prices

    stocks = sorted(p for p in (market / "stocks").glob("*.csv") if p.stem != "YHOO")
    import_prices(stocks + [market / "etfs" / f"{e}.csv" for e in ("SPY", "BOTZ", "ROBO")])
    ctx = market_context("2026-08-21", offline=True)
    con = C.contagion(load_ledger().rounds, ctx.levels, ctx.benchmark, universe=ctx.universe, end="2026-08-21")
    claim = con.claim()
    assert claim.uses_prices and claim.details["primary"] == "returns"
    assert claim.interval[0] < claim.effect < claim.interval[1]
    assert 200 < claim.n_eff["weeks"] <= 396
    t = con.returns.table
    est = t[t["beta"].notna()]
    assert est[["ci_low", "ci_high", "n_eff"]].notna().all().all()
    assert f"{int(est['co_moves'].sum())} move" in con.returns.text()
