"""Returns API routes (filled in by the returns work); describe them with openapi.extend()."""
