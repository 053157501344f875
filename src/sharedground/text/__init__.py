"""What people wrote: sources (comments and transcripts), coding frames, codings, agreement
between coders, themes by role group, quotations, theme suggestions and REFI-QDA exchange.

One module per concept: `frames` (coding frames as YAML), `sources` (comments and
transcripts in the store), `coding` (codings, CSV import), `agreement` (kappa and alpha),
`themes` (the framework matrix by role group, suppressed), `quotations`, `suggest` (NMF
suggestions), `refi` (REFI-QDA .qdpx/.qdc). Heavy libraries are imported by the modules
that need them, so importing this package costs nothing.
"""
