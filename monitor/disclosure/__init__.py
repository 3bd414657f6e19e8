"""Disclosure control: the one place that decides whether a board-facing
figure is shown, hidden (`[c]`), not available (`[x]`) or not applicable
(`[z]`). Primary and secondary suppression, percentages and derived figures,
ratings hidden with their figure, and the audit that proves no hidden count
can be narrowed. Pure Python (pandas, numpy, scipy): no Flask, no database.
The ETL applies it to the warehouse's board rows; every other surface reads
those rows."""
