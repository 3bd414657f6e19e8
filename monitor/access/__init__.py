"""Who a person is to the system and what they may see or do: roles, the
warehouse viewer key (built, parsed and checked here only) and the rules
that every page, API call, report, dashboard and the ETL consult. Pure
Python: no Flask, no database session."""
