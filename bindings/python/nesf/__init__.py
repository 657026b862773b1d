"""nesf: Neural Structure Fields for Python — encode crystal structures into latent vectors
and decode latent vectors into crystal structures.

A ctypes binding of the nesf C library (libnesf, ``include/nesf.h``), which runs the networks
with ONNX Runtime (the ``onnxruntime`` package's shared library). Structures come and go as
``ase.Atoms``, ``pymatgen.core.Structure`` or :class:`nesf.Structure` (NumPy arrays); lengths
are in Å, angles in degrees::

    import nesf
    from ase.build import bulk
    model = nesf.Model.default()
    atoms = model.autoencode(bulk("Cu", "fcc", a=3.6, cubic=True))

Main names: :class:`Model` (``default``, ``load``, ``encode``, ``decode``, ``autoencode``),
:class:`Structure`, :func:`interpolate`, :func:`read`, :func:`write`, :class:`NesfError`,
and the :mod:`nesf.matching` module (match rate with pymatgen's StructureMatcher).

Environment: ``NESF_LIBRARY`` chooses the libnesf file to load (default: the copy installed
with the package); ``NESF_ONNXRUNTIME`` chooses the ONNX Runtime library (default: the
``onnxruntime`` package's).
"""

from __future__ import annotations

from ._capi import NesfError, RuntimeInfo, Status
from ._capi import lib as _lib
from ._capi import library_path as _library_path
from ._capi import load_runtime
from ._capi import text as _text
from ._io import read, write
from ._model import Model, Provider, decode_option_names, interpolate
from ._structure import Structure
from ._version import __version__

__all__ = [
    "Model",
    "Provider",
    "Structure",
    "NesfError",
    "Status",
    "RuntimeInfo",
    "interpolate",
    "read",
    "write",
    "load_runtime",
    "decode_option_names",
    "library_version",
    "library_path",
    "__version__",
]


for _public in (Model, Provider, Structure, NesfError, Status, RuntimeInfo):
    _public.__module__ = "nesf"
del _public


def library_version() -> str:
    """The version of the loaded libnesf (``nesf_version()``), e.g. ``"0.1.0"``."""
    return _text(_lib.nesf_version())


def library_path() -> str:
    """The path of the libnesf shared library this process loaded."""
    return _lib._nesf_path
