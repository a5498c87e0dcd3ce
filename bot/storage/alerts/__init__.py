"""Where the alerts keep their state: every alerts query is in this package.

`store.AlertStore` is the interface (records in, records out, transactions inside);
`tx.AlertTx` is what runs inside one transaction (outbox heads are claimed there, row-locked
on PostgreSQL); `rows` turns rows into records. The tables are in bot/storage/tables.py.
"""
