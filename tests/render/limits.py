"""Block Kit limits, checked on the serialized message (what Slack would receive)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

TOTAL_TEXT = 12_000  # Slack refuses messages whose block text is much longer (msg_blocks_too_long)


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def total_text(dicts: Sequence[dict[str, Any]]) -> int:
    return sum(len(d["text"]) for d in _walk(list(dicts)) if isinstance(d.get("text"), str))


def buttons(dicts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in _walk(list(dicts)) if d.get("type") == "button"]


def check_message(
    blocks: Sequence[Block], max_blocks: int = 50, max_text: int = TOTAL_TEXT
) -> list[dict[str, Any]]:
    """Serialize every block (slack_sdk validates many limits then) and check the rest."""
    dicts = [b.to_dict() for b in blocks]
    assert 0 < len(dicts) <= max_blocks, f"{len(dicts)} blocks"
    block_ids = [d["block_id"] for d in dicts if "block_id" in d]
    assert len(block_ids) == len(set(block_ids)), "duplicate block_id"
    assert all(len(b) <= 255 for b in block_ids)
    for d in dicts:
        if d["type"] == "section":
            assert "text" in d or "fields" in d
            assert len(d.get("text", {}).get("text", "")) <= 3000
            assert len(d.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in d.get("fields", []))
        elif d["type"] == "actions":
            assert 0 < len(d["elements"]) <= 25
        elif d["type"] == "context":
            assert 0 < len(d["elements"]) <= 10
        elif d["type"] == "header":
            assert len(d["text"]["text"]) <= 150
    action_ids = [e["action_id"] for e in _walk(dicts) if "action_id" in e]
    assert len(action_ids) == len(set(action_ids)), "duplicate action_id"
    assert all(len(a) <= 255 for a in action_ids)
    for b in buttons(dicts):
        assert 0 < len(b["text"]["text"]) <= 75
        assert len(b.get("value", "")) <= 2000
        if "confirm" in b:
            assert len(b["confirm"]["title"]["text"]) <= 100
            assert len(b["confirm"]["text"]["text"]) <= 300
    assert total_text(dicts) < max_text, f"{total_text(dicts)} chars of text"
    return dicts


def texts(dicts: Sequence[dict[str, Any]]) -> str:
    """Every text a reader would see, one per line."""
    return "\n".join(d["text"] for d in _walk(list(dicts)) if isinstance(d.get("text"), str))
