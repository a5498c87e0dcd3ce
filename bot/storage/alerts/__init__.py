"""Where the alerts keep their state: every alerts query is in this package.

`store.AlertStore` is the interface (records in, records out, transactions inside);
`tx.AlertTx` is what runs inside one transaction; `claims` picks the outbox heads to claim;
`rows` turns rows into records; `feed` keeps the audit channel's cursor. The tables are in
bot/storage/tables.py.
"""
