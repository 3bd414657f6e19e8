"""Record ids in URLs: `<int:...>` only matches ids the database can hold.

PostgreSQL's integer column stops at 2**31 - 1; a longer number in a URL
reached the database and failed there ("integer out of range", a 500). With
this converter in place of Flask's own, such a URL is simply not found.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)
