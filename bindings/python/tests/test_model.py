"""Models: loading, facts, encode, decode, autoencode, options, interpolation and errors."""

import subprocess

import numpy as np
import pytest

import nesf


def test_default_model_facts(model):
    assert model.latent_size == 192
    species = model.species
    assert len(species) == 80 and species == sorted(species)
    assert all(isinstance(z, int) for z in species)
    assert model.species_symbols[:3] == ["H", "Li", "Be"]
    manifest = model.manifest
    assert isinstance(manifest, dict)
    assert manifest["latent_size"] == model.latent_size
    assert manifest["vocabulary"] == species
    provider = model.provider
    assert provider.name == "cpu" and provider.device == "cpu" and provider.device_id == 0
    assert provider.description == "CPU"
    assert "latent_size=192" in repr(model)


def test_model_lifetime():
    with nesf.Model.default() as m:
        assert not m.closed
        z = m.encode(nesf.Structure(np.eye(3) * 3.0, ["Fe"], [[0.0, 0.0, 0.0]]))
        assert z.shape == (1, m.latent_size)
    assert m.closed
    m.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        m.encode(nesf.Structure(np.eye(3) * 3.0, ["Fe"], [[0.0, 0.0, 0.0]]))
    assert repr(m) == "nesf.Model(closed)"
    with pytest.raises(TypeError):
        nesf.Model(0)


def test_model_options():
    with nesf.Model.default("cpu", threads=1, max_points_per_run=4096) as m:
        assert m.provider.name == "cpu"
    for bad in ("gpu", "cuda:x", "cuda:-1", ""):
        with pytest.raises(ValueError, match="device"):
            nesf.Model.default(bad)
    with pytest.raises(ValueError, match="threads"):
        nesf.Model.default(threads=-1)
    with pytest.raises(nesf.NesfError, match="max_points_per_run"):
        nesf.Model.default(max_points_per_run=0)


def test_load_model_bundle_file_and_bytes(repo):
    bundle = repo / "models" / "default.nesf"
    if not bundle.is_file():
        pytest.skip(f"no {bundle}")
    with nesf.Model.load(bundle) as m:
        assert m.latent_size == 192
    with nesf.Model.from_bytes(bundle.read_bytes()) as m:
        assert m.latent_size == 192


def test_cuda_falls_back_to_cpu_when_allowed():
    # no GPU build of ONNX Runtime here: with the fallback the CPU runs and says why
    m = nesf.Model.default("cuda:0", allow_fallback=True)
    try:
        if m.provider.name == "cuda":
            pytest.skip("CUDA runs on this machine")
        assert m.provider.name == "cpu"
        assert "CUDA" in m.provider.description
    finally:
        m.close()


def test_encode_shape_and_dtype(model, few_atoms):
    z = model.encode(few_atoms)
    assert z.shape == (len(few_atoms), model.latent_size)
    assert z.dtype == np.float32 and z.flags.c_contiguous
    assert np.isfinite(z).all()
    one = model.encode(few_atoms[0])
    assert one.shape == (1, model.latent_size)
    np.testing.assert_allclose(one[0], z[0], rtol=1e-5, atol=1e-5)
    # the same structures through pymatgen and nesf.Structure give the same latents
    from pymatgen.io.ase import AseAtomsAdaptor

    pmg = [AseAtomsAdaptor.get_structure(a) for a in few_atoms]
    np.testing.assert_allclose(model.encode(pmg), z, rtol=1e-5, atol=1e-5)
    mixed = [nesf.Structure.from_ase(few_atoms[0]), pmg[1], few_atoms[2]]
    np.testing.assert_allclose(model.encode(mixed), z[:3], rtol=1e-5, atol=1e-5)
    assert model.encode([]).shape == (0, model.latent_size)


