//! Training behaviour: the loss goes down, a resumed run equals an uninterrupted one, and
//! BatchNorm folding preserves the networks' outputs.

mod common;

use common::{flat, max_abs_diff, tiny_config, trainer};
use nesf_train::data::HostBatch;
use nesf_train::fold::fold;
use nesf_train::model::scalar;
use nesf_train::rng::Rng;
use nesf_train::train::{
    epoch_file, read_log, Outcome, ResumeChanges, RunOptions, Trainer, CHECKPOINT, LOG,
};
use tch::Device;

#[test]
fn a_resumed_run_goes_on_keeping_its_epochs_as_it_did() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), 8);
    for keep in [true, false] {
        // 2 batches per epoch: stop in epoch 2, after epoch 1's weights were (or not) kept
        let run = dir.path().join(format!("run-{keep}"));
        let mut t = trainer(config.clone());
        let opts = RunOptions {
            keep_epochs: keep,
            ..quiet(Some(3))
        };
        assert_eq!(t.run(&run, &opts).unwrap(), Outcome::Interrupted);
        assert_eq!(run.join(epoch_file(1)).exists(), keep);
        let t = Trainer::resume(
            &run.join(CHECKPOINT),
            Device::Cpu,
            &ResumeChanges::default(),
        )
        .unwrap();
        assert_eq!(t.keep_epochs, keep);
    }
}

/// Held by every test that trains: libtorch's random generator (dropout) is global, and tests
/// run side by side would draw from it in turns, so a run would not repeat itself.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn quiet(max_batches: Option<usize>) -> RunOptions {
    RunOptions {
        checkpoint_every: std::time::Duration::from_secs(3600),
        progress_bar: false,
        max_batches,
        verbose: false,
        keep_epochs: false,
    }
}

/// The training-mode loss of a fixed batch (fixed torch seed), without an update.
fn loss_of(t: &Trainer, host: &HostBatch) -> f64 {
    tch::manual_seed(5);
    tch::no_grad(|| {
        scalar(
            &t.model
                .losses(&host.to_device(Device::Cpu), true, &t.config.recipe.weights)
                .total,
        )
    })
}

#[test]
fn a_few_steps_reduce_the_loss() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(tiny_config(dir.path(), 8));
    let all: Vec<usize> = (0..8).collect();
    let probe =
        HostBatch::build(&t.train, &t.vocabulary, &all, &t.sampling, &mut Rng::new(3)).unwrap();
    let before = loss_of(&t, &probe);
    for step in 0..12 {
        let idx: Vec<usize> = (0..4).map(|k| (4 * step + k) % 8).collect();
        let host = t.training_batch(0, step, &idx).unwrap();
        let terms = t.step(&host, 1e-3, step as u64);
        assert!(terms.iter().all(|v| v.is_finite()), "{terms:?}");
    }
    let after = loss_of(&t, &probe);
    assert!(after < 0.8 * before, "loss {before} -> {after}");
}

fn named_state(t: &Trainer) -> Vec<(String, Vec<f32>)> {
    let mut s = t.model.state();
    s.extend(t.adam.state());
    s.into_iter().map(|(n, v)| (n, flat(&v))).collect()
}

#[test]
fn resume_continues_exactly() {
    let _rng = torch_rng();
    check_resume(0.0);
}

#[test]
fn resume_continues_exactly_with_hard_example_sampling() {
    let _rng = torch_rng();
    check_resume(0.5);
}

