"""Weights and design-based inference for a wave.

* `variance`: linearised (co)variances for a stratified design without clusters, from
  per-stratum sums of weights and squared weights (`sums`);
* `proportions`: weighted percentages with SEs and logit / beta 95% intervals (svyciprop);
* `raoscott`: Rao-Scott F, first-order chi-squared and Wald tests across groups (svychisq).

Every figure is checked against R's survey package (tests/analysis/weights).
"""
