"""Evaluating initiatives: did the participants change, did the trusts that started one improve
more than those that did not, and which kinds of initiative work.

Every function takes plain tables (Polars or pandas DataFrames) so the library can be used on
the register's data and on the synthetic programme scenario alike:

- `paired`: paired tests of one group's before/after answers (exact McNemar, Wilcoxon
  signed-rank, sign test), each with a 95% confidence interval of the change.
- `beforeafter`: those tests per initiative, for participants and the same trust's
  non-participants.
- `did`: difference-in-differences with staggered starts (Callaway & Sant'Anna group-time
  effects), aggregated overall and by time since start, with trust-clustered bootstrap CIs.
- `spc`: statistical process control charts (XmR, p) with the *Making Data Count* rules.
- `works`: the "what works" table and its stated verdict rule.
"""