def test_decode_kinds(model, few_atoms):
    import ase
    from pymatgen.core import Structure as PmgStructure

    z = model.encode(few_atoms[:2])
    as_ase = model.decode(z)
    assert len(as_ase) == 2 and all(isinstance(a, ase.Atoms) for a in as_ase)
    as_pmg = model.decode(z, to="pymatgen")
    assert all(isinstance(s, PmgStructure) for s in as_pmg)
    as_nesf = model.decode(z, to="nesf")
    assert all(isinstance(s, nesf.Structure) for s in as_nesf)
    for a, p, n in zip(as_ase, as_pmg, as_nesf):
        assert len(a) == len(p) == len(n) > 0
        np.testing.assert_allclose(a.cell.array, n.lattice)
        np.testing.assert_allclose(p.lattice.matrix, n.lattice)
        np.testing.assert_allclose(a.positions, n.positions)
        np.testing.assert_allclose(p.cart_coords, n.positions)
        assert list(a.numbers) == list(n.numbers) == [site.specie.Z for site in p]
        assert n.confidence is not None and n.confidence.shape == (len(n),)
        assert ((n.confidence >= 0) & (n.confidence <= 1)).all()
        np.testing.assert_allclose(a.arrays["confidence"], n.confidence, rtol=1e-6)
        (lengths, angles) = n.lattice_parameters
        np.testing.assert_allclose(lengths, a.cell.cellpar()[:3], rtol=1e-5)
        np.testing.assert_allclose(angles, a.cell.cellpar()[3:], rtol=1e-5)
    # one latent (1-D) gives a list of one
    single = model.decode(z[0], to="nesf")
    assert len(single) == 1 and len(single[0]) == len(as_nesf[0])
    assert model.decode(np.zeros((0, model.latent_size), np.float32)) == []
    with pytest.raises(ValueError, match="to must be"):
        model.decode(z, to="cif")


