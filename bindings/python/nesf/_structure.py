"""Structures: :class:`Structure`, conversion from and to ASE / pymatgen, and the C lists.

ASE and pymatgen are optional: they are imported only when a conversion to them is asked for
(an input object of theirs is recognised without importing them).
"""

from __future__ import annotations

import ctypes
import sys
from collections import Counter
from typing import Any, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import _capi
from ._capi import NesfError, Status, check, lib
from ._elements import SYMBOLS, number as _atomic_number

#: Key under which a structure's identifier travels in ``ase.Atoms.info`` and in
#: ``pymatgen`` ``Structure.properties`` (the key the data sets' extended XYZ files use).
ID_KEY = "material_id"

#: Names accepted by the ``to=`` arguments.
KINDS = ("ase", "pymatgen", "nesf")


class Structure:
    """A crystal structure held in NumPy arrays (lengths in Å).

    Attributes:
        lattice: ``(3, 3)`` float64 array whose rows are the lattice vectors a, b, c (Å), or
            None for a decoded structure whose predicted lattice parameters form no cell (then
            :attr:`lattice_parameters` still gives them).
        numbers: ``(n,)`` int32 array of atomic numbers.
        positions: ``(n, 3)`` float64 array of Cartesian positions (Å), in the frame of the
            lattice vectors.
        confidence: for decoded structures, a ``(n,)`` float32 array of the decoder's per-atom
            confidence (the fraction of species-vote points that agreed with the atom's
            species, 0 to 1); None otherwise.
        id: an optional identifier (e.g. a Materials Project id), kept across conversions to
            and from ASE (``atoms.info["material_id"]``) and pymatgen
            (``structure.properties["material_id"]``) and through files (extended XYZ
            ``material_id``, CIF block name).

    ``numbers`` may be given as element symbols; they are stored as atomic numbers. A decoded
    structure may hold no atom (decoding found none); ``failure`` then says why when a field of
    the model returned non-finite values for it (None otherwise).
    """

    __slots__ = (
        "lattice",
        "numbers",
        "positions",
        "confidence",
        "id",
        "failure",
        "_predicted",
        "_no_cell",
    )

    def __init__(
        self,
        lattice: Optional[Any],
        numbers: Sequence[int | str] | np.ndarray,
        positions: Any,
        confidence: Optional[Any] = None,
        id: Optional[str] = None,
    ):
        numbers_list = list(numbers) if not isinstance(numbers, np.ndarray) else numbers
        if len(numbers_list) and isinstance(numbers_list[0], str):
            numbers_list = [_atomic_number(s) for s in numbers_list]
        self.numbers = np.ascontiguousarray(numbers_list, dtype=np.int32).reshape(-1)
        n = len(self.numbers)
        self.positions = np.ascontiguousarray(positions, dtype=np.float64)
        if n == 0 and self.positions.size == 0:
            self.positions = self.positions.reshape(0, 3)
        if self.positions.shape != (n, 3):
            raise ValueError(
                f"positions must have shape ({n}, 3) for {n} atoms, got {self.positions.shape}"
            )
        if lattice is None:
            self.lattice = None
        else:
            self.lattice = np.ascontiguousarray(lattice, dtype=np.float64)
            if self.lattice.shape != (3, 3):
                raise ValueError(f"lattice must have shape (3, 3), got {self.lattice.shape}")
        if confidence is None:
            self.confidence = None
        else:
            self.confidence = np.ascontiguousarray(confidence, dtype=np.float32).reshape(-1)
            if self.confidence.shape != (n,):
                raise ValueError(
                    f"confidence must have {n} values (one per atom), got {self.confidence.size}"
                )
        self.id = id
        self.failure: Optional[str] = None
        self._predicted: Optional[Tuple[Tuple[float, ...], Tuple[float, ...]]] = None
        self._no_cell: Optional[NesfError] = None

    def __len__(self) -> int:
        return len(self.numbers)

    def __repr__(self) -> str:
        label = f", id={self.id!r}" if self.id is not None else ""
        cell = "" if self.lattice is not None else ", no cell"
        return f"nesf.Structure({self.formula or 'no atom'!r}, {len(self)} atoms{cell}{label})"

    @property
    def symbols(self) -> List[str]:
        """The element symbols of the atoms."""
        return [SYMBOLS[z - 1] if 1 <= z <= len(SYMBOLS) else "?" for z in self.numbers]

    @property
    def formula(self) -> str:
        """The formula with elements in order of first appearance, e.g. ``"Na4Cl4"``."""
        counts = Counter(self.symbols)
        return "".join(f"{s}{c if c > 1 else ''}" for s, c in counts.items())

    @property
    def volume(self) -> float:
        """The cell volume (Å³)."""
        return float(abs(np.linalg.det(self._cell())))

    @property
    def fractional_positions(self) -> np.ndarray:
        """``(n, 3)`` fractional coordinates of the atoms (positions = fractional @ lattice)."""
        return np.linalg.solve(self._cell().T, self.positions.T).T

    @property
    def lattice_parameters(self) -> Tuple[Tuple[float, float, float], Tuple[float, float, float]]:
        """``((a, b, c), (alpha, beta, gamma))`` in Å and degrees; for a decoded structure, as
        the decoder's lattice heads predicted them (also when they form no cell)."""
        if self._predicted is not None:
            return self._predicted
        cell = self._cell()
        a, b, c = (float(np.linalg.norm(v)) for v in cell)

        def angle(u: np.ndarray, v: np.ndarray) -> float:
            cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
            return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))

        return (a, b, c), (angle(cell[1], cell[2]), angle(cell[0], cell[2]), angle(cell[0], cell[1]))

    def _cell(self) -> np.ndarray:
        if self.lattice is None:
            if self._no_cell is not None:
                raise NesfError(self._no_cell.status, self._no_cell.message)
            raise ValueError("the structure has no lattice")
        return self.lattice

    def copy(self) -> "Structure":
        """A deep copy."""
        s = Structure(
            None if self.lattice is None else self.lattice.copy(),
            self.numbers.copy(),
            self.positions.copy(),
            None if self.confidence is None else self.confidence.copy(),
            self.id,
        )
        s.failure = self.failure
        s._predicted = self._predicted
        s._no_cell = self._no_cell
        return s

    @classmethod
    def from_fractional(
        cls,
        lattice: Any,
        numbers: Sequence[int | str] | np.ndarray,
        fractional_positions: Any,
        id: Optional[str] = None,
    ) -> "Structure":
        """A structure from a lattice (rows a, b, c, Å) and fractional coordinates."""
        cell = np.asarray(lattice, dtype=np.float64)
        frac = np.asarray(fractional_positions, dtype=np.float64).reshape(-1, 3)
        return cls(cell, numbers, frac @ cell, id=id)

    @classmethod
    def from_ase(cls, atoms: Any) -> "Structure":
        """A structure from an ``ase.Atoms`` (its cell is taken as periodic in 3D)."""
        info = getattr(atoms, "info", {}) or {}
        label = info.get(ID_KEY)
        return cls(
            np.array(atoms.cell.array, dtype=np.float64),
            np.array(atoms.numbers, dtype=np.int32),
            np.array(atoms.positions, dtype=np.float64),
            id=None if label is None else str(label),
        )

    @classmethod
    def from_pymatgen(cls, structure: Any) -> "Structure":
        """A structure from a ``pymatgen.core.Structure`` (ordered: one element per site)."""
        if not structure.is_ordered:
            raise ValueError(
                "the pymatgen structure is disordered (partial occupancies); nesf needs one "
                "element per site"
            )
        props = getattr(structure, "properties", None) or {}
        label = props.get(ID_KEY)
        return cls(
            np.array(structure.lattice.matrix, dtype=np.float64),
            np.array([site.specie.Z for site in structure], dtype=np.int32),
            np.array(structure.cart_coords, dtype=np.float64).reshape(-1, 3),
            id=None if label is None else str(label),
        )

    def to_ase(self) -> Any:
        """This structure as an ``ase.Atoms`` (periodic; the decoder confidence, when there is
        one, in ``atoms.arrays["confidence"]``; the id in ``atoms.info["material_id"]``)."""
        import ase

        atoms = ase.Atoms(
            numbers=self.numbers.astype(int),
            positions=self.positions,
            cell=self._cell(),
            pbc=True,
        )
        if self.confidence is not None:
            atoms.set_array("confidence", self.confidence.astype(np.float64))
        if self.id is not None:
            atoms.info[ID_KEY] = self.id
        return atoms

    def to_pymatgen(self) -> Any:
        """This structure as a ``pymatgen.core.Structure`` (Cartesian coordinates kept as they
        are; the decoder confidence, when there is one, as the site property "confidence"; the
        id in ``structure.properties["material_id"]``)."""
        from pymatgen.core import Lattice
        from pymatgen.core import Structure as PmgStructure

        site_properties = None
        if self.confidence is not None:
            site_properties = {"confidence": [float(c) for c in self.confidence]}
        structure = PmgStructure(
            Lattice(self._cell()),
            [int(z) for z in self.numbers],
            self.positions,
            coords_are_cartesian=True,
            site_properties=site_properties,
        )
        if self.id is not None:
            structure.properties[ID_KEY] = self.id
        return structure

    def to(self, kind: str) -> Any:
        """This structure as ``kind``: ``"ase"``, ``"pymatgen"`` or ``"nesf"`` (itself)."""
        if kind == "nesf":
            return self
        if kind == "ase":
            return self.to_ase()
        if kind == "pymatgen":
            return self.to_pymatgen()
        raise ValueError(f"to must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")


