"""ASE interoperability check, run by tests/ase_interop.rs: python3 tests/ase_interop.py DIR

For every DIR/<name>.cif and DIR/<name>.vasp written by nesf, reads it with ASE, writes ASE's own
CIF, POSCAR (VASP 5, direct) and extended XYZ of it as DIR/ase_<name>_<cif|vasp>.<cif|vasp|extxyz>,
and dumps what ASE read (cell, cell parameters, atomic numbers, fractional coordinates) into
DIR/ase.json for the Rust side to compare.
"""
import glob
import json
import os
import sys

try:
    import ase.io
except ImportError:
    sys.exit("ASE is not installed for python3: pip install ase")

directory = sys.argv[1]
report = {}
for path in sorted(glob.glob(os.path.join(directory, "s*.cif"))):
    name = os.path.basename(path)[: -len(".cif")]
    report[name] = {}
    for kind in ("cif", "vasp"):
        atoms = ase.io.read(os.path.join(directory, f"{name}.{kind}"), format=kind)
        report[name][kind] = {
            "cell": atoms.cell.array.tolist(),
            "cellpar": atoms.cell.cellpar().tolist(),
            "numbers": atoms.numbers.tolist(),
            "scaled": atoms.get_scaled_positions(wrap=False).tolist(),
        }
        stem = os.path.join(directory, f"ase_{name}_{kind}")
        ase.io.write(stem + ".cif", atoms, format="cif")
        ase.io.write(stem + ".vasp", atoms, format="vasp", direct=True)
        ase.io.write(stem + ".extxyz", atoms, format="extxyz")
with open(os.path.join(directory, "ase.json"), "w") as f:
    json.dump(report, f)
print(f"ASE {ase.__version__}: read and rewrote {len(report)} structures")
