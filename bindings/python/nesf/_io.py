"""Reading and writing structure files with the library's readers and writers."""

from __future__ import annotations

import ctypes
import os
from typing import Any, List

from . import _capi
from ._capi import check, lib
from ._structure import CList, Structure, as_list, to_nesf


def read(path: "str | os.PathLike[str]", to: str = "nesf") -> List[Any]:
    """Every structure of a file, read by libnesf (``nesf_structures_read``).

    The format comes from the file name: ``.cif``; ``.xyz`` / ``.extxyz``; ``POSCAR*``,
    ``CONTCAR*``, ``.vasp`` / ``.poscar``. Extended XYZ and CIF files may hold many structures.

    Args:
        path: the file.
        to: ``"nesf"`` (:class:`nesf.Structure`, default), ``"ase"`` or ``"pymatgen"``.

    Returns:
        A list of structures, in file order (identifiers such as ``material_id`` are not
        carried over: the C API does not expose them).

    Raises:
        NesfError: the file cannot be read, its format is unknown, or it does not parse.
    """
    if to not in ("nesf", "ase", "pymatgen"):
        raise ValueError(f"to must be 'ase', 'pymatgen' or 'nesf', got {to!r}")
    c_path = _capi.c_path(path)
    out = ctypes.c_void_p()
    check(lib.nesf_structures_read(c_path, ctypes.byref(out)))
    with CList(out.value) as c_list:
        structures = c_list.to_python()
    return [s.to(to) for s in structures]


def write(path: "str | os.PathLike[str]", structures: Any) -> None:
    """Writes structures to a file with libnesf (``nesf_structures_write``), the format from
    the file name as for :func:`read` (a POSCAR holds exactly one structure). The file is
    replaced atomically.

    Args:
        path: the file.
        structures: an ``ase.Atoms``, a ``pymatgen.core.Structure``, a
            :class:`nesf.Structure`, or a list of them.

    Raises:
        NesfError: e.g. an unknown format, a structure without atoms, several structures for
            a POSCAR, or the file cannot be written.
    """
    items, _ = as_list(structures)
    converted: List[Structure] = [to_nesf(x) for x in items]
    c_path = _capi.c_path(path)
    with CList.of(converted) as c_list:
        check(lib.nesf_structures_write(c_list.handle, c_path))
