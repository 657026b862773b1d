"""The match rate (nesf.matching) and its command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

import nesf
from nesf.matching import MatchResult, match_rate


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "nesf.matching", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_set_matches_itself(lcs6_val):
    structures = nesf.read(lcs6_val)[:40]
    result = match_rate(structures, structures)
    assert isinstance(result, MatchResult)
    assert result.rate == 1.0 and result.percent == 100.0
    assert result.matched == result.total == 40
    assert result.mean_rmse == pytest.approx(0.0, abs=1e-6)
    assert len(result.rmses) == 40 and all(r is not None and r < 1e-6 for r in result.rmses)
    assert str(result) == "match rate 100.0 % (40/40), mean RMSE 0.000"


def test_mixed_kinds_and_non_matches(few_atoms):
    from pymatgen.io.ase import AseAtomsAdaptor

    references = list(few_atoms[:3])
    shifted = few_atoms[1].copy()
    shifted.positions += 0.5  # a rigid translation still matches
    empty = nesf.Structure(few_atoms[2].cell.array, [], np.zeros((0, 3)))
    candidates = [AseAtomsAdaptor.get_structure(few_atoms[0]), shifted, empty]
    result = match_rate(references, candidates)
    assert result.matched == 2 and result.total == 3
    assert result.rate == pytest.approx(2 / 3)
    assert result.rmses[2] is None and result.rmses[0] < 1e-6 and result.rmses[1] < 1e-6
    # another composition never matches; nothing matching gives no mean
    other = match_rate(references[:1], [few_atoms[1]])
    assert other.matched == 0 and other.mean_rmse is None and other.rmses == [None]
    assert str(other).endswith("mean RMSE n/a")
    with pytest.raises(ValueError, match="candidates"):
        match_rate(references, candidates[:2])


def test_perturbed_positions_give_an_rmse(few_atoms):
    a = few_atoms[0]
    b = a.copy()
    rng = np.random.default_rng(0)
    b.positions += rng.normal(scale=0.05, size=b.positions.shape)
    result = match_rate([a], [b])
    assert result.matched == 1 and 0 < result.mean_rmse < 0.1
    strict = match_rate([a], [b], stol=1e-4)
    assert strict.matched == 0


def test_command_line(lcs6_val, model, tmp_path):
    import ase.io

    references = ase.io.read(str(lcs6_val), index=":6", format="extxyz")
    ref_file = tmp_path / "ref.extxyz"
    nesf.write(ref_file, references)
    decoded = model.autoencode(references, to="nesf")
    dec_file = tmp_path / "decoded.extxyz"
    nesf.write(dec_file, decoded)
    expected = match_rate(references, decoded)

    done = run_cli(ref_file, dec_file)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line == str(expected)
    assert line.startswith("match rate ") and f"({expected.matched}/6)" in line

    done = run_cli(ref_file, dec_file, "--json", "--stol", "0.4", "--ltol", "0.2", "--angle-tol", "5")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total"] == 6 and report["stol"] == 0.4 and report["angle_tol"] == 5.0
    assert len(report["rmses"]) == 6
    assert report["matched"] == match_rate(references, decoded, 0.4, 0.2, 5.0).matched

    # a set against itself, whole lcs6-val: 100 %
    done = run_cli(lcs6_val, lcs6_val)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "match rate 100.0 % (286/286), mean RMSE 0.000"
    # --limit: the first N references (decoded files of `nesf eval --limit N`)
    first = tmp_path / "first5.extxyz"
    nesf.write(first, [s.copy() for s in nesf.read(lcs6_val)[:5]])
    done = run_cli(lcs6_val, first, "--limit", "5")
    assert done.stdout.startswith("match rate 100.0 % (5/5)"), done.stdout + done.stderr

    # CIF and POSCAR work as well
    cif = tmp_path / "ref.cif"
    nesf.write(cif, references)
    assert run_cli(cif, ref_file).stdout.startswith("match rate 100.0 % (6/6)")
    poscar = tmp_path / "POSCAR"
    nesf.write(poscar, references[0])
    assert run_cli(poscar, poscar).stdout.startswith("match rate 100.0 % (1/1)")


def test_command_line_errors(lcs6_val, tmp_path):
    ref_file = tmp_path / "ref.extxyz"
    nesf.write(ref_file, nesf.read(lcs6_val)[:3])
    done = run_cli(lcs6_val, ref_file)
    assert done.returncode == 2 and "286" in done.stderr and "3" in done.stderr
    done = run_cli(ref_file, tmp_path / "missing.extxyz")
    assert done.returncode == 1 and "nesf_structures_read" in done.stderr
    done = run_cli(ref_file)
    assert done.returncode == 2  # argparse usage error


def test_pairing_by_id_counts_missing_structures_as_unmatched(lcs6_val):
    from nesf.matching import pair

    refs = nesf.read(lcs6_val)[:4]
    decoded = [s.copy() for s in refs]
    for d in decoded:
        d.id = d.id + "-decoded"
    del decoded[2]  # decoded to nothing: left out of the file
    paired = pair(refs, decoded[::-1])
    assert [p is None for p in paired] == [False, False, True, False]
    assert paired[0].id == refs[0].id + "-decoded"
    result = match_rate(refs, paired)
    assert (result.matched, result.total) == (3, 4)
    # no ids: positions pair, and the counts must agree
    for d in decoded:
        d.id = None
    with pytest.raises(ValueError, match="as many"):
        pair(refs, decoded)
