"""The statutory safe-accommodation return (Domestic Abuse Act 2021, Part 4): its yearly definitions."""
