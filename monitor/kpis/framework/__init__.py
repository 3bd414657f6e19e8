"""Each contract's performance framework: which KPIs apply, their targets
and RAG tolerances, effective from and to a quarter, so every past quarter
is judged by the framework then in force."""
