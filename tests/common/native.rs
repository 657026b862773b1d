//! Helpers for the tests of the C ABI: the built libraries, scratch folders, external tools
//! (cmake, compilers, valgrind) and an installed prefix.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding libnesf.so and libnesf.a of this build: target/<profile>, where
/// `cargo build` puts them, or target/<profile>/deps, where `cargo test` alone leaves them.
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    // target/<profile>/deps/<test>-<hash>
    let deps = exe
        .parent()
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf();
    let profile = deps
        .parent()
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf();
    let has_both = |d: &Path| {
        ["libnesf.so", "libnesf.a"]
            .iter()
            .all(|l| d.join(l).exists())
    };
    [profile.clone(), deps]
        .into_iter()
        .find(|d| has_both(d))
        .unwrap_or_else(|| {
            panic!(
                "libnesf.so and libnesf.a are missing from {} and its deps/: cargo builds them with the library",
                profile.display()
            )
        })
}

/// An empty scratch folder under target/tmp (kept after the test for inspection).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fails with a clear message when a program the test needs is not installed.
pub fn require(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed; run scripts/provision.sh (it installs cmake, gfortran, \
         valgrind and pkg-config)"
    );
}

/// Runs a command and returns its standard output; panics with both outputs when it fails.
pub fn run(command: &mut Command) -> String {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// A command without the variables that point nesf at an ONNX Runtime (cargo sets one), so
/// the library's own search runs.
pub fn without_runtime_env(mut command: Command) -> Command {
    command.env_remove("NESF_ONNXRUNTIME");
    command.env_remove("ORT_DYLIB_PATH");
    command
}

/// Installs this build's libraries into `prefix` with scripts/install.sh.
pub fn install(prefix: &Path) {
    run(Command::new("bash")
        .arg(root().join("scripts/install.sh"))
        .arg("--no-build")
        .arg("--lib-dir")
        .arg(library_dir())
        .arg(prefix));
}

/// Writes a random-weight model bundle for the ybco13 structures.
pub fn write_test_model(path: &Path) {
    let structures = super::data("ybco13.extxyz");
    let (bundle, _) = super::random_bundle(&structures, 17);
    bundle.write_file(path).unwrap();
}

/// Every function the header declares, in order of appearance.
pub fn header_functions() -> Vec<String> {
    let header = std::fs::read_to_string(root().join("include/nesf.h")).unwrap();
    let mut names = Vec::new();
    for line in header.lines() {
        if line.starts_with(' ') || line.starts_with('#') || line.starts_with('*') {
            continue;
        }
        for (open, _) in line.match_indices("nesf_") {
            let name: String = line[open..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if line[open + name.len()..].starts_with('(') {
                names.push(name);
                break;
            }
        }
    }
    names
}
