"""The export formats, named apart from the exporter so the command line can offer them
without importing Polars."""

from typing import Literal

Format = Literal["csv", "xlsx", "sav", "dta", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "sav", "dta", "parquet")
