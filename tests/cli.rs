//! The `nesf` command-line program, run as a user would.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{data, random_bundle};

fn nesf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nesf"))
        .args(args)
        .output()
        .expect("run nesf")
}

fn data_path(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KEYS: [&str; 9] = [
    "structures",
    "failures",
    "atom_count_error",
    "position_error_actual",
    "position_error_detected",
    "species_error_actual",
    "species_error_detected",
    "lattice_length_error",
    "lattice_angle_error_deg",
];

#[test]
fn oracle_eval_json() {
    let o = nesf(&["eval", "--oracle", &data_path("ybco13.extxyz"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for k in KEYS {
        assert!(v.get(k).is_some(), "missing key {k} in {v}");
    }
    assert_eq!(v["structures"], 100);
    assert_eq!(v["atom_count_error"], 0.0);
    assert!(v["position_error_actual"].as_f64().unwrap() < 1e-4);
}

#[test]
fn eval_limit_takes_the_first_structures() {
    let file = data_path("ybco13.extxyz");
    let o = nesf(&["eval", "--oracle", &file, "--json", "--limit", "7"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["structures"], 7);
}

/// `--exact` is the reference decoder; the default fast flow finds the same atoms.
#[cfg(feature = "default-model")]
#[test]
fn exact_and_fast_decoding_agree() {
    let file = data_path("lcs6-val.extxyz");
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["eval", &file, "--json", "--limit", "3"];
        args.extend_from_slice(extra);
        let o = nesf(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let exact = run(&["--exact"]);
    let fast = run(&[]);
    assert_eq!(exact["atom_count_error"], fast["atom_count_error"]);
    assert_eq!(exact["species_error_actual"], fast["species_error_actual"]);
    // a merged particle carries its leader's score, so NMS may now and then seed a cluster at
    // another of its particles: over 3 structures the mean moves by up to ~0.01 Å
    for k in ["position_error_actual", "position_error_detected"] {
        let d = (exact[k].as_f64().unwrap() - fast[k].as_f64().unwrap()).abs();
        assert!(d < 0.015, "{k}: exact {} fast {}", exact[k], fast[k]);
    }
    // the oracle: identical metrics
    let ybco = data_path("ybco13.extxyz");
    let a = nesf(&["eval", "--oracle", &ybco, "--json", "--exact"]);
    let b = nesf(&["eval", "--oracle", &ybco, "--json"]);
    assert!(a.status.success() && b.status.success());
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&stdout(&a)).unwrap(),
        serde_json::from_str(&stdout(&b)).unwrap(),
    );
    assert_eq!(a["atom_count_error"], 0.0);
    assert_eq!(b["atom_count_error"], 0.0);
    assert!(b["position_error_actual"].as_f64().unwrap() < 1e-4);
    // --exact cannot be combined with a work saver
    let o = nesf(&["eval", &file, "--exact", "--merge-below", "0.1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

/// With no --model, the model commands use the default model embedded in the library.
#[cfg(feature = "default-model")]
#[test]
fn model_commands_default_to_the_embedded_model() {
    let o = nesf(&["info", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["manifest"]["latent_size"], 192);
    assert_eq!(v["manifest"]["vocabulary"].as_array().unwrap().len(), 80);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("decoded.cif");
    let file = data_path("lcs6-val.extxyz");
    let o = nesf(&[
        "autoencode",
        &file,
        "--limit",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let first = nesf::io::read(&file).unwrap()[0].id().unwrap().to_string();
    assert!(text.contains(&first) && text.contains("a b c"), "{text}");
    assert!(!nesf::io::read(&out).unwrap().is_empty());

    let o = nesf(&[
        "autoencode",
        &file,
        "--limit",
        "1",
        "-o",
        out.to_str().unwrap(),
        "--symprec",
        "0",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("positive length"), "{}", stderr(&o));
}

#[test]
fn convert_between_formats() {
    let dir = tempfile::tempdir().unwrap();
    let cif = dir.path().join("all.cif");
    let o = nesf(&[
        "convert",
        &data_path("ybco13.extxyz"),
        cif.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = nesf::io::read(&cif).unwrap();
    assert_eq!(back.len(), 100);
    // one structure to POSCAR; many to POSCAR is an error that says why
    let one = dir.path().join("one.cif");
    nesf::io::write(&one, &back[..1]).unwrap();
    let poscar = dir.path().join("POSCAR");
    let o = nesf(&["convert", one.to_str().unwrap(), poscar.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = nesf(&["convert", cif.to_str().unwrap(), poscar.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("exactly one structure"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn malformed_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xyz");
    std::fs::write(
        &bad,
        "2\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\nCl 1 nan 1\n",
    )
    .unwrap();
    let o = nesf(&["eval", "--oracle", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bad.xyz:4:"), "{}", stderr(&o));
    let o = nesf(&["eval", "--oracle", "/nonexistent/x.cif"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/nonexistent/x.cif"), "{}", stderr(&o));
    let o = nesf(&["convert", &data_path("ybco13.extxyz"), "out.pdb"]);
    assert!(!o.status.success(), "convert to .pdb succeeded");
    assert!(stderr(&o).contains("unknown file format"), "{}", stderr(&o));
    assert!(!Path::new("out.pdb").exists());
}

fn write_bundle(dir: &Path) -> String {
    let (bundle, _) = random_bundle(&data("ybco13.extxyz"), 9);
    let path = dir.join("random.nesf");
    bundle.write_file(&path).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn model_commands() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path());
    let input = dir.path().join("three.xyz");
    nesf::io::write(&input, &data("ybco13.extxyz")[..3]).unwrap();

    let out = dir.path().join("out.xyz");
    let o = nesf(&[
        "autoencode",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--model",
        &bundle,
        "--flow-steps",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("atom count error"), "{}", stdout(&o));

    let o = nesf(&[
        "eval",
        "--model",
        &bundle,
        input.to_str().unwrap(),
        "--json",
        "--flow-steps",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["structures"], 3);
    for k in KEYS {
        assert!(v.get(k).is_some(), "missing key {k}");
    }

    let o = nesf(&["info", "--model", &bundle, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["manifest"]["latent_size"], 192);
    assert_eq!(v["provider"]["active"], "cpu");
    assert!(v["onnxruntime"]["path"]
        .as_str()
        .unwrap()
        .contains("onnxruntime"));

    let o = nesf(&["info", "--model", &bundle]);
    assert!(
        stdout(&o).contains("execution provider: CPU"),
        "{}",
        stdout(&o)
    );

    let o = nesf(&["info", "--model", &bundle, "--device", "cuda:0"]);
    let info = nesf::model::runtime::load(None).unwrap();
    let cuda_build = info.available_providers.iter().any(|p| p.contains("CUDA"));
    if o.status.success() {
        // only a CUDA build of ONNX Runtime on a machine with a GPU runs it
        assert!(cuda_build, "--device cuda:0 succeeded without CUDA");
        assert!(stdout(&o).contains("CUDA"), "{}", stdout(&o));
    } else {
        assert!(stderr(&o).contains("CUDA"), "{}", stderr(&o));
    }
    if !cuda_build {
        let o = nesf(&[
            "info",
            "--model",
            &bundle,
            "--device",
            "cuda",
            "--allow-fallback",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("warning: running on CPU (CUDA (device 0) was requested but"),
            "{}",
            stderr(&o)
        );
    }
    let path_dir = dir.path().join("path");
    let o = nesf(&[
        "interpolate",
        input.to_str().unwrap(),
        &data_path("ybco13.extxyz"),
        "--b-id",
        data("ybco13.extxyz")[5].id().unwrap(),
        "--steps",
        "3",
        "-o",
        path_dir.to_str().unwrap(),
        "--model",
        &bundle,
        "--flow-steps",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2 + 3, "{}", stdout(&o));
    let o = nesf(&[
        "interpolate",
        input.to_str().unwrap(),
        input.to_str().unwrap(),
        "--a-id",
        "nope",
        "-o",
        path_dir.to_str().unwrap(),
        "--model",
        &bundle,
    ]);
    assert!(
        stderr(&o).contains("no structure with id 'nope'"),
        "{}",
        stderr(&o)
    );

    let o = nesf(&["info", "--model", &bundle, "--device", "tpu"]);
    assert!(
        stderr(&o).contains("expected cpu, cuda or cuda:N"),
        "{}",
        stderr(&o)
    );
    let o = nesf(&["info", "--model", input.to_str().unwrap()]);
    assert!(!o.status.success());
}

/// `nesf encode` + `nesf decode` through a .npy file give the structures `nesf autoencode`
/// gives; bad latent files and sizes are refused by name, before any decoding.
#[cfg(feature = "default-model")]
#[test]
fn encode_and_decode_round_trip_through_a_latent_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let file = data_path("lcs6-val.extxyz");
    let (z, decoded, auto) = (path("z.npy"), path("decoded.extxyz"), path("auto.extxyz"));
    let o = nesf(&["encode", &file, "-o", &z, "--limit", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote 5 latent(s) of size 192"),
        "{}",
        stderr(&o)
    );
    let latents = nesf::io::read_latents(&z).unwrap();
    assert_eq!((latents.len(), latents.latent_size()), (5, 192));
    let o = nesf(&["decode", &z, "-o", &decoded]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = nesf(&["autoencode", &file, "--limit", "5", "-o", &auto]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (
        nesf::io::read(&decoded).unwrap(),
        nesf::io::read(&auto).unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.numbers(), y.numbers());
        assert_eq!(x.positions(), y.positions());
        assert_eq!(x.lattice(), y.lattice());
        assert_eq!(x.id(), Some(format!("z-{i}").as_str()));
    }

    // a latent file of the wrong width, a wrong output name, a non-npy input: named, early
    let narrow = path("narrow.npy");
    nesf::io::write_latents(
        &narrow,
        &nesf::model::Latents::from_flat(4, vec![0.5; 8]).unwrap(),
    )
    .unwrap();
    let o = nesf(&["decode", &narrow, "-o", &decoded]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("latents of size 4") && stderr(&o).contains("192"),
        "{}",
        stderr(&o)
    );
    let o = nesf(&["decode", &z, "-o", &path("out.pdb")]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("out.pdb"), "{}", stderr(&o));
    // autoencode refuses the name before decoding anything (nothing printed)
    let o = nesf(&["autoencode", &file, "--limit", "2", "-o", &path("out.pdb")]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("out.pdb") && stdout(&o).is_empty(),
        "{}",
        stdout(&o)
    );
    let o = nesf(&["decode", &file, "-o", &decoded]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a .npy file"), "{}", stderr(&o));
    let o = nesf(&["encode", &file, "-o", &path("z.txt")]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a .npy file"), "{}", stderr(&o));
    assert!(!dir.path().join("z.txt").exists());
    // the earlier output is intact after the refusals
    assert_eq!(nesf::io::read(&decoded).unwrap(), a);
}

/// `--symmetrize` snaps decoded structures to their space group; a bad tolerance is refused.
#[cfg(feature = "default-model")]
#[test]
fn symmetrized_decoding_from_the_command_line() {
    let file = data_path("lcs6-val.extxyz");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sym.extxyz");
    let o = nesf(&[
        "autoencode",
        &file,
        "--limit",
        "3",
        "--symmetrize=0.3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut snapped = 0;
    for s in nesf::io::read(&out).unwrap() {
        // snapped exactly and written with 8 decimals: the group holds from 1e-4 Å to 1e-2 Å.
        // (Not necessarily at 0.1 Å: a structure snapped to Cm may lie within 0.1 Å of R3m.)
        let tight = s.space_group(1e-4).unwrap();
        assert_eq!(tight, s.space_group(1e-2).unwrap());
        snapped += usize::from(tight.number > 1);
    }
    // an unsnapped decode is P1 at 1e-4 Å
    assert!(snapped > 0, "no structure was snapped to a group");
    let o = nesf(&[
        "eval",
        &file,
        "--limit",
        "2",
        "--json",
        "--symmetrize", // without a value: 0.1 Å
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = nesf(&["eval", &file, "--limit", "2", "--symmetrize=-1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("symprec"), "{}", stderr(&o));
}

/// A writer killed mid-write (kill -9) leaves the previous file under the final name.
#[cfg(feature = "default-model")]
#[test]
fn a_killed_decode_leaves_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("z.npy");
    let file = data_path("lcs6-val.extxyz");
    let o = nesf(&["encode", &file, "-o", z.to_str().unwrap(), "--limit", "40"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 4000 latents: long enough to be killed while writing
    let one = nesf::io::read_latents(&z).unwrap();
    let many: Vec<f32> = (0..100)
        .flat_map(|_| one.as_flat().iter().copied())
        .collect();
    let big = dir.path().join("big.npy");
    nesf::io::write_latents(&big, &nesf::model::Latents::from_flat(192, many).unwrap()).unwrap();
    let out = dir.path().join("out.extxyz");
    std::fs::write(&out, "previous\n").unwrap();
    let temporaries = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".nesf-"))
            .collect()
    };
    // kill -9, then Ctrl-C (SIGINT), each once structures are being written
    for signal in [libc::SIGKILL, libc::SIGINT] {
        for t in temporaries() {
            std::fs::remove_file(dir.path().join(t)).unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_nesf"))
            .args(["decode", big.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .args(["--threads", "1", "--grid-step", "2", "--flow-steps", "2"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let writing = || {
            temporaries()
                .iter()
                .any(|t| std::fs::metadata(dir.path().join(t)).is_ok_and(|m| m.len() > 0))
        };
        while !writing() {
            assert!(
                started.elapsed().as_secs() < 120,
                "the decode never started writing"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the decode ended before the signal"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: signalling our own child process.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let done = child.wait_with_output().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
        if signal == libc::SIGINT {
            // a clean stop: status 130, a message, and no temporary file left behind
            assert_eq!(done.status.code(), Some(130), "{}", stderr(&done));
            assert!(stderr(&done).contains("interrupted"), "{}", stderr(&done));
            assert!(temporaries().is_empty(), "{:?}", temporaries());
        }
    }
}
