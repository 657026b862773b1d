"""The C ABI of libnesf (``include/nesf.h``) declared with ctypes. Private: use the ``nesf`` API.

Finds and loads the shared library at import time, declares every function's argument and
result types, mirrors the option structs, and turns a failed status into :class:`NesfError`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import glob
import importlib.util
import os
import sys
import threading
from typing import NamedTuple, Optional

__all__ = [
    "NesfError",
    "Status",
    "RuntimeInfo",
    "lib",
    "library_path",
    "check",
    "last_error",
    "c_path",
    "DecodeOptionsC",
    "ModelOptionsC",
    "load_runtime",
]

# Constants of the header.
PROVIDER_CPU = 0
PROVIDER_CUDA = 1
SPECIES_VOTE_MAJORITY = 0
SPECIES_VOTE_PROBABILITY = 1
MAX_SPECIES_OFFSETS = 16


class Status(enum.IntEnum):
    """The C API's status codes (``nesf_status_t``): what a failed call reports."""

    SUCCESS = 0
    INVALID_ARGUMENT = 1
    BUFFER_TOO_SMALL = 2
    IO = 3
    PARSE = 4
    INVALID_STRUCTURE = 5
    UNKNOWN_ELEMENT = 6
    INVALID_MODEL = 7
    RUNTIME = 8
    DECODE = 9
    NO_DEFAULT_MODEL = 10
    CANCELLED = 11
    INTERNAL = 255


