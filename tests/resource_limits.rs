//! Inputs and settings that would exhaust memory or run for ever are refused up front, with a
//! message naming the limit (issue findings: tiny grid steps, batches of huge grids, absurd
//! step counts, crafted bundles, thread counts, astronomic cells).

mod common;

use common::{data, random_weights, with_manifest};
use nesf::decode::decode;
use nesf::model::{Bundle, Model, ModelOptions, Provenance};
use nesf::{BoundingBox, DecodeOptions, Field, Lattice, OracleField, Vocabulary};

#[test]
fn grid_steps_that_would_exhaust_memory_are_refused_before_allocating() {
    let s = data("ybco13.extxyz");
    let field = OracleField::new(&s[..8]).unwrap();
    for step in [1e-8, 1e-7, 1e-300, 5e-324] {
        let options = DecodeOptions {
            grid_step: step,
            ..Default::default()
        };
        let e = decode(&field, &[0], &options).unwrap_err().to_string();
        assert!(
            e.contains("grid step") && e.contains("limit"),
            "{step}: {e}"
        );
    }
    // each structure's grid is allowed, but a batch of 8 of them is not
    let options = DecodeOptions {
        grid_step: 0.02,
        ..Default::default()
    };
    let items: Vec<usize> = (0..8).collect();
    let e = decode(&field, &items, &options).unwrap_err().to_string();
    assert!(
        e.contains("max_particles") && e.contains("batch_size"),
        "{e}"
    );
    // ... and lifting the limit is what the message says
    let points = field.bounding_box().grid_len(0.02).unwrap();
    let lifted = DecodeOptions {
        max_particles: points * 8,
        ..options
    };
    lifted.check_particles(points, 8).unwrap();
}

#[test]
fn absurd_step_counts_and_stencils_are_refused() {
    let s = data("ybco13.extxyz");
    let field = OracleField::new(&s[..1]).unwrap();
    let steps = DecodeOptions {
        steps: 1_000_000_000,
        ..Default::default()
    };
    let e = decode(&field, &[0], &steps).unwrap_err().to_string();
    assert!(e.contains("steps must be 1 to 100000"), "{e}");
    let stencil = DecodeOptions {
        species_offsets: vec![0.0; 1000],
        ..Default::default()
    };
    let e = decode(&field, &[0], &stencil).unwrap_err().to_string();
    assert!(e.contains("species_offsets"), "{e}");
}

fn bundle(bounding_box: BoundingBox, decode: DecodeOptions) -> nesf::Result<Bundle> {
    let s = data("ybco13.extxyz");
    let vocabulary = Vocabulary::from_structures(&s).unwrap();
    Bundle::from_weights(
        &random_weights(vocabulary.len(), 3),
        &vocabulary,
        bounding_box,
        decode,
        Provenance::default(),
    )
}

#[test]
fn bundles_whose_defaults_imply_absurd_work_are_refused_at_load() {
    let s = data("ybco13.extxyz");
    let normal = BoundingBox::of_structures(&s).unwrap();
    let good = bundle(normal, DecodeOptions::default()).unwrap();
    // the same manifest with a 1e-4 Å grid step or 10^9 steps, as a crafted file holds it
    for (from, to) in [
        ("\"grid_step\": 0.5", "\"grid_step\": 0.0001"),
        ("\"steps\": 64", "\"steps\": 1000000000"),
    ] {
        let crafted = with_manifest(&good, |text| {
            assert!(text.contains(from), "{from} not in {text}");
            text.replace(from, to)
        });
        let e = Bundle::from_bytes(&crafted).err().unwrap().to_string();
        assert!(e.contains("manifest decode defaults"), "{to}: {e}");
    }
    let huge = BoundingBox::new([-1e12; 3], [1e12; 3]).unwrap();
    let e = bundle(huge, DecodeOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("bounding_box") && e.contains("grid step"), "{e}");
}

#[test]
fn thread_counts_beyond_any_machine_are_refused() {
    let s = data("ybco13.extxyz");
    let b = bundle(
        BoundingBox::of_structures(&s).unwrap(),
        DecodeOptions::default(),
    )
    .unwrap();
    for threads in [100_000, 1 << 31, usize::MAX] {
        let options = ModelOptions {
            threads,
            ..Default::default()
        };
        let e = Model::from_bundle(b.clone(), &options)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("threads") && e.contains("1024"), "{e}");
    }
}

#[test]
fn astronomic_cells_are_refused() {
    let e = Lattice::new([[1e300, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("beyond"), "{e}");
    let text = "1\nLattice=\"1e300 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3\nNa 0 0 0\n";
    let e = nesf::io::parse(text, nesf::io::Format::ExtXyz, "big.xyz")
        .unwrap_err()
        .to_string();
    assert!(e.contains("big.xyz") && e.contains("beyond"), "{e}");
}

#[test]
fn files_nesf_cannot_read_back_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.cif", "empty.extxyz", "POSCAR"] {
        let path = dir.path().join(name);
        let e = nesf::io::write(&path, &[]).unwrap_err().to_string();
        assert!(e.contains("no structure"), "{name}: {e}");
        assert!(!path.exists());
    }
    // two atoms on one site: a CIF reader would merge them, so no CIF; extended XYZ keeps both
    let l = Lattice::new([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]).unwrap();
    let twin = nesf::Structure::new(l, vec![11, 11], vec![[0.0; 3], [4.0, 0.0, 1e-4]]).unwrap();
    let e = nesf::io::write(dir.path().join("twin.cif"), std::slice::from_ref(&twin))
        .unwrap_err()
        .to_string();
    assert!(e.contains("atoms 0 and 1") && e.contains("one site"), "{e}");
    let xyz = dir.path().join("twin.extxyz");
    nesf::io::write(&xyz, std::slice::from_ref(&twin)).unwrap();
    assert_eq!(nesf::io::read(&xyz).unwrap()[0].len(), 2);
}

#[test]
fn large_cifs_are_read_in_linear_time() {
    // 60 x 60 x 15 = 54 000 sites 1 Å apart in one P1 block (quadratic merging took seconds)
    let (nx, nz) = (60usize, 15usize);
    let mut text = format!(
        "data_big\n_cell_length_a {nx}\n_cell_length_b {nx}\n_cell_length_c {nz}\n\
         _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n\
         loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
    );
    for i in 0..nx {
        for j in 0..nx {
            for k in 0..nz {
                text.push_str(&format!(
                    "Si {} {} {}\n",
                    i as f64 / nx as f64,
                    j as f64 / nx as f64,
                    k as f64 / nz as f64
                ));
            }
        }
    }
    let s = nesf::io::parse(&text, nesf::io::Format::Cif, "big.cif").unwrap();
    assert_eq!(s[0].len(), nx * nx * nz);
}

#[test]
fn symmetry_operations_beyond_any_space_group_are_refused() {
    let mut text = String::from(
        "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n\
         _cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_symmetry_equiv_pos_as_xyz\n",
    );
    for _ in 0..193 {
        text.push_str("'x, y, z'\n");
    }
    text.push_str("loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa 0 0 0\n");
    let e = nesf::io::parse(&text, nesf::io::Format::Cif, "ops.cif")
        .unwrap_err()
        .to_string();
    assert!(e.contains("193 symmetry operations"), "{e}");
}
