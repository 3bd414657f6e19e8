"""Pure transforms: DataFrames in, DataFrames out, no database and no clock
(the as-at date is an argument), so each is tested on small literal frames."""
