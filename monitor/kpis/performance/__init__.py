"""Performance: RAG ratings and direction of travel, outcome measures, and
the per-contract and per-commissioner views of how services perform. Boards
read their figures from the warehouse's disclosure-controlled rows."""