/// A run stopped twice and resumed equals an uninterrupted one (with the hard-example sampling
/// fraction `hard`).
fn check_resume(hard: f64) {
    // 8 structures, batch 4: 2 batches per epoch, 3 epochs.
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(data_dir.path(), 8);
    config.recipe.hard_sampling = hard;

    let mut a = trainer(config.clone());
    assert_eq!(
        a.run(a_dir.path(), &quiet(None)).unwrap(),
        Outcome::Finished
    );

    // Stop mid-epoch (after 3 batches: epoch 2, batch 1), then again at an epoch boundary.
    let mut b = trainer(config.clone());
    assert_eq!(
        b.run(b_dir.path(), &quiet(Some(3))).unwrap(),
        Outcome::Interrupted
    );
    assert_eq!((b.progress.epoch, b.progress.batch), (1, 1));
    drop(b);
    let ck = b_dir.path().join(CHECKPOINT);
    let mut b = Trainer::resume(&ck, Device::Cpu, &ResumeChanges::default()).unwrap();
    assert_eq!((b.progress.epoch, b.progress.batch), (1, 1));
    assert_eq!(
        b.run(b_dir.path(), &quiet(Some(1))).unwrap(),
        Outcome::Interrupted
    );
    let mut b = Trainer::resume(&ck, Device::Cpu, &ResumeChanges::default()).unwrap();
    assert_eq!((b.progress.epoch, b.progress.batch), (2, 0));
    assert_eq!(
        b.run(b_dir.path(), &quiet(None)).unwrap(),
        Outcome::Finished
    );

    assert_eq!(a.adam.step, b.adam.step);
    assert!(a.hardness.latest.iter().all(|l| l.is_finite() && *l > 0.0));
    assert_eq!(a.hardness, b.hardness);
    if hard > 0.0 {
        // The last epoch was planned on the losses: half its draws are loss-weighted.
        let mut plan: Vec<usize> = a.epoch_batches(2).concat();
        assert_eq!(plan.len(), 8);
        plan.sort();
        assert!(plan.windows(2).any(|w| w[0] == w[1]), "{plan:?}");
    }
    let (sa, sb) = (named_state(&a), named_state(&b));
    assert_eq!(sa.len(), sb.len());
    for ((na, va), (nb, vb)) in sa.iter().zip(&sb) {
        assert_eq!(na, nb);
        assert_eq!(va, vb, "tensor {na} differs after resuming");
    }
    let (la, lb) = (
        read_log(&a_dir.path().join(LOG)).unwrap(),
        read_log(&b_dir.path().join(LOG)).unwrap(),
    );
    assert_eq!(la.len(), 3);
    assert_eq!(lb.len(), 3);
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(x.epoch, y.epoch);
        assert_eq!((x.train_loss, x.val_loss), (y.train_loss, y.val_loss));
        assert_eq!(x.lr, y.lr);
    }
}

#[test]
fn resume_may_change_the_learning_rate_schedule() {
    let _rng = torch_rng();
    let run = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(data_dir.path(), 8);
    config.epochs = 2;
    let mut a = trainer(config);
    a.run(run.path(), &quiet(None)).unwrap();
    let ck = run.path().join(CHECKPOINT);
    let changes = ResumeChanges {
        epochs: Some(3),
        lr_step: Some(1),
        lr_gamma: Some(0.25),
        ..ResumeChanges::default()
    };
    let mut b = Trainer::resume(&ck, Device::Cpu, &changes).unwrap();
    assert_eq!(b.run(run.path(), &quiet(None)).unwrap(), Outcome::Finished);
    let log = read_log(&run.path().join(LOG)).unwrap();
    assert_eq!(log.len(), 3);
    // Epoch 3 (index 2) under the new schedule: lr * 0.25^2.
    let lr0 = log[0].lr;
    assert!(
        (log[2].lr - lr0 * 0.0625).abs() < 1e-12 * lr0,
        "{}",
        log[2].lr
    );
}

