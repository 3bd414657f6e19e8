"""Framework API routes (filled in by the framework work); describe them with openapi.extend()."""
