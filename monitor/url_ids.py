"""The largest record id: PostgreSQL's integer column stops at 2**31 - 1.

Views and the API check an id from a URL against it before querying, so a
longer number is "not found" rather than a database error (a 500).
"""

from __future__ import annotations

LARGEST_ID = 2**31 - 1
