"""Where the alerts keep their state: every alerts SQL statement is in this package.

`store.AlertStore` is the interface (records in, records out, transactions inside);
`tx.AlertTx` is what runs inside one write transaction; `schema` and `rows` are the tables and
the row → record conversions. Porting the alerts to another database means porting this.
"""
