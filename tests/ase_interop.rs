//! Interoperability with ASE (the Atomic Simulation Environment).
//!
//! Every structure of data/lcs6-val.extxyz is written by nesf as CIF and POSCAR; ASE
//! (tests/ase_interop.py) reads both, reports what it read, and writes its own CIF, POSCAR and
//! extended XYZ of each; nesf then reads ASE's files. Every position must agree with the
//! original to 1e-5 Å modulo lattice translations, atoms matched to the nearest of the same
//! element (POSCAR regroups atoms by species). CIF keeps no Cartesian orientation, so positions
//! are compared as fractional coordinates mapped through the original lattice, after checking
//! that the cell parameters agree; where the orientation is kept (POSCAR, extended XYZ from a
//! POSCAR) the lattice vectors are compared too.
//!
//! Needs python3 with ASE (`pip install ase`); the test fails, rather than skips, without them.

use std::path::Path;
use std::process::Command;

use nesf::{Lattice, Structure, Vec3};

const POSITION_TOLERANCE: f64 = 1e-5;
const CELL_TOLERANCE: f64 = 1e-6;

/// What a reader (ASE or nesf) made of a file: cell, atomic numbers and fractional coordinates.
struct Seen {
    matrix: [Vec3; 3],
    numbers: Vec<u8>,
    fractional: Vec<Vec3>,
}

impl From<&Structure> for Seen {
    fn from(s: &Structure) -> Self {
        Seen {
            matrix: *s.lattice().matrix(),
            numbers: s.numbers().to_vec(),
            fractional: s.fractional_positions(),
        }
    }
}

fn from_json(v: &serde_json::Value) -> Seen {
    let vec3 = |x: &serde_json::Value| -> Vec3 {
        let a = x.as_array().expect("a 3-vector");
        [0, 1, 2].map(|k| a[k].as_f64().expect("a number"))
    };
    let rows =
        |key: &str| -> Vec<Vec3> { v[key].as_array().expect(key).iter().map(vec3).collect() };
    let cell = rows("cell");
    Seen {
        matrix: [cell[0], cell[1], cell[2]],
        numbers: v["numbers"]
            .as_array()
            .expect("numbers")
            .iter()
            .map(|z| z.as_u64().expect("an atomic number") as u8)
            .collect(),
        fractional: rows("scaled"),
    }
}

/// Compares what was read with the original; returns the problems found.
fn compare(original: &Structure, seen: &Seen, same_orientation: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let lattice = match Lattice::new(seen.matrix) {
        Ok(l) => l,
        Err(e) => return vec![format!("unusable cell: {e}")],
    };
    let (p, q) = (original.lattice().parameters(), lattice.parameters());
    let (pv, qv) = (
        [p.a, p.b, p.c, p.alpha, p.beta, p.gamma],
        [q.a, q.b, q.c, q.alpha, q.beta, q.gamma],
    );
    if pv
        .iter()
        .zip(&qv)
        .any(|(x, y)| (x - y).abs() > CELL_TOLERANCE)
    {
        problems.push(format!("cell parameters {qv:?}, expected {pv:?}"));
    }
    if same_orientation {
        let (m, n) = (original.lattice().matrix(), &seen.matrix);
        if m.iter()
            .flatten()
            .zip(n.iter().flatten())
            .any(|(x, y)| (x - y).abs() > CELL_TOLERANCE)
        {
            problems.push(format!("lattice vectors {n:?}, expected {m:?}"));
        }
    }
    if seen.numbers.len() != original.len() {
        problems.push(format!(
            "{} atoms, expected {}",
            seen.numbers.len(),
            original.len()
        ));
        return problems;
    }
    let reference = original.fractional_positions();
    let mut used = vec![false; original.len()];
    for (&z, f) in seen.numbers.iter().zip(&seen.fractional) {
        let best = (0..original.len())
            .filter(|&j| !used[j] && original.numbers()[j] == z)
            .map(|j| (j, original.lattice().periodic_distance(*f, reference[j])))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((j, d)) if d <= POSITION_TOLERANCE => used[j] = true,
            Some((_, d)) => problems.push(format!(
                "atom Z={z} at fractional {f:?} is {d:.3e} Å from the nearest original"
            )),
            None => problems.push(format!("atom Z={z} at fractional {f:?} has no counterpart")),
        }
    }
    problems
}

fn run_ase(dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ase_interop.py");
    let output = match Command::new("python3").arg(&script).arg(dir).output() {
        Ok(o) => o,
        Err(e) => {
            panic!("cannot run python3 ({e}): this test needs Python 3 with ASE (pip install ase)")
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "tests/ase_interop.py failed ({}); this test needs python3 with ASE (pip install ase):\n{stderr}",
        output.status
    );
    let text =
        std::fs::read_to_string(dir.join("ase.json")).expect("ase.json written by the script");
    serde_json::from_str(&text).expect("ase.json is JSON")
}

#[test]
fn ase_reads_our_files_and_we_read_ases() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lcs6-val.extxyz");
    let structures = nesf::io::read(&data).expect("reading data/lcs6-val.extxyz");
    assert!(!structures.is_empty());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let names: Vec<String> = (0..structures.len()).map(|i| format!("s{i:04}")).collect();
    for (s, name) in structures.iter().zip(&names) {
        nesf::io::write(
            dir.path().join(format!("{name}.cif")),
            std::slice::from_ref(s),
        )
        .unwrap();
        nesf::io::write(
            dir.path().join(format!("{name}.vasp")),
            std::slice::from_ref(s),
        )
        .unwrap();
    }

    let report = run_ase(dir.path());

    let mut failures = Vec::new();
    let mut checks = 0;
    for (s, name) in structures.iter().zip(&names) {
        let id = s.id().unwrap_or(name);
        for kind in ["cif", "vasp"] {
            // The POSCAR keeps our orientation all along; a CIF does not.
            let oriented = kind == "vasp";
            let ase_view = &report[name.as_str()][kind];
            assert!(
                ase_view.is_object(),
                "ase.json has no entry for {name} {kind}"
            );
            let mut views = vec![(
                format!("ASE reading our {kind}"),
                Ok(from_json(ase_view)),
                oriented,
            )];
            for (ext, keeps_orientation) in
                [("cif", false), ("vasp", oriented), ("extxyz", oriented)]
            {
                let path = dir.path().join(format!("ase_{name}_{kind}.{ext}"));
                let seen = match nesf::io::read(&path) {
                    Ok(back) if back.len() == 1 => Ok(Seen::from(&back[0])),
                    Ok(back) => Err(format!("{} structures", back.len())),
                    Err(e) => Err(e.to_string()),
                };
                views.push((
                    format!("nesf reading ASE's {ext} of our {kind}"),
                    seen,
                    keeps_orientation,
                ));
            }
            for (what, seen, same_orientation) in views {
                checks += 1;
                let problems = match seen {
                    Ok(seen) => compare(s, &seen, same_orientation),
                    Err(e) => vec![e],
                };
                for p in problems {
                    failures.push(format!("{id} ({name}) {what}: {p}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} checks disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checks, structures.len() * 8);
}