# --- recognising inputs -----------------------------------------------------------------


def _is_ase_atoms(obj: Any) -> bool:
    ase = sys.modules.get("ase")
    return ase is not None and isinstance(obj, getattr(ase, "Atoms", ()))


def _is_pymatgen_structure(obj: Any) -> bool:
    module = sys.modules.get("pymatgen.core.structure")
    return module is not None and isinstance(obj, getattr(module, "IStructure", ()))


def kind_of(obj: Any) -> Optional[str]:
    """``"ase"``, ``"pymatgen"`` or ``"nesf"`` for one structure of that kind, else None."""
    if isinstance(obj, Structure):
        return "nesf"
    if _is_ase_atoms(obj):
        return "ase"
    if _is_pymatgen_structure(obj):
        return "pymatgen"
    return None


def to_nesf(obj: Any) -> Structure:
    """One input structure (ase.Atoms, pymatgen Structure or nesf.Structure) as a
    :class:`Structure`; TypeError for anything else."""
    kind = kind_of(obj)
    if kind == "nesf":
        return obj
    if kind == "ase":
        return Structure.from_ase(obj)
    if kind == "pymatgen":
        return Structure.from_pymatgen(obj)
    raise TypeError(
        "expected an ase.Atoms, a pymatgen.core.Structure, a nesf.Structure or a list of them, "
        f"got {type(obj).__module__}.{type(obj).__qualname__}"
    )