/// Compares the tch model in eval mode with the library's plain forward pass of the folded
/// weights, on the tiny set's structures and random points.
fn check_folding(vae: bool, positional_encoding: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(dir.path(), 8);
    config.model.vae = vae;
    config.model.positional_encoding = positional_encoding;
    let mut t = trainer(config);
    // Train a little so BatchNorm's running statistics and affine parameters are not trivial.
    for step in 0..6 {
        let idx: Vec<usize> = (0..4).map(|k| (4 * step + k) % 8).collect();
        let host = t.training_batch(0, step, &idx).unwrap();
        t.step(&host, 1e-2, step as u64);
    }
    let weights = fold(&t.model).unwrap();

    let all: Vec<usize> = (0..8).collect();
    let host =
        HostBatch::build(&t.train, &t.vocabulary, &all, &t.sampling, &mut Rng::new(9)).unwrap();
    let b = host.to_device(Device::Cpu);
    let (z, pos, spec, lengths, angles) = tch::no_grad(|| {
        let z = t.model.encode(&b, false).z;
        let pos = t
            .model
            .position(&z, &b.position_items, &b.position_points, false);
        let spec = t
            .model
            .species(&z, &b.species_items, &b.species_points, false);
        let (l, a) = t.model.lattice(&z);
        (z, pos, spec, l, a)
    });
    let (z, pos, spec, lengths, angles) = (
        flat(&z),
        flat(&pos),
        flat(&spec),
        flat(&lengths),
        flat(&angles),
    );
    let latent = t.config.model.latent;
    let vocab = t.vocabulary.len();

    let mut worst = 0f64;
    for (i, s) in t.train.samples.iter().enumerate() {
        let zr = weights
            .encode_structure(&s.positions, &s.classes, s.lattice)
            .unwrap();
        let zt = &z[i * latent..(i + 1) * latent];
        worst = worst.max(max_abs_diff(zt, &zr));
        let (l, a) = weights.lattice(zt).unwrap();
        worst = worst.max(max_abs_diff(&lengths[i * 3..i * 3 + 3], &l));
        worst = worst.max(max_abs_diff(&angles[i * 3..i * 3 + 3], &a));
    }
    // Every 37th query point of both fields.
    let items = &host.position_items;
    for k in (0..items.len()).step_by(37) {
        let it = items[k] as usize;
        let p = [0, 1, 2].map(|c| host.position_points[3 * k + c]);
        let r = weights
            .position_field(&z[it * latent..(it + 1) * latent], p)
            .unwrap();
        worst = worst.max(max_abs_diff(&pos[3 * k..3 * k + 3], &r));
    }
    let items = &host.species_items;
    for k in (0..items.len()).step_by(37) {
        let it = items[k] as usize;
        let p = [0, 1, 2].map(|c| host.species_points[3 * k + c]);
        let r = weights
            .species_field(&z[it * latent..(it + 1) * latent], p)
            .unwrap();
        worst = worst.max(max_abs_diff(&spec[vocab * k..vocab * (k + 1)], &r));
    }
    eprintln!("folded vs tch eval mode (vae {vae}): max abs diff {worst:.2e}");
    assert!(
        worst <= 1e-5,
        "folded forward differs from tch eval mode by {worst}"
    );

    // BatchNorm was really folded: the tch model's running statistics are not the identity.
    let bn = &t.model.position_field.bns[0];
    assert!(flat(&bn.mean).iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn batchnorm_folding_preserves_outputs() {
    let _rng = torch_rng();
    check_folding(false, false);
}

#[test]
fn batchnorm_folding_preserves_outputs_positional_encoding() {
    let _rng = torch_rng();
    check_folding(false, true);
}

#[test]
fn batchnorm_folding_preserves_outputs_vae() {
    let _rng = torch_rng();
    check_folding(true, false);
}

#[test]
fn positional_encoding_and_vae_variants_train() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(dir.path(), 8);
    config.model.positional_encoding = true;
    config.model.vae = true;
    let mut t = trainer(config);
    assert_eq!(t.model.position_field.layers[0].shape(), (192 + 60, 256));
    assert_eq!(t.model.encoder.head.layers[2].shape(), (256, 2 * 192));
    let host = t.training_batch(0, 0, &[0, 1, 2, 3]).unwrap();
    let terms = t.step(&host, 1e-3, 1);
    assert!(
        terms.iter().all(|v| v.is_finite()) && terms[5] > 0.0,
        "{terms:?}"
    );
    let folded = fold(&t.model).unwrap();
    assert!(
        folded.positional_encoding,
        "the PE variant folds into PE weights"
    );
}

#[test]
fn paper_model_has_the_paper_size() {
    let _rng = torch_rng();
    let m = nesf_train::model::Nesf::new(nesf_train::model::ModelConfig::paper(80), 0, Device::Cpu);
    // 760 729 Linear parameters (as the library's NesfWeights) plus BatchNorm's gamma and beta.
    let bn: i64 = 2 * (64 + 128 + 128 + 256 + 256 + 256 + 7 * 128 + 256 + 128);
    assert_eq!(m.parameter_count(), 760_729 + bn);
}

#[test]
fn a_query_budget_sends_fewer_points_and_a_run_can_start_from_another_runs_weights() {
    let _rng = torch_rng();
    use nesf_train::recipe::{QueryBudget, Recipe};
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(tiny_config(dir.path(), 8));
    let idx = [0, 1, 2, 3];
    let full = t.training_batch(0, 0, &idx).unwrap();
    let atoms: usize = idx
        .iter()
        .map(|&i| t.train.samples[i].positions.len())
        .sum();
    assert_eq!(full.species_points.len() / 3, atoms * 216);

    let mut config = tiny_config(dir.path(), 8);
    config.recipe = Recipe {
        budget: QueryBudget {
            global_fraction: 0.25,
            species_per_atom: 27,
            boundary_points: 50,
            boundary_width: 0.2,
        },
        ..Recipe::reference()
    };
    config.recipe.weights.species = 1.0;
    let mut cheap = trainer(config);
    let small = cheap.training_batch(0, 0, &idx).unwrap();
    assert_eq!(small.species_points.len() / 3, atoms * 27);
    let global = t.sampling.global.len();
    let local = atoms * t.sampling.local.len();
    assert_eq!(full.position_points.len() / 3, 4 * global + local);
    let boundary: usize = idx
        .iter()
        .filter(|&&i| t.train.samples[i].positions.len() >= 2)
        .map(|_| 50)
        .sum();
    assert_eq!(
        small.position_points.len() / 3,
        4 * (global as f64 * 0.25).round() as usize + local + boundary
    );
    // targets still match the points: the exact field of the same structures
    assert_eq!(small.position_targets.len(), small.position_points.len());

    // train the first run a little, save it, and start the second from its weights
    let run = dir.path().join("first");
    for step in 0..2 {
        let host = t.training_batch(0, step, &idx).unwrap();
        t.step(&host, 1e-3, step as u64);
    }
    std::fs::create_dir_all(&run).unwrap();
    t.save_checkpoint(&run).unwrap();
    cheap.init_from(&run.join(CHECKPOINT)).unwrap();
    let a = t.model.state();
    let b = cheap.model.state();
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert_eq!(max_abs_diff(&flat(ta), &flat(tb)), 0.0, "{na}");
    }
    assert_eq!(
        cheap.config.init_from.as_deref(),
        Some(run.join(CHECKPOINT).as_path())
    );
    assert_eq!(cheap.adam.step, 0, "the optimizer starts afresh");

    // a run of other networks is refused, naming the difference
    let mut other = tiny_config(dir.path(), 8);
    other.model.latent = 64;
    let mut other = trainer(other);
    let err = other.init_from(&run.join(CHECKPOINT)).unwrap_err();
    assert!(err.to_string().contains("networks"), "{err}");
}

