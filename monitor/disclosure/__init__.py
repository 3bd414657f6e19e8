"""Disclosure control: the one place that decides whether a board-facing
figure is shown, hidden (`[c]`), not available (`[x]`) or not applicable
(`[z]`). Primary and secondary suppression, percentages and derived figures,
ratings hidden with their figure, and the audit that proves, by linear
programming over everything a viewer sees, that no small count can be
narrowed to fewer values than 1 to the threshold and no hidden figure
worked out. Pure Python (pandas, numpy, scipy): no Flask, no database.
The ETL applies it to the warehouse's board rows; every other surface reads
those rows."""