class NesfError(Exception):
    """A call of the nesf C library failed.

    Attributes:
        status: the C status code, a :class:`Status` (an ``int``; a plain ``int`` for a code
            this package does not know).
        message: the library's message (``nesf_last_error()``), which names the C function and
            the problem, e.g. ``"nesf_model_load: ..."``. ``str(error)`` is the same text.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        try:
            self.status = Status(status)
        except ValueError:
            self.status = int(status)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (int(self.status), self.message))

    def __repr__(self) -> str:
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        return f"NesfError({name}, {self.message!r})"


def _library_file_name() -> str:
    if sys.platform == "darwin":
        return "libnesf.dylib"
    if sys.platform == "win32":
        return "nesf.dll"
    return "libnesf.so"


def library_path() -> str:
    """The libnesf shared library this package loads, in this order: the ``NESF_LIBRARY``
    environment variable; the copy installed inside the package (``nesf/_lib``); when run from
    the source tree, the repository's ``target/release``; the system's library path."""
    env = os.environ.get("NESF_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise ImportError(f"NESF_LIBRARY is {env!r}, which is not a file")
        return env
    name = _library_file_name()
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, "_lib", name),
        # bindings/python/nesf -> the repository root (a source checkout, not installed)
        os.path.join(here, os.pardir, os.pardir, os.pardir, "target", "release", name),
    ]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.normpath(candidate)
    found = ctypes.util.find_library("nesf")
    if found:
        return found
    raise ImportError(
        f"cannot find {name}: install the package with pip (it copies the library in), or set "
        "NESF_LIBRARY to the path of a libnesf shared library (built by cargo build --release "
        "in target/release)"
    )


_c = ctypes
_size = _c.c_size_t
_status = _c.c_int
_handle = _c.c_void_p
_str_out = _c.POINTER(_c.c_char_p)


class ModelOptionsC(_c.Structure):
    """``nesf_model_options_t``."""

    _fields_ = [
        ("struct_size", _size),
        ("provider", _c.c_int32),
        ("device_id", _c.c_int32),
        ("allow_fallback", _c.c_bool),
        ("threads", _size),
        ("max_points_per_run", _size),
    ]


class DecodeOptionsC(_c.Structure):
    """``nesf_decode_options_t``, field for field as in include/nesf.h."""

    _fields_ = [
        ("struct_size", _size),
        ("grid_step", _c.c_double),
        ("steps", _size),
        ("max_last_step", _c.c_double),
        ("nms_radius", _c.c_double),
        ("min_particles", _size),
        ("batch_size", _size),
        ("n_species_offsets", _size),
        ("species_offsets", _c.c_double * MAX_SPECIES_OFFSETS),
        ("retire_below", _c.c_double),
        ("merge_below", _c.c_double),
        ("drop_outside", _c.c_double),
        ("species_vote", _c.c_int32),
        ("reserved", _c.c_int32),
        ("symprec", _c.c_double),
        ("max_particles", _size),
    ]


# The sizes of the released layouts of nesf_decode_options_t, newest first: a library older
# than this package accepts a shorter struct (see decode_options_size()).
_DECODE_LAYOUTS = (
    _c.sizeof(DecodeOptionsC),  # with symprec and max_particles
    DecodeOptionsC.symprec.offset,  # with the fast flow and species vote (up to reserved)
    DecodeOptionsC.retire_below.offset,  # the first layout (up to species_offsets)
)

_P = _c.POINTER

#: ``nesf_progress_callback_t``: ``int32_t (*)(size_t done, size_t total, void *user_data)``.
PROGRESS_CALLBACK = _c.CFUNCTYPE(_c.c_int32, _c.c_size_t, _c.c_size_t, _c.c_void_p)
_PROTOTYPES = {
    "nesf_version": (_c.c_char_p, []),
    "nesf_last_error": (_c.c_char_p, []),
    "nesf_runtime_load": (_status, [_c.c_char_p, _str_out, _str_out]),
    "nesf_decode_options_init": (_status, [_P(DecodeOptionsC)]),
    "nesf_model_options_init": (_status, [_P(ModelOptionsC)]),
    "nesf_latents_interpolate": (
        _status,
        [_c.c_void_p, _c.c_void_p, _size, _size, _c.c_void_p, _size],
    ),
    "nesf_model_load": (_status, [_c.c_char_p, _P(ModelOptionsC), _P(_handle)]),
    "nesf_model_load_default": (_status, [_P(ModelOptionsC), _P(_handle)]),
    "nesf_model_load_from_memory": (
        _status,
        [_c.c_void_p, _size, _P(ModelOptionsC), _P(_handle)],
    ),
    "nesf_model_free": (None, [_handle]),
    "nesf_model_latent_size": (_status, [_handle, _P(_size)]),
    "nesf_model_species_count": (_status, [_handle, _P(_size)]),
    "nesf_model_species": (_status, [_handle, _c.c_void_p, _size]),
    "nesf_model_provider": (
        _status,
        [_handle, _P(_c.c_int32), _P(_c.c_int32), _str_out],
    ),
    "nesf_model_manifest": (_status, [_handle, _str_out]),
    "nesf_model_decode_options": (_status, [_handle, _P(DecodeOptionsC)]),
    "nesf_model_encode": (_status, [_handle, _handle, _c.c_void_p, _size]),
    "nesf_model_decode_monitored": (
        _status,
        [
            _handle,
            _c.c_void_p,
            _size,
            _size,
            _P(DecodeOptionsC),
            PROGRESS_CALLBACK,
            _c.c_void_p,
            _P(_handle),
        ],
    ),
    "nesf_model_decode": (
        _status,
        [_handle, _c.c_void_p, _size, _size, _P(DecodeOptionsC), _P(_handle)],
    ),
    "nesf_structure_new": (
        _status,
        [_c.c_void_p, _c.c_void_p, _c.c_void_p, _size, _P(_handle)],
    ),
    "nesf_structure_free": (None, [_handle]),
    "nesf_structure_atom_count": (_status, [_handle, _P(_size)]),
    "nesf_structure_lattice": (_status, [_handle, _c.c_void_p]),
    "nesf_structure_lattice_parameters": (_status, [_handle, _c.c_void_p, _c.c_void_p]),
    "nesf_structure_positions": (_status, [_handle, _c.c_void_p, _size]),
    "nesf_structure_fractional_positions": (_status, [_handle, _c.c_void_p, _size]),
    "nesf_structure_numbers": (_status, [_handle, _c.c_void_p, _size]),
    "nesf_structure_id": (_status, [_handle, _str_out]),
    "nesf_structure_failure": (_status, [_handle, _str_out]),
    "nesf_structure_set_id": (_status, [_handle, _c.c_char_p]),
    "nesf_structure_has_confidence": (_status, [_handle, _P(_c.c_bool)]),
    "nesf_structure_confidence": (_status, [_handle, _c.c_void_p, _size]),
    "nesf_structures_new": (_status, [_P(_handle)]),
    "nesf_structures_free": (None, [_handle]),
    "nesf_structures_count": (_status, [_handle, _P(_size)]),
    "nesf_structures_get": (_status, [_handle, _size, _P(_handle)]),
    "nesf_structures_push": (_status, [_handle, _handle]),
    "nesf_structures_read": (_status, [_c.c_char_p, _P(_handle)]),
    "nesf_structures_write": (_status, [_handle, _c.c_char_p]),
}


def _load() -> ctypes.CDLL:
    path = library_path()
    try:
        library = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"cannot load libnesf from {path}: {e}") from e
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            function = getattr(library, name)
        except AttributeError as e:
            raise ImportError(
                f"{path} has no function {name}: it is not a libnesf this package can use"
            ) from e
        function.restype = restype
        function.argtypes = argtypes
    library._nesf_path = path  # type: ignore[attr-defined]
    return library


lib = _load()


def _text(raw: Optional[bytes]) -> str:
    return "" if raw is None else raw.decode("utf-8", errors="replace")


def last_error() -> str:
    """The message of this thread's most recent failed call (``nesf_last_error()``)."""
    return _text(lib.nesf_last_error())


