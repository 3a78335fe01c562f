"""Iterative depth-first search that reports back edges.

Two passes need the same walk over a directed graph given by a successor
function: the fabric verifier looks for a configured combinational loop (a back
edge closes one) and the mapper's performance proxy drops back edges so a
longest path exists through loops.  The walk is iterative because large DFGs and
module bodies are deeper than Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def dfs_edges(
    roots: Iterable[N], successors: Callable[[N], Iterable[N]]
) -> Iterator[tuple[N, N, bool, list[N]]]:
    """Every edge the search explores, as ``(node, successor, is_back, path)``.

    Roots are started in the given order, skipping nodes an earlier root reached;
    successors are followed in the order ``successors`` gives them.  ``is_back``
    is True when the successor is still on the current DFS path, i.e. the edge
    closes a cycle; ``path`` is that path from the root to ``node`` (a live list,
    valid until the iterator is advanced).  Successors already finished are
    reported (``is_back`` False) but not entered again."""
    state: dict[N, int] = {}  # 1 = on the path, 2 = finished
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(successors(root)))]
        path = [root]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            seen = state.get(nxt)
            yield node, nxt, seen == 1, path
            if seen is None:
                state[nxt] = 1
                stack.append((nxt, iter(successors(nxt))))
                path.append(nxt)
