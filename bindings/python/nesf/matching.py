"""Match rate: the field's reconstruction metric, with pymatgen's ``StructureMatcher``.

A decoded (candidate) structure *matches* its reference when
``StructureMatcher(stol, ltol, angle_tol).get_rms_dist(candidate, reference)`` finds a
mapping (the tolerances of CDVAE and its successors: ``stol=0.5, ltol=0.3, angle_tol=10``).
The match rate is the fraction of pairs that match; the mean RMSE is the mean, over matched
pairs, of the first value ``get_rms_dist`` returns: the root-mean-square displacement of the
paired sites **normalised by (V / n)^(1/3)** (V the volume, n the number of sites, after
pymatgen scales both structures to the same volume), so it is dimensionless, not Å.

Use from Python::

    from nesf.matching import match_rate
    result = match_rate(references, decoded)
    print(result)                 # match rate 45.3 % (130/287), mean RMSE 0.123

or on files (any format that :func:`nesf.read` reads: extended XYZ, CIF, POSCAR)::

    python -m nesf.matching data/lcs6-val.extxyz decoded.extxyz [--stol 0.5 --ltol 0.3
        --angle-tol 10] [--json]

Structure i of the reference file is compared with structure i of the decoded file.
pymatgen is needed (``pip install pymatgen``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, List, Optional, Sequence

from ._structure import Structure, kind_of, to_nesf

__all__ = ["MatchResult", "match_rate", "main"]


@dataclass(frozen=True)
class MatchResult:
    """The outcome of :func:`match_rate`.

    Attributes:
        rate: the fraction of pairs that match, 0 to 1 (``percent`` gives 0 to 100).
        mean_rmse: the mean normalised RMSE over the matched pairs (see the module
            documentation: RMS displacement / (V/n)^(1/3), dimensionless); None when no pair
            matches.
        matched: the number of pairs that match.
        total: the number of pairs.
        rmses: per pair, the normalised RMSE, or None when the pair does not match (also for
            a candidate without atoms or without a cell).
    """

    rate: float
    mean_rmse: Optional[float]
    matched: int
    total: int
    rmses: List[Optional[float]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        """The match rate in percent."""
        return 100.0 * self.rate

    def __str__(self) -> str:
        rmse = "n/a" if self.mean_rmse is None else f"{self.mean_rmse:.3f}"
        return (
            f"match rate {self.percent:.1f} % ({self.matched}/{self.total}), mean RMSE {rmse}"
        )

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict (with ``percent`` added)."""
        out = asdict(self)
        out["percent"] = self.percent
        return out


def _to_pymatgen(s: Any) -> Any:
    """A pymatgen structure, or None for a structure that cannot match (no atom, no cell)."""
    if s is None:
        return None
    if kind_of(s) == "pymatgen":
        return s if len(s) else None
    n = to_nesf(s)
    if len(n) == 0 or n.lattice is None:
        return None
    return n.to_pymatgen()


