"""Models: loading, facts, encoding, decoding and autoencoding; latent interpolation."""

from __future__ import annotations

import ctypes
import json
import operator
import os
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from . import _capi
from ._capi import (
    MAX_SPECIES_OFFSETS,
    PROVIDER_CPU,
    PROVIDER_CUDA,
    SPECIES_VOTE_MAJORITY,
    SPECIES_VOTE_PROBABILITY,
    DecodeOptionsC,
    ModelOptionsC,
    check,
    lib,
)
from ._elements import SYMBOLS
from ._structure import KINDS, CList, as_list, kind_of, to_nesf

_VOTES = {"majority": SPECIES_VOTE_MAJORITY, "probability": SPECIES_VOTE_PROBABILITY}
_VOTE_NAMES = {v: k for k, v in _VOTES.items()}
# Fields of nesf_decode_options_t that are not options (set by the binding or the library).
_HIDDEN = {"struct_size", "n_species_offsets", "reserved"}
# What exact=True turns off (the work savers of the fast flow).
_EXACT_OFF = ("retire_below", "merge_below", "drop_outside")


class Provider(NamedTuple):
    """The execution provider that runs a model."""

    name: str
    """``"cpu"`` or ``"cuda"``."""
    device_id: int
    """The CUDA device number (0 on the CPU)."""
    description: str
    """The library's sentence, e.g. ``"CPU"`` or ``"CPU (CUDA (device 0) was requested but
    cannot run: ...)"`` after an allowed fallback."""

    @property
    def device(self) -> str:
        """The device as ``Model.load`` takes it: ``"cpu"`` or ``"cuda:N"``."""
        return "cpu" if self.name == "cpu" else f"cuda:{self.device_id}"


def _parse_device(device: str) -> Tuple[int, int]:
    if not isinstance(device, str):
        raise TypeError(f"device must be a str such as 'cpu' or 'cuda:0', got {device!r}")
    d = device.strip().lower()
    if d == "cpu":
        return PROVIDER_CPU, 0
    if d == "cuda":
        return PROVIDER_CUDA, 0
    if d.startswith("cuda:") and d[5:].isdigit():
        return PROVIDER_CUDA, int(d[5:])
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def _model_options(
    device: str, allow_fallback: bool, threads: int, max_points_per_run: Optional[int]
) -> ModelOptionsC:
    provider, device_id = _parse_device(device)
    o = ModelOptionsC()
    o.struct_size = ctypes.sizeof(ModelOptionsC)
    check(lib.nesf_model_options_init(ctypes.byref(o)))
    o.provider = provider
    o.device_id = device_id
    o.allow_fallback = bool(allow_fallback)
    o.threads = _count("threads", threads)
    if max_points_per_run is not None:
        o.max_points_per_run = _count("max_points_per_run", max_points_per_run)
    return o


