"""Comparing areas with their comparison group: the statistics, as pure functions."""
