"""Names and patterns: display name, group, glob, @node; suggestions among visible processes."""

from __future__ import annotations

import pytest

from bot import errors, names
from bot.domain import ProcessInfo


def proc(full: str, node: str = "local", state: str = "RUNNING") -> ProcessInfo:
    group, name = full.split(":")
    return ProcessInfo(node, group, name, state, 1, 0, 0, 0, 0, None, "", "")


FLEET = [
    proc("web:web"),
    proc("worker:worker_00"),
    proc("worker:worker_01"),
    proc("broken:broken", state="FATAL"),
    proc("web:web", node="node2"),
    proc("cron:cron", node="node2"),
]


def keys(found: list[ProcessInfo]) -> list[str]:
    return [p.key for p in found]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web", ["web:web@local", "web:web@node2"]),
        ("web:web", ["web:web@local", "web:web@node2"]),
        ("web@node2", ["web:web@node2"]),
        ("worker", ["worker:worker_00@local", "worker:worker_01@local"]),
        ("worker:worker_00", ["worker:worker_00@local"]),
        ("worker:*", ["worker:worker_00@local", "worker:worker_01@local"]),
        ("worker:worker_0?", ["worker:worker_00@local", "worker:worker_01@local"]),
        ("*@node2", ["web:web@node2", "cron:cron@node2"]),
        ("@node2", ["web:web@node2", "cron:cron@node2"]),
        ("*@node*", ["web:web@node2", "cron:cron@node2"]),
        ("w*@local", ["web:web@local", "worker:worker_00@local", "worker:worker_01@local"]),
        ("cron@local", []),
        ("nothing", []),
    ],
)
def test_pattern_selects_by_group_name_display_name_group_and_node(
    pattern: str, expected: list[str]
) -> None:
    assert keys(names.select(FLEET, pattern)) == expected


def test_display_name_is_as_supervisorctl_shows_it() -> None:
    assert proc("web:web").display_name == "web"
    assert proc("worker:worker_00").display_name == "worker:worker_00"
    assert proc("worker:worker_00").full_name == "worker:worker_00"


@pytest.mark.parametrize(
    ("pattern", "split"),
    [
        ("web", ("web", None)),
        ("web@n2", ("web", "n2")),
        ("@n2", ("*", "n2")),
        ("web@", ("web", None)),
    ],
)
def test_split_node(pattern: str, split: tuple[str, str | None]) -> None:
    assert names.split_node(pattern) == split


def test_unknown_name_suggests_the_closest_visible_names() -> None:
    with pytest.raises(errors.NoSuchProcess) as exc:
        names.resolve(FLEET, "wrker")
    assert exc.value.suggestions[0] == "worker"
    assert "Did you mean: worker" in str(exc.value)
    assert "`status`" in str(exc.value)


def test_suggestions_only_name_processes_the_asker_may_see() -> None:
    visible = [p for p in FLEET if p.group != "broken"]
    with pytest.raises(errors.NoSuchProcess) as exc:
        names.resolve(visible, "broke")
    assert "broken" not in str(exc.value)
    with pytest.raises(errors.NoSuchProcess) as exc:
        names.resolve(FLEET, "broke")
    assert "broken" in exc.value.suggestions


def test_substring_is_a_suggestion_when_nothing_is_close() -> None:
    assert names.suggest("00", FLEET) == ["worker:worker_00"]


def test_empty_pattern_asks_for_a_name() -> None:
    with pytest.raises(errors.UsageError, match="Name a process"):
        names.resolve(FLEET, "  ")


def test_resolve_one_asks_which_process_when_a_group_has_several() -> None:
    with pytest.raises(errors.AmbiguousName) as exc:
        names.resolve_one(FLEET, "worker")
    assert "`worker` matches 2 processes (worker:worker_00, worker:worker_01)" in str(exc.value)


def test_resolve_one_across_nodes_names_the_node() -> None:
    with pytest.raises(errors.AmbiguousName) as exc:
        names.resolve_one(FLEET, "web")
    assert exc.value.matches == ["web@local", "web@node2"]
    assert names.resolve_one(FLEET, "web@node2").node == "node2"
    assert names.resolve_one(FLEET, "worker:worker_01").name == "worker_01"


def test_glob_detection() -> None:
    assert names.is_glob("worker:*") and names.is_glob("w?b") and names.is_glob("[ab]")
    assert not names.is_glob("web@node2")
