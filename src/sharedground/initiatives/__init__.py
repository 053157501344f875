"""Acting on the results: the register of improvement initiatives a trust runs.

Modules, one concept each: `kinds` (what an initiative can be), `models` (its tables),
`register` (add, list, show, update, end, with stage and progress history), `io` (the
register as CSV/XLSX), `participants` (a programme's cohort), `pairs` (doctor–manager
pairing by an assignment solver) and `pulse` (the short before/after questionnaire).
"""
