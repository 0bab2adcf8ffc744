"""The steps of an emergency plan form a DAG: order them, and refuse cycles by naming one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class HasDeps(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def depends_on(self) -> list[str]: ...


S = TypeVar("S", bound=HasDeps)


def order_keys(graph: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Keys in an order where every key comes after those it depends on (stable: ties keep
    the given order), or ValueError naming the duplicate, unknown dependency or cycle."""
    deps: dict[str, list[str]] = {}
    for key, needs in graph:
        if key in deps:
            raise ValueError(f"step key {key!r} is used twice")
        deps[key] = list(dict.fromkeys(needs))
    for key, needs in deps.items():
        for need in needs:
            if need == key:
                raise ValueError(f"step {key!r} depends on itself")
            if need not in deps:
                raise ValueError(f"step {key!r} depends on {need!r}, which is not a step")
    done: list[str] = []
    placed: set[str] = set()
    pending = list(deps)
    while pending:
        ready = [k for k in pending if all(d in placed for d in deps[k])]
        if not ready:
            raise ValueError(f"steps form a cycle: {' → '.join(find_cycle(deps, pending))}")
        for key in ready:
            placed.add(key)
            done.append(key)
        pending = [k for k in pending if k not in placed]
    return done


def find_cycle(deps: dict[str, list[str]], among: Sequence[str]) -> list[str]:
    """One cycle among `among` (which has no step free of dependencies), closed: a, b, a."""
    start = among[0]
    path: list[str] = [start]
    seen = {start: 0}
    node = start
    while True:
        node = next(d for d in deps[node] if d in among)
        if node in seen:
            return [*path[seen[node] :], node]
        seen[node] = len(path)
        path.append(node)


def order_steps(steps: Sequence[S]) -> list[S]:
    by_key = {s.key: s for s in steps}
    return [by_key[k] for k in order_keys([(s.key, s.depends_on) for s in steps])]