def as_list(structures: Any) -> Tuple[List[Any], bool]:
    """``(items, single)``: the structures as a list, and whether one structure (not a list)
    was given."""
    if kind_of(structures) is not None:
        return [structures], True
    if isinstance(structures, (str, bytes)) or not isinstance(structures, Iterable):
        to_nesf(structures)  # raises the TypeError
    items = list(structures)
    for item in items:
        if kind_of(item) is None:
            to_nesf(item)  # raises the TypeError naming the type
    return items, False


# --- C handles --------------------------------------------------------------------------


def _ptr(array: np.ndarray) -> int:
    return array.ctypes.data  # non-NULL also for an empty array


def _new_c_structure(s: Structure) -> int:
    """A new nesf_structure_t (owned by the caller) holding a copy of ``s``."""
    lattice = np.ascontiguousarray(s._cell(), dtype=np.float64)
    positions = np.ascontiguousarray(s.positions, dtype=np.float64)
    numbers = np.ascontiguousarray(s.numbers, dtype=np.int32)
    out = ctypes.c_void_p()
    check(
        lib.nesf_structure_new(
            lattice.ctypes.data, _ptr(positions), _ptr(numbers), len(numbers), ctypes.byref(out)
        )
    )
    if s.id is not None:
        status = lib.nesf_structure_set_id(out.value, str(s.id).encode("utf-8"))
        if status:
            message = _capi.last_error()
            lib.nesf_structure_free(out.value)
            raise NesfError(status, message)
    return out.value  # type: ignore[return-value]


