"""Files: nesf.read / nesf.write against ASE's and pymatgen's own readers and writers."""

import numpy as np
import pytest

import nesf

N = 20  # structures of lcs6-val used in the file round trips


@pytest.fixture(scope="module")
def references(lcs6_val):
    """The first N structures of lcs6-val as ASE reads them."""
    import ase.io

    return ase.io.read(str(lcs6_val), index=f":{N}", format="extxyz")


def same_fractional_sites(frac_a, numbers_a, frac_b, numbers_b, tol=1e-4):
    """Whether two sets of sites are the same up to order and lattice translations."""
    assert len(numbers_a) == len(numbers_b)
    used = set()
    for fa, za in zip(frac_a, numbers_a):
        for j, (fb, zb) in enumerate(zip(frac_b, numbers_b)):
            d = np.asarray(fa) - np.asarray(fb)
            if j not in used and za == zb and np.abs(d - np.round(d)).max() < tol:
                used.add(j)
                break
        else:
            return False
    return True


def test_read_matches_ase(lcs6_val, references):
    mine = nesf.read(lcs6_val)
    assert len(mine) == 286
    assert all(isinstance(s, nesf.Structure) for s in mine)
    for s, a in zip(mine, references):
        np.testing.assert_allclose(s.lattice, a.cell.array, atol=1e-8)
        np.testing.assert_allclose(s.positions, a.positions, atol=1e-8)
        assert list(s.numbers) == list(a.numbers)
        assert s.confidence is None
        assert s.id == a.info["material_id"]
    as_ase = nesf.read(lcs6_val, to="ase")
    assert as_ase[0].get_chemical_formula() == references[0].get_chemical_formula()
    as_pmg = nesf.read(lcs6_val, to="pymatgen")
    assert len(as_pmg) == 286
    with pytest.raises(ValueError, match="to must be"):
        nesf.read(lcs6_val, to="xyz")


def test_extxyz_round_trip_through_ase(tmp_path, references):
    import ase.io

    path = tmp_path / "out.extxyz"
    nesf.write(path, references)
    back = ase.io.read(str(path), index=":", format="extxyz")
    assert len(back) == len(references)
    for a, b in zip(references, back):
        np.testing.assert_allclose(b.cell.array, a.cell.array, atol=1e-6)
        np.testing.assert_allclose(b.positions, a.positions, atol=1e-6)
        assert list(b.numbers) == list(a.numbers)
    # and what ASE writes, nesf reads
    theirs = tmp_path / "ase.extxyz"
    ase.io.write(str(theirs), references, format="extxyz")
    for a, s in zip(references, nesf.read(theirs)):
        np.testing.assert_allclose(s.lattice, a.cell.array, atol=1e-6)
        np.testing.assert_allclose(s.positions, a.positions, atol=1e-6)


def test_cif_round_trip_through_ase_and_pymatgen(tmp_path, references):
    import ase.io
    from pymatgen.core import Structure as PmgStructure

    path = tmp_path / "out.cif"
    nesf.write(path, references)
    by_ase = ase.io.read(str(path), index=":", format="cif")
    assert len(by_ase) == len(references)
    for a, b in zip(references, by_ase):
        np.testing.assert_allclose(b.cell.cellpar(), a.cell.cellpar(), atol=1e-4)
        assert same_fractional_sites(
            a.get_scaled_positions(), a.numbers, b.get_scaled_positions(), b.numbers
        )
    # pymatgen reads one structure per file: write them one by one
    for i, a in enumerate(references[:8]):
        one = tmp_path / f"s{i}.cif"
        nesf.write(one, a)
        p = PmgStructure.from_file(str(one))
        np.testing.assert_allclose(p.lattice.abc, a.cell.cellpar()[:3], atol=1e-4)
        np.testing.assert_allclose(p.lattice.angles, a.cell.cellpar()[3:], atol=1e-3)
        assert same_fractional_sites(
            a.get_scaled_positions(), a.numbers, p.frac_coords, [s.specie.Z for s in p]
        )