def _count(name: str, value: Any) -> int:
    """A non-negative integer option (a size_t of the C struct)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if n < 0:
        raise ValueError(f"{name} must be at least 0, got {n}")
    return n


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def decode_option_names() -> List[str]:
    """The keyword arguments that ``Model.decode`` and ``Model.autoencode`` accept as decoder
    settings (the fields of ``nesf_decode_options_t`` that the loaded library reads), plus
    ``exact``."""
    return [n for n in _capi.decode_options_fields() if n not in _HIDDEN] + ["exact"]


def _options_dict(o: DecodeOptionsC) -> Dict[str, Any]:
    names = _capi.decode_options_fields()
    out: Dict[str, Any] = {}
    for name, ctype in DecodeOptionsC._fields_:
        if name in _HIDDEN or name not in names:
            continue
        value = getattr(o, name)
        if name == "species_offsets":
            out[name] = tuple(float(v) for v in list(value)[: o.n_species_offsets])
        elif name == "species_vote":
            out[name] = _VOTE_NAMES.get(value, value)
        elif ctype is ctypes.c_size_t:
            out[name] = int(value)
        else:
            out[name] = float(value)
    return out


def _apply_options(o: DecodeOptionsC, options: Dict[str, Any]) -> None:
    """Writes keyword options into a filled options struct; TypeError for an unknown name."""
    known = {n: t for n, t in DecodeOptionsC._fields_ if n not in _HIDDEN}
    readable = set(_capi.decode_options_fields())
    options = dict(options)
    exact = options.pop("exact", False)
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    for name in options:
        if name not in known:
            raise TypeError(
                f"unknown decode option {name!r}; the options are "
                f"{', '.join(decode_option_names())}"
            )
        if name not in readable:
            raise TypeError(
                f"decode option {name!r} is not supported by the loaded libnesf "
                f"{_capi.text(lib.nesf_version())} ({lib._nesf_path})"
            )
    if exact:
        clash = [n for n in _EXACT_OFF if n in options]
        if clash:
            raise ValueError(
                f"exact=True turns off {', '.join(_EXACT_OFF)}; do not also pass "
                f"{', '.join(clash)}"
            )
        for name in _EXACT_OFF:
            setattr(o, name, 0.0)
    for name, value in options.items():
        ctype = known[name]
        if name == "species_offsets":
            if isinstance(value, (str, bytes)):
                raise TypeError(f"species_offsets must be a sequence of numbers, got {value!r}")
            offsets = [_real("species_offsets", v) for v in np.asarray(value).reshape(-1)]
            if not 1 <= len(offsets) <= MAX_SPECIES_OFFSETS:
                raise ValueError(
                    f"species_offsets needs 1 to {MAX_SPECIES_OFFSETS} values, got {len(offsets)}"
                )
            o.n_species_offsets = len(offsets)
            for i in range(MAX_SPECIES_OFFSETS):
                o.species_offsets[i] = offsets[i] if i < len(offsets) else 0.0
        elif name == "species_vote":
            if value not in _VOTES:
                raise ValueError(
                    f"species_vote must be 'majority' or 'probability', got {value!r}"
                )
            o.species_vote = _VOTES[value]
        elif ctype is ctypes.c_size_t:
            setattr(o, name, _count(name, value))
        else:
            setattr(o, name, _real(name, value))


def _check_kind(to: Optional[str], allow_none: bool = False) -> None:
    if to is None and allow_none:
        return
    if to not in KINDS:
        raise ValueError(f"to must be one of {', '.join(map(repr, KINDS))}, got {to!r}")


class Model:
    """A loaded nesf model: an encoder (structure → latent vector) and a decoder (latent →
    structure).

    Make one with :meth:`Model.default` or :meth:`Model.load`. It is immutable and may be used
    from many threads at once (the C calls release the GIL). It holds native memory: free it
    with :meth:`close` or a ``with`` block (or let it be collected); close it only when no
    other thread uses it.
    """

    def __init__(self, _handle: int):
        """Wraps a ``nesf_model_t`` handle (private: use :meth:`default` or :meth:`load`)."""
        if not isinstance(_handle, int) or not _handle:
            raise TypeError("use nesf.Model.default() or nesf.Model.load(path) to make a Model")
        self._ptr: Optional[int] = _handle
        self._latent_size: Optional[int] = None
        self._species: Optional[List[int]] = None

    # --- making ------------------------------------------------------------------------

    @classmethod
    def default(
        cls,
        device: str = "cpu",
        *,
        allow_fallback: bool = False,
        threads: int = 0,
        max_points_per_run: Optional[int] = None,
    ) -> "Model":
        """The model embedded in libnesf (trained on LCS6Å: cells with edges up to 6 Å, 80
        elements).

        Args:
            device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (CUDA device N; needs a GPU build of
                ONNX Runtime).
            allow_fallback: when the device cannot run, use the CPU instead (see
                :attr:`provider`) rather than raising.
            threads: ONNX Runtime intra-op threads per network; 0 lets it choose.
            max_points_per_run: most query points per network run (bounds memory); None keeps
                the library's default (65536).

        Raises:
            NesfError: with status ``NO_DEFAULT_MODEL`` for a libnesf built without one, or
                when ONNX Runtime cannot be loaded or cannot run on ``device``.
        """
        options = _model_options(device, allow_fallback, threads, max_points_per_run)
        _capi.load_runtime()
        out = ctypes.c_void_p()
        check(lib.nesf_model_load_default(ctypes.byref(options), ctypes.byref(out)))
        return cls(out.value)  # type: ignore[arg-type]

    @classmethod
    def load(
        cls,
        path: "str | os.PathLike[str]",
        device: str = "cpu",
        *,
        allow_fallback: bool = False,
        threads: int = 0,
        max_points_per_run: Optional[int] = None,
    ) -> "Model":
        """Loads a model bundle: a ``*.nesf`` file or a bundle folder. The other arguments are
        those of :meth:`default`.

        Raises:
            NesfError: the file is missing or not a valid bundle, or ONNX Runtime fails.
        """
        options = _model_options(device, allow_fallback, threads, max_points_per_run)
        c_path = _capi.c_path(path)
        _capi.load_runtime()
        out = ctypes.c_void_p()
        check(lib.nesf_model_load(c_path, ctypes.byref(options), ctypes.byref(out)))
        return cls(out.value)  # type: ignore[arg-type]

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        device: str = "cpu",
        *,
        allow_fallback: bool = False,
        threads: int = 0,
        max_points_per_run: Optional[int] = None,
    ) -> "Model":
        """Loads a model bundle file from its bytes. The other arguments are those of
        :meth:`default`."""
        buffer = bytes(data)
        options = _model_options(device, allow_fallback, threads, max_points_per_run)
        _capi.load_runtime()
        out = ctypes.c_void_p()
        check(
            lib.nesf_model_load_from_memory(
                buffer, len(buffer), ctypes.byref(options), ctypes.byref(out)
            )
        )
        return cls(out.value)  # type: ignore[arg-type]

    # --- lifetime ----------------------------------------------------------------------

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("the model is closed")
        return self._ptr

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._ptr is None

    def close(self) -> None:
        """Frees the model's native memory. Idempotent; the model cannot be used afterwards."""
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:
            lib.nesf_model_free(ptr)

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self) -> str:
        if self._ptr is None:
            return "nesf.Model(closed)"
        return (
            f"nesf.Model(latent_size={self.latent_size}, {len(self.species)} species, "
            f"provider={self.provider.description!r})"
        )

    # --- facts -------------------------------------------------------------------------

    @property
    def latent_size(self) -> int:
        """The length of the model's latent vectors."""
        if self._latent_size is None:
            n = ctypes.c_size_t()
            check(lib.nesf_model_latent_size(self._handle(), ctypes.byref(n)))
            self._latent_size = n.value
        return self._latent_size

    @property
    def species(self) -> List[int]:
        """The atomic numbers of the elements the model knows, ascending."""
        if self._species is None:
            handle = self._handle()
            n = ctypes.c_size_t()
            check(lib.nesf_model_species_count(handle, ctypes.byref(n)))
            numbers = np.empty(n.value, dtype=np.int32)
            check(lib.nesf_model_species(handle, numbers.ctypes.data, numbers.size))
            self._species = [int(z) for z in numbers]
        return list(self._species)

    @property
    def species_symbols(self) -> List[str]:
        """The element symbols of :attr:`species`."""
        return [SYMBOLS[z - 1] for z in self.species]

    @property
    def manifest(self) -> Dict[str, Any]:
        """The model's manifest, parsed from the library's JSON: format version, species
        vocabulary, latent size, bounding box, decoder defaults, provenance."""
        text = ctypes.c_char_p()
        check(lib.nesf_model_manifest(self._handle(), ctypes.byref(text)))
        return json.loads(_capi.text(text.value))

    @property
    def provider(self) -> Provider:
        """The execution provider that runs the model (after an allowed fallback, the CPU,
        and the description says why)."""
        kind = ctypes.c_int32()
        device_id = ctypes.c_int32()
        text = ctypes.c_char_p()
        check(
            lib.nesf_model_provider(
                self._handle(), ctypes.byref(kind), ctypes.byref(device_id), ctypes.byref(text)
            )
        )
        name = "cuda" if kind.value == PROVIDER_CUDA else "cpu"
        return Provider(name, int(device_id.value), _capi.text(text.value))

    def decode_options(self, **options: Any) -> Dict[str, Any]:
        """The decoder settings a :meth:`decode` with these keyword ``options`` uses: the
        model's defaults (``nesf_model_decode_options``) with ``options`` applied, as a dict
        (see :meth:`decode` for the names)."""
        return _options_dict(self._decode_struct(options))

    def _decode_struct(self, options: Dict[str, Any]) -> DecodeOptionsC:
        o = DecodeOptionsC()
        o.struct_size = _capi.decode_options_size()
        check(lib.nesf_model_decode_options(self._handle(), ctypes.byref(o)))
        _apply_options(o, options)
        return o

    # --- encoding and decoding ---------------------------------------------------------

    def encode(self, structures: Any) -> np.ndarray:
        """The latent vectors of structures.

        Args:
            structures: an ``ase.Atoms``, a ``pymatgen.core.Structure``, a
                :class:`nesf.Structure`, or a list of them (mixed kinds are fine).

        Returns:
            A float32 array of shape ``(n, latent_size)`` (``n = 1`` for one structure),
            written by the library directly.

        Raises:
            NesfError: e.g. a structure without atoms, a degenerate cell, or an element
                outside the model's vocabulary (:attr:`species`).
        """
        items, _ = as_list(structures)
        converted = [to_nesf(x) for x in items]
        handle = self._handle()
        out = np.empty((len(converted), self.latent_size), dtype=np.float32)
        with CList.of(converted) as c_list:
            check(lib.nesf_model_encode(handle, c_list.handle, out.ctypes.data, out.size))
        return out

    def decode(
        self,
        latents: Any,
        to: str = "ase",
        progress: Optional[Callable[[int, int], Any]] = None,
        **options: Any,
    ) -> List[Any]:
        """Decodes latent vectors into structures.

        Args:
            latents: an array of shape ``(n, latent_size)``, or one latent of shape
                ``(latent_size,)`` (converted to float32).
            to: what to return: ``"ase"`` (``ase.Atoms``), ``"pymatgen"``
                (``pymatgen.core.Structure``) or ``"nesf"`` (:class:`nesf.Structure`).
            progress: called as ``progress(done, total)`` after every flow step and batch
                (``done`` structures of ``total`` finished); returning ``False`` cancels the
                decode (``NesfError`` with ``Status.CANCELLED``), and an exception it raises
                (``KeyboardInterrupt`` from Ctrl-C included) cancels it and is raised again.
            **options: decoder settings, starting from the model's defaults (see
                :meth:`decode_options`): ``grid_step`` (Å, spacing of the initial particle
                grid), ``steps`` (flow steps per particle), ``max_last_step`` (Å),
                ``nms_radius`` (Å), ``min_particles``, ``batch_size`` (structures per network
                run), ``species_offsets`` (1 to 16 offsets, Å, of the species-vote grid),
                ``retire_below``, ``merge_below``, ``drop_outside`` (Å, the fast flow's work
                savers; 0 turns each off), ``species_vote`` (``"majority"`` or
                ``"probability"``), ``symprec`` (Å; symmetrised decoding: snap each structure
                to the space group found at this tolerance; 0, the default, never does), and
                ``exact=True`` (the paper's decoder exactly: ``retire_below = merge_below =
                drop_outside = 0``). :func:`nesf.decode_option_names` lists what the loaded
                library supports.

        Returns:
            A list of ``n`` structures, in order (always a list, also for one latent). A
            latent in which no atom is found gives a structure with 0 atoms.

        Raises:
            TypeError: an unknown option name, or a value of the wrong type.
            ValueError: latents that are not 1- or 2-dimensional, a bad option value that
                the binding checks, or a bad ``to``.
            NesfError: the library's checks (e.g. latents of the wrong width, an option out of
                range) or decoding failures. With ``to="ase"`` or ``"pymatgen"``, also a
                decoded structure whose predicted lattice forms no cell (``to="nesf"`` gives
                it with ``lattice`` None).
        """
        _check_kind(to)
        o = self._decode_struct(options)
        return [s.to(to) for s in self._decode(latents, o, progress)]

    def _decode(self, latents: Any, o: DecodeOptionsC, progress: Any = None) -> list:
        z = np.ascontiguousarray(latents, dtype=np.float32)
        if z.ndim == 1:
            z = z.reshape(1, -1)
        if z.ndim != 2:
            raise ValueError(
                f"latents must have shape (n, latent_size) or (latent_size,), got {z.shape}"
            )
        out = ctypes.c_void_p()
        raised: List[BaseException] = []

        def report(done: int, total: int, _data: Any) -> int:
            try:
                return 1 if progress(done, total) is False else 0
            except BaseException as e:  # noqa: B036 - Ctrl-C must cancel the decode too
                raised.append(e)
                return 1

        args = (self._handle(), z.ctypes.data, z.shape[0], z.shape[1], ctypes.byref(o))
        if progress is None:
            status = lib.nesf_model_decode(*args, ctypes.byref(out))
        else:
            callback = _capi.PROGRESS_CALLBACK(report)
            status = lib.nesf_model_decode_monitored(*args, callback, None, ctypes.byref(out))
        if raised:
            raise raised[0]
        check(status)
        with CList(out.value) as c_list:
            return c_list.to_python()

    def autoencode(self, structures: Any, to: Optional[str] = None, **options: Any) -> Any:
        """Encodes structures and decodes their latents: the model's reconstruction.

        Args:
            structures: as for :meth:`encode`: one structure or a list.
            to: ``"ase"``, ``"pymatgen"`` or ``"nesf"``; None (default) returns each
                structure as the kind it came in (``ase.Atoms`` in, ``ase.Atoms`` out).
            **options: decoder settings, as for :meth:`decode`.

        Returns:
            One structure for one structure given, else a list in the same order. Each
            result keeps its input's identifier (``id`` / ``info["material_id"]`` /
            ``properties["material_id"]``).

        Raises:
            as :meth:`encode` and :meth:`decode`.
        """
        _check_kind(to, allow_none=True)
        items, single = as_list(structures)
        kinds = [kind_of(x) for x in items]
        converted = [to_nesf(x) for x in items]
        progress = options.pop("progress", None)
        o = self._decode_struct(options)
        decoded = self._decode(self.encode(converted), o, progress) if converted else []
        results = []
        for s, kind, source in zip(decoded, kinds, converted):
            s.id = source.id
            results.append(s.to(to or kind))
        return results[0] if single else results


