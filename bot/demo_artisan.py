"""The demo's stand-in for `php artisan` (no PHP needed): `list --format=json` for
`[[command_sources]]`, `schedule:list [--json] [-v]` shaped like Laravel 12's for
`[[job_sources]]`, `schedule:run`, `schedule:test --name=…`, and a few commands."""

ARTISAN = r"""
import json, sys, time
from datetime import datetime, timezone
from croniter import croniter

SCHEDULE = [
    ("*/5 * * * *", "php artisan cache:prune-stale-tags", "Forget expired cache tags"),
    ("0 3 * * *", "php artisan backup:run", "Nightly backup"),
    ("0 9 * * 1", "php artisan report:weekly", None),
]
COMMANDS = {
    "cache:clear": "Flush the application cache",
    "app:greet": "Say hello to someone",
    "migrate:status": "Show the status of each migration",
    "inspire": "Display an inspiring quote",
}
args = sys.argv[1:]
now = datetime.now(timezone.utc)


def due(expr):
    return croniter(expr, now).get_next(datetime)


if args[:1] == ["list"]:
    print(json.dumps({"commands": [{"name": n, "description": d} for n, d in COMMANDS.items()]}))
elif args[:1] == ["schedule:list"]:
    rows = [
        {"expression": e, "command": c, "description": d,
         "next_due_date": due(e).strftime("%Y-%m-%d %H:%M:%S +00:00"),
         "next_due_date_human": "soon", "timezone": "UTC", "has_mutex": False,
         "repeat_seconds": None, "environments": []}
        for e, c, d in SCHEDULE
    ]
    print(json.dumps(rows).replace("/", "\\/"))
elif args[:1] == ["schedule:run"]:
    print()
    ready = [c for e, c, _ in SCHEDULE if croniter.match(e, now.replace(second=0, microsecond=0))]
    for c in ready:
        print(f"  {now:%Y-%m-%d %H:%M:%S} Running ['artisan' {c[12:]}] ... 8ms DONE")
    if not ready:
        print("   INFO  No scheduled commands are ready to run.")
elif args[:1] == ["schedule:test"]:
    name = args[1].removeprefix("--name=")
    print(f"\n  Running [artisan {name}] .................... 5ms DONE\n")
elif args[:1] == ["app:greet"]:
    print(f"Hello, {args[1] if len(args) > 1 else 'world'}!")
elif args[:1] == ["migrate:status"]:
    for i, m in enumerate(["create_users_table", "create_orders_table", "add_index_to_orders"]):
        print(f"  2024_01_0{i + 1}_000000_{m} ........ [{i + 1}] Ran")
elif args[:1] == ["cache:clear"]:
    print("\n   INFO  Application cache cleared successfully.\n")
elif args[:1] == ["inspire"]:
    print("  “ Simplicity is the ultimate sophistication. ”\n  — Leonardo da Vinci")
elif args[:1] == ["app:heartbeat"]:
    print(f"heartbeat ok at {now:%H:%M:%S}")
elif args[:1] == ["app:sync-invoices"]:
    print("syncing invoices from the billing API …")
    print("error: billing API answered 503 Service Unavailable", file=sys.stderr)
    sys.exit(2)
else:
    print(f'\n   ERROR  Command "{" ".join(args)}" is not defined.\n', file=sys.stderr)
    sys.exit(1)
"""
