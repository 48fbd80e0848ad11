"""The domain deep-dive page (``notebooks/briefings/domain-deep-dive.ipynb``): one domain's
funding, valuations and listed exposure, from :func:`analysis.sections.domain.deep_dive`."""

from __future__ import annotations

from analysis.sections.domain import DomainDeepDive


def show(dd: DomainDeepDive, data_to=None) -> None:
    """Display the deep-dive: funding, valuations, listed exposure (reader tables, escaped text).

    ``data_to``: the date the funding data stop (the partial year or quarter is marked).
    """
    from IPython.display import Markdown, display

    from analysis import baskets, plots
    from analysis.display import md_text
    from analysis.sections.signals import signal_sentence
    from analysis.tables import reader_table

    display(Markdown(f"## Funding\n\n{md_text(dd.label)}: {dd.view.rounds} rounds in the ledger."))
    if len(dd.domain_share.dropna(subset=["share"])):
        display(plots.domain_share_chart(dd.domain, dd.domain_share, data_to=data_to))
    if dd.view.funding is not None:
        display(plots.funding_by_domain_chart(dd.view.funding, data_to=data_to))
    display(Markdown("### Largest rounds"))
    display(reader_table(dd.view.largest))
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
        display(plots.valuation_index_chart({dd.label: dd.index}, segments=(dd.label,), data_to=data_to))
    else:
        display(Markdown("Too few repeat-round pairs for a valuation index (need 3 in different years)."))
    if len(dd.multiples):
        display(plots.multiples_chart(dd.multiples))
    display(Markdown("### Highest valuations"))
    display(reader_table(dd.view.valuations))
    display(Markdown("## Listed exposure"))
    if dd.listed.available:
        display(Markdown(md_text(dd.listed.note)))
        display(plots.basket_chart(dd.listed.basket))
        display(reader_table(dd.listed.basket.summary(), pct_decimals=1))
        display(reader_table(dd.listed.drawdown))
        display(plots.underwater_chart(baskets.drawdown(dd.listed.basket.level.rename(dd.listed.basket.name)),
                                       dd.listed.note))
        if dd.listed.signal is not None:
            display(Markdown("### Market bubble signal\n\n" + signal_sentence(dd.metrics["listed"]["signal"])))
            display(plots.signal_panel_chart(dd.listed.signal))
            display(plots.signal_components_chart(dd.listed.signal))
    else:
        display(Markdown(f"**Notice:** {dd.listed.notice}"))  # our own text, with Markdown in it
    if len(dd.listed.members):
        display(reader_table(dd.listed.members, caption="Listed companies of the domain"))