def interpolate(z0: Any, z1: Any, n: int) -> np.ndarray:
    """``n`` latent vectors evenly spaced on the straight line from ``z0`` to ``z1`` (both
    included), over ``nesf_latents_interpolate``.

    Args:
        z0, z1: latent vectors of equal length, shape ``(latent_size,)`` (or ``(1,
            latent_size)``, as :meth:`Model.encode` returns for one structure).
        n: the number of vectors, at least 2.

    Returns:
        A float32 array of shape ``(n, latent_size)``; row 0 is ``z0``, row ``n - 1`` is
        ``z1``.

    Raises:
        ValueError: vectors of different lengths or more than one row; a negative ``n``.
        NesfError: the library's checks (``n`` < 2, non-finite values).
    """
    a = np.ascontiguousarray(z0, dtype=np.float32)
    b = np.ascontiguousarray(z1, dtype=np.float32)
    for name, v in (("z0", a), ("z1", b)):
        if not (v.ndim == 1 or (v.ndim == 2 and v.shape[0] == 1)):
            raise ValueError(f"{name} must be one latent vector, got shape {v.shape}")
    a, b = a.reshape(-1), b.reshape(-1)
    if a.size != b.size:
        raise ValueError(f"z0 and z1 have different lengths: {a.size} and {b.size}")
    steps = _count("n", n)
    out = np.empty((steps, a.size), dtype=np.float32)
    check(
        lib.nesf_latents_interpolate(
            a.ctypes.data, b.ctypes.data, a.size, steps, out.ctypes.data, out.size
        )
    )
    return out
