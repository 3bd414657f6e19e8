"""The warehouse ETL: extract the register and accepted returns, transform
them into a star schema and marts (pure DataFrame functions in
`transform/`), apply disclosure control (`monitor.disclosure`) to every
board row, and load, fully or incrementally, with a run log and checks."""
