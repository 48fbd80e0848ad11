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
