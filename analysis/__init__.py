"""AI bubble-risk workbook: every computation behind the notebooks and briefings."""

__version__ = "0.1.0"
