"""The performance framework and quarterly KPI returns, by sub-domain:
`library` (KPI definitions), `framework` (targets per contract and quarter),
`returns` (calendar, template, ingest, review, reminders) and `performance`
(ratings, outcomes, the performance pages). `models` and `periods` are
shared by all four."""
