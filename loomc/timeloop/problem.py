"""The workload: problem dimensions, their bounds, and the data spaces they index.

A Timeloop problem is a perfectly nested loop over named dimensions (``C M R S
N P Q`` for a convolution) with an instance giving each dimension's bound.
Each data space (tensor) is indexed by affine projections of the dimensions:
one projection per tensor rank, each a sum of ``coefficient * dimension``
terms (``Inputs[w] = Wstride*P + Wdilation*R``).  ``read_write`` marks the
output tensor, whose elements are updated (reduced) rather than only read.

Dense workloads only: density annotations other than 1.0 are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from loomc.timeloop.yamlio import Node


@dataclass(frozen=True)
class DataSpace:
    """One tensor of the workload.

    ``projection[k]`` lists the terms of tensor rank ``k`` as
    ``(dimension index, coefficient value)`` pairs; the coordinate along rank
    ``k`` of the element touched at operation point ``x`` is
    ``sum(coef * x[dim] for dim, coef in projection[k])``.
    """

    name: str
    projection: tuple[tuple[tuple[int, int], ...], ...]
    read_write: bool = False

    def extent(self, spans: tuple[int, ...]) -> tuple[int, ...]:
        """Per-rank extent of the box touched by an operation box of size ``spans``.

        Timeloop keeps tiles as axis-aligned boxes spanning from the smallest to
        the largest projected coordinate, so each rank spans
        ``sum(coef * (span - 1)) + 1``.
        """
        return tuple(
            sum(coef * (spans[d] - 1) for d, coef in terms) + 1 for terms in self.projection
        )

    def size(self, spans: tuple[int, ...]) -> int:
        """Number of elements in the box touched by an operation box of size ``spans``."""
        n = 1
        for e in self.extent(spans):
            n *= e
        return n

    def relevant_dims(self) -> frozenset[int]:
        """Dimensions that move this tensor's coordinates (the others are reuse dimensions)."""
        return frozenset(d for terms in self.projection for d, coef in terms if coef != 0)


@dataclass(frozen=True)
class Problem:
    """A dense workload: dimension names and bounds plus its data spaces."""

    name: str
    dims: tuple[str, ...]
    bounds: tuple[int, ...]
    data_spaces: tuple[DataSpace, ...]
    coefficients: tuple[tuple[str, int], ...] = ()

    def dim_index(self, name: str) -> int:
        return self.dims.index(name)

    def bound(self, name: str) -> int:
        return self.bounds[self.dims.index(name)]

    def data_space_index(self, name: str) -> int:
        for i, ds in enumerate(self.data_spaces):
            if ds.name == name:
                return i
        raise KeyError(name)

    @property
    def computes(self) -> int:
        """Number of operations (product of all dimension bounds)."""
        n = 1
        for b in self.bounds:
            n *= b
        return n

    def tensor_sizes(self) -> tuple[int, ...]:
        """Elements of each data space over the whole problem."""
        return tuple(ds.size(self.bounds) for ds in self.data_spaces)


_SHAPE_KEYS = ("name", "dimensions", "coefficients", "data_spaces", "version")
_DS_KEYS = ("name", "projection", "read_write")


def parse_problem(node: Node) -> Problem:
    """Parse a ``problem:`` section (v0.3 or v0.4; ``shape`` + ``instance``)."""
    prob = node.mapping()
    node.check_keys(("version", "shape", "instance"))
    if "shape" not in prob:
        raise node.error("missing 'shape'")
    if "instance" not in prob:
        raise node.error("missing 'instance'")
    shape = node.child("shape")
    shape.check_keys(_SHAPE_KEYS)
    name = shape.child("name").as_str() if shape.has("name") else "problem"
    if not shape.has("dimensions"):
        raise shape.error("missing 'dimensions'")
    dims = tuple(shape.child("dimensions").as_str_list())
    if len(set(dims)) != len(dims):
        raise shape.child("dimensions").error("dimension names must be unique")

    inst = node.child("instance")
    inst_map = inst.mapping()

    coefficients: dict[str, int] = {}
    if shape.has("coefficients") and shape.child("coefficients").value:
        for c in shape.child("coefficients").items():
            c.check_keys(("name", "default"))
            cname = c.child("name").as_str()
            coefficients[cname] = c.child("default").as_int() if c.has("default") else 1

    bounds: list[int] = []
    for d in dims:
        if d not in inst_map:
            raise inst.error(f"no bound for dimension '{d}'")
        bounds.append(inst.child(d).as_int(minimum=1))
    for key in inst_map:
        if key in dims:
            continue
        if key in coefficients:
            coefficients[key] = inst.child(key).as_int()
        elif key == "densities":
            dens = inst.child("densities").value
            if dens:
                raise inst.child("densities").error(
                    "densities (sparse workloads) are not supported: loomc models dense "
                    "workloads only", "TL_SPARSE")
        else:
            raise inst.child(key).error(
                f"'{key}' is neither a dimension nor a coefficient of the shape")

    if not shape.has("data_spaces"):
        raise shape.error("missing 'data_spaces'")
    spaces = []
    for ds in shape.child("data_spaces").items():
        ds.check_keys(_DS_KEYS)
        dname = ds.child("name").as_str()
        proj = _parse_projection(ds.child("projection"), dims, coefficients)
        rw = ds.child("read_write").as_bool() if ds.has("read_write") else False
        spaces.append(DataSpace(dname, proj, rw))
    if not spaces:
        raise shape.child("data_spaces").error("no data spaces")
    return Problem(name, dims, tuple(bounds), tuple(spaces), tuple(sorted(coefficients.items())))


def _parse_projection(node: Node, dims: tuple[str, ...],
                      coefficients: dict[str, int]) -> tuple[tuple[tuple[int, int], ...], ...]:
    ranks = []
    for rank in node.items():
        terms = []
        for term in rank.items():
            parts = term.as_str_list() if isinstance(term.value, list) else [term.as_str()]
            dim = None
            coef = 1
            for p in parts:
                if p in dims and dim is None:
                    dim = dims.index(p)
                elif p in coefficients:
                    coef *= coefficients[p]
                else:
                    try:
                        coef *= int(p)
                    except ValueError:
                        raise term.error(
                            f"'{p}' is neither a dimension nor a coefficient") from None
            if dim is None:
                raise term.error("projection term names no dimension")
            terms.append((dim, coef))
        ranks.append(tuple(terms))
    return tuple(ranks)
