"""The exchange format: one row per respondent, one column per item (CSV and friends)."""