def test_autoencode_round_trip_against_the_cli(model, few_atoms, cli, tmp_path):
    """The Python autoencoder gives what `nesf autoencode` gives for the same structures."""
    import ase
    import ase.io

    source = tmp_path / "in.extxyz"
    ase.io.write(str(source), few_atoms, format="extxyz")
    out = tmp_path / "out.extxyz"
    done = subprocess.run(
        [str(cli), "autoencode", str(source), "-o", str(out), "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    expected = nesf.read(out)
    assert len(expected) == len(few_atoms), "the CLI left some structure out"

    with nesf.Model.default(threads=1) as m:
        decoded = m.autoencode(few_atoms)
    assert all(isinstance(a, ase.Atoms) for a in decoded)
    exact = 0
    for true, mine, theirs in zip(few_atoms, decoded, expected):
        assert len(mine) == len(theirs)
        assert list(mine.numbers) == list(theirs.numbers)
        np.testing.assert_allclose(mine.cell.array, theirs.lattice, atol=1e-4)
        np.testing.assert_allclose(mine.positions, theirs.positions, atol=1e-4)
        # sensible reconstructions: about as many atoms as the input
        assert 0 < len(mine) <= 2 * len(true)
        exact += len(mine) == len(true)
        assert mine.info["material_id"] == true.info["material_id"]
    assert exact >= len(few_atoms) // 2


def test_autoencode_keeps_the_input_kind(model, few_atoms):
    import ase
    from pymatgen.core import Structure as PmgStructure
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = few_atoms[0]
    pmg = AseAtomsAdaptor.get_structure(few_atoms[1])
    pmg.properties["material_id"] = "mp-test"
    native = nesf.Structure.from_ase(few_atoms[2])
    out = model.autoencode([atoms, pmg, native])
    assert isinstance(out[0], ase.Atoms)
    assert isinstance(out[1], PmgStructure) and out[1].properties["material_id"] == "mp-test"
    assert isinstance(out[2], nesf.Structure) and out[2].id == native.id
    one = model.autoencode(atoms)
    assert isinstance(one, ase.Atoms)
    assert isinstance(model.autoencode(atoms, to="pymatgen"), PmgStructure)
    assert model.autoencode([]) == []


def test_decode_options(model, few_atoms):
    defaults = model.decode_options()
    assert defaults["grid_step"] == 0.5 and defaults["steps"] == 64
    # the shipped model's bundle votes by majority (chosen on lcs6-val)
    assert defaults["species_vote"] == "majority"
    assert len(defaults["species_offsets"]) == 6
    changed = model.decode_options(
        grid_step=0.6, steps=32, species_offsets=[-0.1, 0.0, 0.1], species_vote="probability"
    )
    assert changed["grid_step"] == 0.6 and changed["steps"] == 32
    assert changed["species_offsets"] == (-0.1, 0.0, 0.1)
    assert changed["species_vote"] == "probability"
    exact = model.decode_options(exact=True)
    assert exact["retire_below"] == exact["merge_below"] == exact["drop_outside"] == 0.0
    assert set(nesf.decode_option_names()) == set(defaults) | {"exact"}

    z = model.encode(few_atoms[:1])
    coarse = model.decode(z, to="nesf", grid_step=0.7, steps=32, batch_size=4)
    assert len(coarse) == 1
    a = model.decode(z, to="nesf", species_vote="majority")[0]
    b = model.decode(z, to="nesf", exact=True)[0]
    assert len(a) > 0 and len(b) > 0


def test_decode_option_errors(model):
    z = np.zeros((1, model.latent_size), np.float32)
    with pytest.raises(TypeError, match="'grid_stepp'"):
        model.decode(z, grid_stepp=0.5)
    with pytest.raises(TypeError, match="'struct_size'"):
        model.decode(z, struct_size=8)
    with pytest.raises(TypeError, match="'foo'"):
        model.autoencode(nesf.Structure(np.eye(3) * 3, ["Fe"], [[0, 0, 0]]), foo=1)
    with pytest.raises(TypeError, match="steps"):
        model.decode(z, steps=1.5)
    with pytest.raises(ValueError, match="steps"):
        model.decode(z, steps=-1)
    with pytest.raises(TypeError, match="grid_step"):
        model.decode(z, grid_step="fine")
    with pytest.raises(ValueError, match="species_vote"):
        model.decode(z, species_vote="plurality")
    with pytest.raises(ValueError, match="species_offsets"):
        model.decode(z, species_offsets=[])
    with pytest.raises(ValueError, match="species_offsets"):
        model.decode(z, species_offsets=[0.0] * 17)
    with pytest.raises(ValueError, match="exact"):
        model.decode(z, exact=True, retire_below=0.01)
    with pytest.raises(TypeError, match="exact"):
        model.decode(z, exact="yes")
    # range checks are the library's
    with pytest.raises(nesf.NesfError) as e:
        model.decode(z, grid_step=-1.0)
    assert e.value.status == nesf.Status.INVALID_ARGUMENT
    assert e.value.message.startswith("nesf_model_decode:") and "grid_step" in e.value.message


def test_library_errors_carry_the_library_message(model, tmp_path):
    from nesf import _capi

    missing = tmp_path / "missing.nesf"
    with pytest.raises(nesf.NesfError) as e:
        nesf.Model.load(missing)
    assert e.value.status == nesf.Status.IO
    assert e.value.message == str(e.value) == _capi.last_error()
    assert e.value.message.startswith("nesf_model_load: ") and str(missing) in e.value.message

    bundle = tmp_path / "bad.nesf"
    bundle.write_bytes(b"this is not a model bundle")
    with pytest.raises(nesf.NesfError) as e:
        nesf.Model.load(bundle)
    assert e.value.status == nesf.Status.INVALID_MODEL
    assert e.value.message == _capi.last_error()

    with pytest.raises(nesf.NesfError) as e:
        model.decode(np.zeros((2, 10), np.float32))
    assert e.value.status == nesf.Status.INVALID_ARGUMENT
    assert e.value.message == (
        "nesf_model_decode: latent_size is 10, but the model's latent vectors have size 192"
    )
    with pytest.raises(ValueError, match="shape"):
        model.decode(np.zeros((1, 2, 192), np.float32))

    polonium = nesf.Structure(np.eye(3) * 3.35, ["Po"], [[0.0, 0.0, 0.0]])
    with pytest.raises(nesf.NesfError) as e:
        model.encode(polonium)
    assert "vocabulary" in e.value.message

    empty = nesf.Structure(np.eye(3) * 3.0, [], np.zeros((0, 3)))
    with pytest.raises(nesf.NesfError) as e:
        model.encode(empty)
    assert e.value.status == nesf.Status.INVALID_STRUCTURE
    flat = nesf.Structure(np.diag([3.0, 3.0, 0.0]), ["Fe"], [[0.0, 0.0, 0.0]])
    with pytest.raises(nesf.NesfError):
        model.encode(flat)
    with pytest.raises(TypeError, match="ase.Atoms"):
        model.encode("NaCl")
    with pytest.raises(TypeError, match="int"):
        model.encode([1, 2])

    assert "INVALID_ARGUMENT" in repr(nesf.NesfError(1, "x"))
    import pickle

    again = pickle.loads(pickle.dumps(e.value))
    assert again.status == e.value.status and again.message == e.value.message


def test_interpolate(model, few_atoms):
    z = model.encode(few_atoms[:2])
    line = nesf.interpolate(z[0], z[1], 5)
    assert line.shape == (5, model.latent_size) and line.dtype == np.float32
    np.testing.assert_allclose(line[0], z[0], atol=1e-6)
    np.testing.assert_allclose(line[-1], z[1], atol=1e-6)
    np.testing.assert_allclose(line[2], (z[0] + z[1]) / 2, atol=1e-5)
    # rows of encode() work as they are
    assert nesf.interpolate(z[:1], z[1:2], 2).shape == (2, model.latent_size)
    with pytest.raises(nesf.NesfError) as e:
        nesf.interpolate(z[0], z[1], 1)
    assert e.value.message.startswith("nesf_latents_interpolate:")
    with pytest.raises(nesf.NesfError):
        nesf.interpolate(np.full(4, np.nan), np.zeros(4), 3)
    with pytest.raises(ValueError, match="lengths"):
        nesf.interpolate(z[0], z[1][:10], 3)
    with pytest.raises(ValueError):
        nesf.interpolate(z[0], z[1], -1)
    with pytest.raises(ValueError, match="one latent"):
        nesf.interpolate(z, z, 3)
    decoded = model.decode(line[1:4], to="nesf")
    assert len(decoded) == 3


def test_structure_type():
    s = nesf.Structure(np.eye(3) * 4.0, ["Na", "Cl"], [[0, 0, 0], [2, 2, 2]], id="x")
    assert list(s.numbers) == [11, 17] and s.numbers.dtype == np.int32
    assert s.symbols == ["Na", "Cl"] and s.formula == "NaCl" and len(s) == 2
    assert s.volume == pytest.approx(64.0)
    np.testing.assert_allclose(s.fractional_positions, [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert s.lattice_parameters == ((4.0, 4.0, 4.0), (90.0, 90.0, 90.0))
    t = nesf.Structure.from_fractional(np.eye(3) * 4.0, [11, 17], [[0, 0, 0], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(t.positions, s.positions)
    c = s.copy()
    c.positions[0, 0] = 1.0
    assert s.positions[0, 0] == 0.0
    atoms = s.to_ase()
    assert atoms.info["material_id"] == "x" and atoms.get_chemical_formula() == "ClNa"
    back = nesf.Structure.from_ase(atoms)
    assert back.id == "x"
    pmg = s.to_pymatgen()
    assert pmg.properties["material_id"] == "x"
    assert nesf.Structure.from_pymatgen(pmg).id == "x"
    assert "NaCl" in repr(s)
    with pytest.raises(ValueError, match="positions"):
        nesf.Structure(np.eye(3), [1, 2], [[0, 0, 0]])
    with pytest.raises(ValueError, match="lattice"):
        nesf.Structure(np.eye(2), [1], [[0, 0, 0]])
    with pytest.raises(ValueError, match="symbol"):
        nesf.Structure(np.eye(3), ["Xx"], [[0, 0, 0]])


def test_disordered_pymatgen_structure_is_refused(model):
    from pymatgen.core import Lattice
    from pymatgen.core import Structure as PmgStructure

    disordered = PmgStructure(Lattice.cubic(3.0), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]])
    with pytest.raises(ValueError, match="disordered"):
        model.encode(disordered)


def test_symmetrised_decoding(model, few_atoms):
    # the shipped model's bundle symmetrises at 0.4 Å by default; symprec=0 turns it off
    assert model.decode_options()["symprec"] == 0.4
    assert model.decode_options(symprec=0)["symprec"] == 0.0
    assert "symprec" in nesf.decode_option_names()
    z = model.encode(few_atoms[:2])
    plain = model.decode(z, to="pymatgen", symprec=0)
    snapped = model.decode(z, to="pymatgen", symprec=0.3)
    assert len(snapped) == 2 and all(len(s) > 0 for s in snapped)
    assert model.decode_options(symprec=0.1)["symprec"] == 0.1
    # snapping raises (never lowers) the symmetry a tight tolerance sees, per spglib too; a
    # structure for which no group is found stays as decoded
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    def tight(s):
        return SpacegroupAnalyzer(s, symprec=1e-4).get_space_group_number()

    assert all(tight(s) >= tight(p) for p, s in zip(plain, snapped))
    assert any(tight(s) > tight(p) for p, s in zip(plain, snapped))
    with pytest.raises(nesf.NesfError) as e:
        model.decode(z, symprec=-1.0)
    assert "symprec" in e.value.message


def test_an_older_decode_options_layout_still_works(model, few_atoms, monkeypatch):
    """With a library that knows an older, shorter nesf_decode_options_t (as one chosen with
    NESF_LIBRARY may), the binding passes the shorter struct_size: the newer fields are
    refused as options and the rest works."""
    from nesf import _capi

    monkeypatch.setattr(_capi, "_decode_size", _capi.DecodeOptionsC.symprec.offset)
    assert "symprec" not in nesf.decode_option_names()
    assert "symprec" not in model.decode_options()
    with pytest.raises(TypeError, match="not supported"):
        model.decode(np.zeros((1, model.latent_size), np.float32), symprec=0.1)
    z = model.encode(few_atoms[:1])
    a = model.decode(z, to="nesf", steps=48)[0]
    monkeypatch.setattr(_capi, "_decode_size", _capi.DecodeOptionsC.retire_below.offset)
    assert "species_vote" not in nesf.decode_option_names()
    b = model.decode(z, to="nesf", steps=48)[0]
    assert len(a) > 0 and len(b) > 0


def test_one_model_from_two_threads(model, few_atoms):
    from concurrent.futures import ThreadPoolExecutor

    z = model.encode(few_atoms[:2])
    serial = [model.decode(z[i], to="nesf", steps=32)[0] for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda i: model.decode(z[i], to="nesf", steps=32)[0], range(2)))
        encoded = list(pool.map(lambda a: model.encode(a), few_atoms[:2]))
    for s, p in zip(serial, parallel):
        assert list(s.numbers) == list(p.numbers)
        np.testing.assert_allclose(s.positions, p.positions, atol=1e-5)
    np.testing.assert_allclose(np.vstack(encoded), z, atol=1e-5)


def test_sixteen_threads_share_one_model_bit_identically(model, lcs6_val):
    """16 threads, each encoding and decoding its own structures for 3 rounds, give exactly
    the serial results (the library releases nothing to Python in between: ctypes drops the
    GIL for every call)."""
    import threading

    structures = nesf.read(lcs6_val)[:32]
    cheap = dict(to="nesf", grid_step=1.0, steps=8, min_particles=1)

    def work(t):
        mine = structures[2 * t : 2 * t + 2]
        z = model.encode(mine)
        decoded = model.decode(z, **cheap)
        return z.tobytes(), [(s.numbers.tobytes(), s.positions.tobytes()) for s in decoded]

    serial = [work(t) for t in range(16)]
    results = [[None] * 3 for _ in range(16)]
    start = threading.Barrier(16)

    def run(t):
        start.wait()
        for r in range(3):
            results[t][r] = work(t)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(16):
        for r in range(3):
            assert results[t][r] == serial[t], f"thread {t}, round {r}"


def test_decode_progress_and_cancellation(model, few_atoms):
    z = model.encode(few_atoms[:3])
    seen = []
    out = model.decode(z, to="nesf", batch_size=2, steps=4, progress=lambda d, t: seen.append((d, t)))
    assert len(out) == 3
    # 2 batches x 4 flow steps, plus after each batch; done never goes back
    assert len(seen) == 2 * 4 + 2 and seen[-1] == (3, 3)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(nesf.NesfError) as e:
        model.decode(z, batch_size=2, steps=4, progress=lambda d, t: d < 2)
    assert e.value.status == nesf.Status.CANCELLED and "after 2 of 3" in e.value.message

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.autoencode(few_atoms[:2], steps=4, progress=interrupt)
    # the model still works afterwards
    assert len(model.decode(z[:1], to="nesf", steps=4)) == 1
