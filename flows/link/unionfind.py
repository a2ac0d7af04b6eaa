"""Disjoint sets, the one home of union-find for linking (entity keys, claims of a cluster)."""

from __future__ import annotations

from collections.abc import Callable, Hashable


class UnionFind:
    """Components of hashable items with path halving. `rank` orders candidate roots: of two components
    joined, the one whose root ranks lower keeps its root (deterministic ids whatever the union order)."""

    def __init__(self, rank: Callable[[Hashable], object] = lambda item: item):
        self.parent: dict[Hashable, Hashable] = {}
        self.rank = rank

    def find(self, x: Hashable) -> Hashable:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Hashable, b: Hashable) -> Hashable:
        """Join the components of a and b; the root of the joined component."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        root, child = (ra, rb) if self.rank(ra) <= self.rank(rb) else (rb, ra)
        self.parent[child] = root
        return root
