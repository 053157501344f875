"""The admin area: fieldwork monitoring, paper data entry, results for organisation leads.

One views module per page type (`login`, `home`, `monitor`, `results`, `contacts`,
`paper`, `audit`, `accounts`) plus the respondents' opt-out page (`optout`), which belongs to
fieldwork rather than to the survey. `routes` is what `web.app` mounts.
"""
