"""A stand-in for `php artisan`: prints a real schedule:list output kept next to this file.

FAKE_ARTISAN_LISTING names the file. A text listing is an older Laravel: `--json` fails the
way Laravel fails on an unknown option. schedule:run / schedule:test print what Laravel 11 does;
FAKE_ARTISAN_EXIT makes them end with that exit code (a failing task).
"""

import os
import sys
from pathlib import Path

args = sys.argv[1:]
listing = Path(__file__).with_name(os.environ["FAKE_ARTISAN_LISTING"])
if args[:1] == ["schedule:list"]:
    if "--json" in args and listing.suffix != ".json":
        print('\n   ERROR  The "--json" option does not exist.\n', file=sys.stderr)
        sys.exit(1)
    print(listing.read_text(encoding="utf-8"), end="")
elif args[:1] == ["schedule:run"]:
    print("\n  2023-01-01 00:01:00 Running ['artisan' foobar a='b'] ... 12ms DONE")
    print("  ⇂ '/usr/bin/php8.2' 'artisan' foobar a='b' > '/dev/null' 2>&1\n")
elif args[:1] == ["schedule:test"]:
    name = args[1].removeprefix("--name=")
    print(f"\n  Running [artisan {name}] ........................... 3ms DONE\n")
else:
    print(f'\n   ERROR  Command "{" ".join(args)}" is not defined.\n', file=sys.stderr)
    sys.exit(1)
if args[:1] in (["schedule:run"], ["schedule:test"]):
    sys.exit(int(os.environ.get("FAKE_ARTISAN_EXIT", "0")))