#[test]
fn the_recipe_sets_the_encoder_head_dropout() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let t = trainer(tiny_config(dir.path(), 8));
    assert_eq!(t.model.encoder.head.dropout, 0.3, "the reference dropout");
    let mut config = tiny_config(dir.path(), 8);
    config.recipe.dropout = 0.0;
    let plain = trainer(config);
    assert_eq!(plain.model.encoder.head.dropout, 0.0);
    // without dropout, the training-mode loss of a batch no longer depends on the torch seed
    let all: Vec<usize> = (0..8).collect();
    let probe = HostBatch::build(
        &plain.train,
        &plain.vocabulary,
        &all,
        &plain.sampling,
        &mut Rng::new(3),
    )
    .unwrap();
    let loss_seeded = |t: &Trainer, seed: i64| {
        tch::manual_seed(seed);
        tch::no_grad(|| {
            scalar(
                &t.model
                    .losses(
                        &probe.to_device(Device::Cpu),
                        true,
                        &t.config.recipe.weights,
                    )
                    .total,
            )
        })
    };
    assert_eq!(loss_seeded(&plain, 1), loss_seeded(&plain, 2));
    assert_ne!(loss_seeded(&t, 1), loss_seeded(&t, 2));
}

#[test]
fn kept_epochs_average_into_an_exportable_checkpoint() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(tiny_config(dir.path(), 8));
    let run = dir.path().join("run");
    let opts = RunOptions {
        keep_epochs: true,
        ..quiet(None)
    };
    assert_eq!(t.run(&run, &opts).unwrap(), Outcome::Finished);
    let kept: Vec<_> = (1..=3).map(|e| run.join(epoch_file(e))).collect();
    assert!(kept.iter().all(|p| p.exists()), "{kept:?}");
    // the last kept epoch holds the final weights
    let last = nesf_train::checkpoint::load(&kept[2]).unwrap();
    for (name, v) in t.model.state() {
        assert_eq!(flat(&last.tensors[&name]), flat(&v), "{name}");
    }
    let avg = dir.path().join("avg");
    std::fs::create_dir(&avg).unwrap();
    let meta = nesf_train::average::average(&kept[1..], &avg.join("best.pt")).unwrap();
    assert_eq!(
        meta.averaged.as_deref(),
        Some("mean of 2 checkpoints (epochs 2, 3)")
    );
    let out = dir.path().join("avg.nesf");
    let b = nesf_train::export::export(
        &avg.join("best.pt"),
        &out,
        false,
        &nesf_train::export::DecoderDefaults::library(),
    )
    .unwrap();
    assert!(b
        .manifest()
        .provenance
        .notes
        .contains("the mean of 2 checkpoints (epochs 2, 3)"));
}