def test_poscar_round_trip_through_ase_and_pymatgen(tmp_path, references):
    import ase.io
    from pymatgen.core import Structure as PmgStructure

    for i, a in enumerate(references[:8]):
        path = tmp_path / f"s{i}.vasp"
        nesf.write(path, a)
        b = ase.io.read(str(path), format="vasp")
        np.testing.assert_allclose(b.cell.array, a.cell.array, atol=1e-6)
        assert same_fractional_sites(
            a.get_scaled_positions(), a.numbers, b.get_scaled_positions(), b.numbers, tol=1e-6
        )
        p = PmgStructure.from_file(str(path))
        np.testing.assert_allclose(p.lattice.matrix, a.cell.array, atol=1e-6)
        assert same_fractional_sites(
            a.get_scaled_positions(), a.numbers, p.frac_coords, [s.specie.Z for s in p], tol=1e-6
        )
        # pymatgen's POSCAR, read by nesf
        theirs = tmp_path / f"POSCAR_{i}"
        p.to(filename=str(theirs), fmt="poscar")
        (s,) = nesf.read(theirs)
        np.testing.assert_allclose(s.lattice, a.cell.array, atol=1e-6)
        assert same_fractional_sites(
            a.get_scaled_positions(), a.numbers, s.fractional_positions, s.numbers, tol=1e-6
        )


def test_pymatgen_cif_read_by_nesf(tmp_path, references):
    from pymatgen.io.ase import AseAtomsAdaptor

    for i, a in enumerate(references[:5]):
        p = AseAtomsAdaptor.get_structure(a)
        path = tmp_path / f"pmg{i}.cif"
        p.to(filename=str(path), fmt="cif")
        (s,) = nesf.read(path)
        np.testing.assert_allclose(s.lattice_parameters[0], p.lattice.abc, atol=1e-4)
        np.testing.assert_allclose(s.lattice_parameters[1], p.lattice.angles, atol=1e-3)
        assert same_fractional_sites(
            p.frac_coords, [x.specie.Z for x in p], s.fractional_positions, s.numbers
        )


def test_read_and_write_errors(tmp_path, references):
    malformed = tmp_path / "bad.extxyz"
    malformed.write_text("2\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3\nFe 0 0 0\n")
    with pytest.raises(nesf.NesfError) as e:
        nesf.read(malformed)
    assert e.value.status == nesf.Status.PARSE
    assert e.value.message.startswith("nesf_structures_read: ") and str(malformed) in e.value.message

    with pytest.raises(nesf.NesfError) as e:
        nesf.read(tmp_path / "missing.cif")
    assert e.value.status == nesf.Status.IO

    with pytest.raises(nesf.NesfError) as e:
        nesf.read(tmp_path / "file.txt")
    assert e.value.status == nesf.Status.INVALID_ARGUMENT and "format" in e.value.message

    with pytest.raises(nesf.NesfError) as e:
        nesf.write(tmp_path / "two.vasp", references[:2])
    assert "exactly one" in e.value.message

    empty = nesf.Structure(np.eye(3) * 3.0, [], np.zeros((0, 3)))
    with pytest.raises(nesf.NesfError):
        nesf.write(tmp_path / "empty.extxyz", [empty])
    assert not (tmp_path / "empty.extxyz").exists()

    with pytest.raises(ValueError, match="NUL"):
        nesf.read("bad\0name.cif")


def test_ids_survive_files(tmp_path, lcs6_val):
    """The library keeps ids through extended XYZ (material_id) and CIF (block names)."""
    mine = nesf.read(lcs6_val)[:3]
    mine[1].id = "renamed-1"
    for name in ["ids.extxyz", "ids.cif"]:
        nesf.write(tmp_path / name, mine)
        back = nesf.read(tmp_path / name)
        assert [s.id for s in back] == [s.id for s in mine]
