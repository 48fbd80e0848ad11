"""Figure builders. Every function returns a plotly ``Figure`` with title, axis units, number
formats and a source note set; none calls ``show()``. The style (legend placement, margins,
colours, partial periods) is :mod:`analysis.chartstyle`; display names come from the taxonomy.

Data-derived text (company and investor names, series labels) goes through :func:`safe_text`
before it reaches a trace name, a category label or hover text: plotly renders a subset of
HTML in those (``<a href>`` becomes a live link), so ``<``, ``>`` and ``&`` are escaped.

One module per subject: :mod:`~analysis.plots.funding` (the money), :mod:`~analysis.plots.risk`
(scores, stress test, back-test, calibration), :mod:`~analysis.plots.market` (listed markets and
bubble signals). Callers use ``from analysis import plots; plots.<name>_chart(...)``.
"""

from analysis.chartstyle import (TEMPLATE_NAME, category_rows, display_name, domain_order, finish,  # noqa: F401
                                 safe_text, series_styles, weekly)
from analysis.plots.funding import (DEFINITION_COLORS, DEFINITION_DASH, INVESTOR_TYPE_COLORS,
                                    capex_ratio_chart, capex_vs_funding_chart, concentration_chart,
                                    coverage_chart, domain_share_chart, full_market_share_chart,
                                    funding_by_domain_chart, funding_share_chart,
                                    funding_small_multiples_chart, investor_chart, llm_share_chart,
                                    multiples_chart, share_model_chart, valuation_index_chart)  # noqa: F401
from analysis.plots.market import (BENCHMARK_DASH, SIGNAL_COLORS, ai_basket_chart, basket_chart,
                                   basket_levels_chart, bsadf_chart, line_chart, lppls_confidence_chart,
                                   pd_date, rolling_risk_chart, signal_components_chart, signal_panel_chart,
                                   signal_score_chart, tc_distribution_chart, underwater_chart)  # noqa: F401
from analysis.plots.risk import (PILLAR_COLORS, backtest_chart, calibration_chart, risk_scores_chart,
                                 score_history_chart, stress_chart)  # noqa: F401
