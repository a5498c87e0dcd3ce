"""`--json` output: dataclasses to plain JSON, with the derived fields a script wants."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.domain import ProcessInfo


def to_plain(obj: Any) -> Any:
    if isinstance(obj, ProcessInfo):
        data = {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        data.update(
            display_name=obj.display_name,
            full_name=obj.full_name,
            uptime=obj.uptime,
            crashed=obj.crashed,
            bucket=obj.bucket,
        )
        return data
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_plain(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(to_plain(obj), indent=2, ensure_ascii=False, default=str)
