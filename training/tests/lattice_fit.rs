//! Lattice re-fit end to end: a tiny run, its lattice heads re-fitted on the frozen encoder,
//! the rest of the model untouched, and the result exported.

mod common;

use common::{tiny_config, trainer};
use nesf_train::checkpoint;
use nesf_train::checkpoint::TrainConfig;
use nesf_train::export;
use nesf_train::lattice_fit::{fit_lattice, LatticeFitOptions, LatticeLoss};
use nesf_train::train::{Outcome, RunOptions, BEST};
use std::path::{Path, PathBuf};
use tch::Device;

/// Trains `config` to its end in `dir`/run and returns that folder.
fn train(dir: &Path, config: TrainConfig) -> PathBuf {
    let run = dir.join("run");
    let opts = RunOptions {
        progress_bar: false,
        verbose: false,
        ..RunOptions::default()
    };
    assert_eq!(trainer(config).run(&run, &opts).unwrap(), Outcome::Finished);
    run
}

/// Two epochs on 8 structures in `dir`/run: heads far from the structures' lattices.
fn briefly_trained(dir: &Path) -> PathBuf {
    let mut config = tiny_config(dir, 8);
    config.epochs = 2;
    config.lr = 1e-3;
    train(dir, config)
}

#[test]
fn refit_lowers_the_lattice_error_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let run = briefly_trained(dir.path());

    let out = dir.path().join("refit.pt");
    let fit = LatticeFitOptions {
        epochs: 150,
        lr: 3e-3,
        batch_size: 4,
        ..LatticeFitOptions::default()
    };
    let r = fit_lattice(&run.join(BEST), &out, &fit, Device::Cpu).unwrap();
    assert_eq!(r.curve.len(), 150);
    assert_eq!(r.structures, [8, 8]);
    // two epochs of training leave the heads far from the 8 structures' lattices; 150 epochs
    // on the heads alone fit them
    assert!(
        r.after.length < 0.5 * r.before.length && r.after.angle_deg < r.before.angle_deg,
        "{:?} -> {:?}",
        r.before,
        r.after
    );
    assert!(r.kept_epochs.iter().all(|&e| e > 0));

    let before = checkpoint::load(&run.join(BEST)).unwrap();
    let after = checkpoint::load(&out).unwrap();
    assert_eq!(
        after.meta.lattice_fit.as_deref(),
        Some(r.summary().as_str())
    );
    let mut heads_changed = 0;
    for (name, t) in &after.tensors {
        let same = t.equal(&before.tensors[name]);
        if name.starts_with("lattice_") {
            heads_changed += usize::from(!same);
        } else {
            assert!(same, "{name} changed");
        }
    }
    assert!(heads_changed > 0);

    // export takes it and names the re-fit in the provenance
    let bundle = dir.path().join("model.nesf");
    let library = export::DecoderDefaults::library();
    let b = export::export(&out, &bundle, false, &library).unwrap();
    assert!(
        b.manifest()
            .provenance
            .notes
            .contains("lattice heads re-fitted"),
        "{}",
        b.manifest().provenance.notes
    );
}

#[test]
fn refit_refuses_zero_epochs_and_bad_rates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.pt");
    let missing = dir.path().join("missing.pt");
    for (epochs, lr) in [(0, 1e-3), (5, 0.0), (5, f64::NAN)] {
        let fit = LatticeFitOptions {
            epochs,
            lr,
            ..LatticeFitOptions::default()
        };
        let e = fit_lattice(&missing, &out, &fit, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("epoch") || e.contains("learning rate"), "{e}");
    }
    assert!(!out.exists());
}

#[test]
fn refit_names_a_missing_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(dir.path(), 4);
    config.epochs = 1;
    let run = train(dir.path(), config);
    let fit = LatticeFitOptions {
        epochs: 1,
        train: Some(dir.path().join("moved.extxyz")),
        ..LatticeFitOptions::default()
    };
    let out = dir.path().join("o.pt");
    let e = fit_lattice(&run.join(BEST), &out, &fit, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("moved.extxyz"), "{e}");
    assert!(!out.exists());
}

#[test]
fn refit_on_absolute_errors_lowers_the_error_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let run = briefly_trained(dir.path());

    let fit = |loss, name: &str| {
        let opts = LatticeFitOptions {
            epochs: 150,
            lr: 3e-3,
            batch_size: 4,
            loss,
            ..LatticeFitOptions::default()
        };
        let out = dir.path().join(name);
        let r = fit_lattice(&run.join(BEST), &out, &opts, Device::Cpu).unwrap();
        (r, checkpoint::load(&out).unwrap())
    };
    let (squared, sq) = fit(LatticeLoss::Squared, "squared.pt");
    let (absolute, abs) = fit(LatticeLoss::Absolute, "absolute.pt");
    assert!(
        absolute.after.length < 0.5 * absolute.before.length
            && absolute.after.angle_deg < absolute.before.angle_deg,
        "{:?} -> {:?}",
        absolute.before,
        absolute.after
    );
    assert!(absolute.summary().contains("absolute errors"));
    assert!(!squared.summary().contains("errors;"));
    // the same shuffles and start: only the loss differs, and it changes the heads' weights
    let head = |c: &checkpoint::Checkpoint| {
        c.tensors
            .iter()
            .filter(|(n, _)| n.starts_with("lattice_lengths."))
            .map(|(_, t)| t.shallow_clone())
            .collect::<Vec<_>>()
    };
    assert!(head(&sq).iter().zip(head(&abs)).any(|(a, b)| !a.equal(&b)));
}