def match_rate(
    references: Sequence[Any],
    candidates: Sequence[Any],
    stol: float = 0.5,
    ltol: float = 0.3,
    angle_tol: float = 10.0,
) -> MatchResult:
    """The match rate of ``candidates[i]`` against ``references[i]`` for every i.

    Each pair is compared with
    ``pymatgen.analysis.structure_matcher.StructureMatcher(stol=stol, ltol=ltol,
    angle_tol=angle_tol).get_rms_dist(candidate, reference)``; a pair matches when that gives
    a result (not None). The RMSE kept per pair is its first element, which pymatgen
    normalises by (V / n)^(1/3) (so it is dimensionless). Pairs whose reduced compositions
    differ cannot match and are not given to the matcher (its answer would be None too); a
    candidate with 0 atoms, without a cell (decoded with ``to="nesf"`` and ``lattice`` None),
    or None never matches.

    Args:
        references: the true structures (``ase.Atoms``, pymatgen ``Structure`` or
            :class:`nesf.Structure`).
        candidates: the decoded structures, as many as ``references``.
        stol, ltol, angle_tol: the matcher's site, lattice-length and angle (degrees)
            tolerances.

    Returns:
        A :class:`MatchResult`.

    Raises:
        ValueError: the two sequences differ in length.
        ImportError: pymatgen is not installed.
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher

    references = list(references)
    candidates = list(candidates)
    if len(references) != len(candidates):
        raise ValueError(
            f"{len(references)} references but {len(candidates)} candidates: structure i of "
            "one is compared with structure i of the other"
        )
    matcher = StructureMatcher(stol=stol, ltol=ltol, angle_tol=angle_tol)
    rmses: List[Optional[float]] = []
    for reference, candidate in zip(references, candidates):
        ref = _to_pymatgen(reference)
        if ref is None:
            raise ValueError("a reference structure has no atoms or no cell")
        cand = None if candidate is None else _to_pymatgen(candidate)
        if cand is None or (
            cand.composition.reduced_composition != ref.composition.reduced_composition
        ):
            rmses.append(None)
            continue
        found = matcher.get_rms_dist(cand, ref)
        rmses.append(None if found is None else float(found[0]))
    matched = [r for r in rmses if r is not None]
    total = len(rmses)
    return MatchResult(
        rate=len(matched) / total if total else 0.0,
        mean_rmse=math.fsum(matched) / len(matched) if matched else None,
        matched=len(matched),
        total=total,
        rmses=rmses,
    )


#: Suffix ``nesf autoencode`` and ``nesf eval --output`` append to the input's id.
DECODED_SUFFIX = "-decoded"


def pair(references: Sequence[Structure], decoded: Sequence[Structure]) -> List[Optional[Structure]]:
    """The decoded structure of every reference, in the references' order (None where there
    is none). When every decoded structure is named ``<reference id>-decoded`` (as
    ``nesf autoencode`` and ``nesf eval --output`` write them; they leave out structures that
    decoded to nothing), structures are paired by id; otherwise structure i with structure i,
    and the two files must hold as many.

    Raises:
        ValueError: no pairing by id, and the counts differ.
    """
    ids = [r.id for r in references]
    names = [d.id for d in decoded]
    if (
        all(i is not None for i in ids)
        and len(set(ids)) == len(ids)
        and all(n is not None and n.endswith(DECODED_SUFFIX) for n in names)
    ):
        by_id = {n[: -len(DECODED_SUFFIX)]: d for n, d in zip(names, decoded)}  # type: ignore[index]
        if set(by_id) <= set(ids):
            return [by_id.get(i) for i in ids]  # type: ignore[arg-type]
    if len(references) != len(decoded):
        raise ValueError(
            f"{len(references)} references but {len(decoded)} decoded structures, and the "
            f"decoded ones are not named '<reference id>{DECODED_SUFFIX}': structure i of one "
            "is compared with structure i of the other, so they must hold as many"
        )
    return list(decoded)


def _read(path: str) -> List[Structure]:
    from ._io import read

    return read(path, to="nesf")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line: ``python -m nesf.matching REFERENCE_FILE DECODED_FILE [--stol S]
    [--ltol L] [--angle-tol A] [--json]``. Prints ``match rate 45.3 % (130/287), mean RMSE
    0.123`` (or, with ``--json``, the whole :class:`MatchResult` as JSON) and returns the exit
    status."""
    parser = argparse.ArgumentParser(
        prog="python -m nesf.matching",
        description=(
            "Match rate of decoded structures against references with pymatgen's "
            "StructureMatcher: each structure of DECODED_FILE against its reference, paired "
            "by id when the decoded ones are named '<id>-decoded' (nesf autoencode, nesf eval "
            "--output; a reference with no decoded structure counts as not matched), else "
            "structure i against structure i. Files are read by libnesf (extended XYZ, CIF, "
            "POSCAR). The mean RMSE is pymatgen's, normalised by (V/n)^(1/3)."
        ),
    )
    parser.add_argument("reference", metavar="REFERENCE_FILE")
    parser.add_argument("decoded", metavar="DECODED_FILE")
    parser.add_argument("--stol", type=float, default=0.5, help="site tolerance (default 0.5)")
    parser.add_argument(
        "--ltol", type=float, default=0.3, help="lattice length tolerance (default 0.3)"
    )
    parser.add_argument(
        "--angle-tol", type=float, default=10.0, help="angle tolerance, degrees (default 10)"
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="only the first N reference structures"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    from ._capi import NesfError

    try:
        references = _read(args.reference)
        decoded = _read(args.decoded)
        if args.limit is not None:
            references = references[: max(args.limit, 1)]
    except NesfError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    try:
        candidates = pair(references, decoded)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = match_rate(
        references, candidates, stol=args.stol, ltol=args.ltol, angle_tol=args.angle_tol
    )
    if args.json:
        out = result.to_dict()
        out.update(
            reference=args.reference,
            decoded=args.decoded,
            stol=args.stol,
            ltol=args.ltol,
            angle_tol=args.angle_tol,
        )
        print(json.dumps(out, indent=2))
    else:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
