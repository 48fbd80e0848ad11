"""The ledger's fixed vocabularies and patterns, shared by the schemas, loaders and importers.

Kept apart from :mod:`analysis.data.schemas` so that code which only needs the words (the
importers, the parameter checks) does not pay for importing pandera.
"""

from __future__ import annotations

#: Crunchbase's ``investment_type`` enumeration (bulk export), the vocabulary of the ledger.
INVESTMENT_TYPES = [
    "angel", "pre_seed", "seed", "series_a", "series_b", "series_c", "series_d", "series_e",
    "series_f", "series_g", "series_h", "series_i", "series_j",
    # Crunchbase's enum stops at series_j; a few AI companies (Databricks) have gone further.
    "series_k", "series_l", "series_unknown",
    "corporate_round", "private_equity", "secondary_market", "debt_financing", "convertible_note",
    "grant", "undisclosed", "equity_crowdfunding", "product_crowdfunding", "post_ipo_equity",
    "post_ipo_debt", "post_ipo_secondary", "initial_coin_offering", "non_equity_assistance",
]
#: Rounds that move existing shares or lend money rather than sell new equity.
NOT_NEW_EQUITY = {"secondary_market", "post_ipo_secondary", "debt_financing", "post_ipo_debt"}

INVESTOR_TYPES = ["vc", "corporate_cloud", "corporate_chip", "corporate_other", "sovereign",
                  "pe_crossover", "other"]
CONFIDENCE = ["confirmed", "reported"]
URL_PATTERN = r"^https?://\S+$"
ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

# --------------------------------------------------------------------------------------------
# Data model v2 (issue #15): the kind of money in a round, its stage, regions, relationships
# between investors and companies, and the tiers of the publishers the data cites.
# --------------------------------------------------------------------------------------------

#: What a round row's money is (one type per row; a mixed round is split into several rows).
MONEY_TYPES = ["equity_cash", "committed_tranche", "in_kind_compute", "secondary", "debt", "grant",
               "convertible", "other"]
#: The headline "new money" of the analyses: cash for new shares and convertibles (notes, SAFEs).
NEW_MONEY_TYPES = ("equity_cash", "convertible")
#: Announced but not (yet) reported paid: shown beside new money, never inside it.
COMMITMENT_TYPES = ("committed_tranche",)
#: What publishers of market totals count as a round's size (announced rounds, tranches and
#: compute given as investment included; secondaries, debt and grants not).
ANNOUNCED_TYPES = ("equity_cash", "convertible", "committed_tranche", "in_kind_compute")
STAGES = ["seed", "early", "late", "growth", "strategic", "post_ipo", "other"]
REGIONS = ["US", "China", "Europe", "Israel", "India", "Canada", "Other Asia-Pacific", "Middle East", "Other"]
RELATIONSHIPS = ["parent", "cloud_supplier", "chip_supplier", "customer", "strategic"]
PUBLISHER_TIERS = ["primary", "tier1", "secondary"]
#: The separator between a split round's base id and its part (``openai-2025-03-31-x--cash``).
SPLIT_SEPARATOR = "--"
