"""Analysis of a wave: the report's tables, trends, benchmarks, and the statistics behind them.

* `source`: a wave out of the store as a coded frame (`encoding`), through a columnar cache;
* `rows`, `counting`, `grouping`: what each table row counts, counted for every group at once;
* `tables`: `analyse`, every table with denominators, tests and summaries (`summaries`);
* `trend`: against the published 2002/2015 figures (`published`) or another stored wave;
* `benchmark`: each trust against everyone else, the national figures and funnel limits;
* `significance`: the test per row and its stars; `stats`: the statistics themselves;
* `suppression`: small cells withheld so that subtraction cannot recover them;
* `render`, `views`: Rich tables, JSON (`schema.json`), CSV and Excel.

Nothing is imported here, so that `sharedground.analysis.stats` can be used on its own.
"""
