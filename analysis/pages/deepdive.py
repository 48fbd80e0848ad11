"""The domain deep-dive page (``notebooks/briefings/domain-deep-dive.ipynb``): one domain's
funding, valuations and listed exposure, from :func:`analysis.sections.domain.deep_dive`."""

from __future__ import annotations

from analysis.sections.domain import DomainDeepDive


def show(dd: DomainDeepDive) -> None:
    """Display the deep-dive: funding, valuations, listed exposure (tables with escaped text)."""
    from IPython.display import Markdown, display

    from analysis import baskets, plots
    from analysis.display import md_text
    from analysis.sections.signals import signal_sentence

    money = {"raised_amount_usd": "{:,.0f}", "post_money_valuation_usd": "{:,.0f}"}
    display(Markdown(f"## Funding\n\n{md_text(dd.label)}: {dd.view.rounds} rounds in the ledger."))
    if len(dd.domain_share.dropna(subset=["share"])):
        display(plots.domain_share_chart(dd.domain, dd.domain_share))
    if dd.view.funding is not None:
        display(plots.funding_by_domain_chart(dd.view.funding))
    display(Markdown("### Largest rounds"))
    display(dd.view.largest.style.format(money, escape="html", na_rep="").hide(axis="index"))
    if len(dd.view.investors):
        display(plots.investor_chart(dd.view.investors))
    display(Markdown("## Valuations"))
    v = dd.metrics["valuation"]
    if len(dd.pairs):
        display(Markdown(f"{v['priced_pairs']} consecutive priced rounds; median step-up "
                         f"{v['median_step_up']:.2f}x (pre-money of the later round over post-money of the earlier)."))
    else:
        display(Markdown("No company of this domain has two priced rounds in the ledger: no step-ups."))
    if dd.index is not None:
        display(plots.valuation_index_chart({dd.label: dd.index}, segments=(dd.label,)))
    else:
        display(Markdown("Too few repeat-round pairs for a valuation index (need 3 in different years)."))
    if len(dd.multiples):
        display(plots.multiples_chart(dd.multiples))
    display(Markdown("### Highest valuations"))
    display(dd.view.valuations.style.format(money, escape="html", na_rep="").hide(axis="index"))
    display(Markdown("## Listed exposure"))
    if dd.listed.available:
        display(Markdown(md_text(dd.listed.note)))
        display(plots.basket_chart(dd.listed.basket))
        display(dd.listed.basket.summary().style.format(
            {"total_return": "{:.1%}", "cagr": "{:.1%}", "level": "{:,.1f}"}, escape="html").hide(axis="index"))
        display(dd.listed.drawdown.style.format({"current": "{:.0%}", "max_drawdown": "{:.0%}"}, na_rep="not yet",
                                                escape="html").hide(axis="index"))
        display(plots.underwater_chart(baskets.drawdown(dd.listed.basket.level.rename(dd.listed.basket.name)),
                                       dd.listed.note))
        if dd.listed.signal is not None:
            display(Markdown("### Market bubble signal\n\n" + signal_sentence(dd.metrics["listed"]["signal"])))
            display(plots.signal_panel_chart(dd.listed.signal))
            display(plots.signal_components_chart(dd.listed.signal))
    else:
        display(Markdown(f"**Notice:** {dd.listed.notice}"))  # our own text, with Markdown in it
    if len(dd.listed.members):
        display(dd.listed.members.style.format(escape="html").hide(axis="index"))
