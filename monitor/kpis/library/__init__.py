"""The KPI library: definitions (code, unit, direction, roll-up, breakdowns,
numerator and denominator) and the rules that keep them consistent, with the
admin pages that manage them."""