class CList:
    """Owns a ``nesf_structures_t`` handle; frees it on :meth:`close` (or when collected)."""

    __slots__ = ("handle",)

    def __init__(self, handle: Optional[int] = None):
        if handle is None:
            out = ctypes.c_void_p()
            check(lib.nesf_structures_new(ctypes.byref(out)))
            handle = out.value
        self.handle: Optional[int] = handle

    @classmethod
    def of(cls, structures: Iterable[Structure]) -> "CList":
        """A new C list holding copies of ``structures``."""
        self = cls()
        try:
            for s in structures:
                one = _new_c_structure(s)
                try:
                    status = lib.nesf_structures_push(self.handle, one)
                    message = _capi.last_error() if status else ""
                finally:
                    lib.nesf_structure_free(one)  # the list holds its own copy
                if status:
                    raise NesfError(status, message)
        except BaseException:
            self.close()
            raise
        return self

    def __len__(self) -> int:
        count = ctypes.c_size_t()
        check(lib.nesf_structures_count(self.handle, ctypes.byref(count)))
        return count.value

    def to_python(self) -> List[Structure]:
        """Python copies of every structure of the list."""
        out = []
        for i in range(len(self)):
            one = ctypes.c_void_p()
            check(lib.nesf_structures_get(self.handle, i, ctypes.byref(one)))
            try:
                out.append(_from_c_structure(one.value))  # type: ignore[arg-type]
            finally:
                lib.nesf_structure_free(one.value)
        return out

    def close(self) -> None:
        """Frees the C list (and the structures in it); idempotent."""
        handle, self.handle = self.handle, None
        if handle is not None:
            lib.nesf_structures_free(handle)

    def __enter__(self) -> "CList":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _from_c_structure(handle: int) -> Structure:
    n = ctypes.c_size_t()
    check(lib.nesf_structure_atom_count(handle, ctypes.byref(n)))
    count = n.value
    numbers = np.empty(count, dtype=np.int32)
    positions = np.empty((count, 3), dtype=np.float64)
    check(lib.nesf_structure_numbers(handle, _ptr(numbers), numbers.size))
    check(lib.nesf_structure_positions(handle, _ptr(positions), positions.size))
    has = ctypes.c_bool()
    check(lib.nesf_structure_has_confidence(handle, ctypes.byref(has)))
    confidence = None
    if has.value:
        confidence = np.empty(count, dtype=np.float32)
        check(lib.nesf_structure_confidence(handle, _ptr(confidence), confidence.size))
    lattice: Optional[np.ndarray] = np.empty((3, 3), dtype=np.float64)
    status = lib.nesf_structure_lattice(handle, lattice.ctypes.data)  # type: ignore[union-attr]
    no_cell = None
    if status == Status.INVALID_STRUCTURE:
        no_cell = NesfError(status, _capi.last_error())
        lattice = None
    else:
        check(status)
    label = ctypes.c_char_p()
    check(lib.nesf_structure_id(handle, ctypes.byref(label)))
    s = Structure(
        lattice,
        numbers,
        positions,
        confidence,
        id=None if label.value is None else label.value.decode("utf-8", "replace"),
    )
    if has.value or lattice is None:
        lengths = np.empty(3, dtype=np.float64)
        angles = np.empty(3, dtype=np.float64)
        check(lib.nesf_structure_lattice_parameters(handle, lengths.ctypes.data, angles.ctypes.data))
        s._predicted = (tuple(map(float, lengths)), tuple(map(float, angles)))  # type: ignore[assignment]
    s._no_cell = no_cell
    why = ctypes.c_char_p()
    check(lib.nesf_structure_failure(handle, ctypes.byref(why)))
    s.failure = None if why.value is None else why.value.decode("utf-8", "replace")
    return s