def check(status: int) -> None:
    """Raises :class:`NesfError` with the library's message when ``status`` is not success.
    Call it right after the C call, on the same thread (the message is thread-local)."""
    if status != Status.SUCCESS:
        raise NesfError(status, last_error())


def c_path(path: "str | bytes | os.PathLike[str]") -> bytes:
    """A file system path as the C library takes it (bytes, no NUL)."""
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError(f"path contains a NUL character: {path!r}")
    return encoded


def text(raw: Optional[bytes]) -> str:
    """A C string from the library as a Python str."""
    return _text(raw)


class RuntimeInfo(NamedTuple):
    """The ONNX Runtime library that libnesf runs the networks with."""

    path: str
    """The file that was loaded."""
    version: str
    """Its version, e.g. ``"1.31.1"``."""


_runtime_lock = threading.Lock()
_runtime: Optional[RuntimeInfo] = None


def onnxruntime_wheel_library() -> Optional[str]:
    """The ONNX Runtime shared library of the installed ``onnxruntime`` Python package
    (``onnxruntime/capi/libonnxruntime.so.<version>``), or None when there is none. Found
    without importing the package (which would load its own copy of ONNX Runtime)."""
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        capi = os.path.join(folder, "capi")
        for pattern in ("libonnxruntime.so.*", "libonnxruntime.*.dylib", "onnxruntime.dll"):
            found = sorted(
                p for p in glob.glob(os.path.join(capi, pattern)) if "providers" not in p
            )
            if found:
                return found[-1]
    return None


def load_runtime(path: "str | os.PathLike[str] | None" = None) -> RuntimeInfo:
    """Loads ONNX Runtime into libnesf (once per process) and says which file runs.

    With ``path`` None: when the ``NESF_ONNXRUNTIME`` environment variable is set, the
    library's own search is used (it honours that variable); otherwise the shared library of
    the ``onnxruntime`` Python package, the dependency of this package, so that the process
    holds one copy of ONNX Runtime; without that package, the library's search (beside
    libnesf, then the system's library path). With a ``path``, exactly that file. Loading a
    model calls this first; once a runtime is loaded, asking for another file raises
    :class:`NesfError`.
    """
    global _runtime
    with _runtime_lock:
        if path is None and _runtime is not None:
            return _runtime
        if path is not None:
            arg: Optional[bytes] = c_path(path)
        elif os.environ.get("NESF_ONNXRUNTIME"):
            arg = None
        else:
            wheel = onnxruntime_wheel_library()
            arg = None if wheel is None else c_path(wheel)
        loaded = ctypes.c_char_p()
        version = ctypes.c_char_p()
        check(lib.nesf_runtime_load(arg, ctypes.byref(loaded), ctypes.byref(version)))
        _runtime = RuntimeInfo(_text(loaded.value), _text(version.value))
        return _runtime


def decode_options_size() -> int:
    """The size of ``nesf_decode_options_t`` to pass as ``struct_size``: this package's, or
    the newest older layout that the loaded library accepts (a library older than the
    package, chosen with ``NESF_LIBRARY``, knows fewer fields)."""
    global _decode_size
    if _decode_size is None:
        for size in _DECODE_LAYOUTS:
            probe = DecodeOptionsC()
            probe.struct_size = size
            if lib.nesf_decode_options_init(ctypes.byref(probe)) == Status.SUCCESS:
                _decode_size = size
                break
        else:
            check(Status.INVALID_ARGUMENT)  # raises with the library's message
    return _decode_size  # type: ignore[return-value]


_decode_size: Optional[int] = None


def decode_options_fields() -> list[str]:
    """Names of the fields of ``nesf_decode_options_t`` the loaded library reads."""
    size = decode_options_size()
    return [
        name
        for name, _ in DecodeOptionsC._fields_
        if getattr(DecodeOptionsC, name).offset + getattr(DecodeOptionsC, name).size <= size
    ]
