//! Installing the C library (scripts/install.sh) and using it from a separate project, as
//! downstream codes do: CMake's find_package (shared and static targets), pkg-config through
//! CMake, and a plain compiler command line with pkg-config's flags.

mod common;

use std::path::Path;
use std::process::Command;

use common::native::{install, require, root, run, scratch, without_runtime_env, write_test_model};

fn check_layout(prefix: &Path) {
    let version = env!("CARGO_PKG_VERSION");
    let lib = prefix.join("lib");
    for file in [
        format!("lib/libnesf.so.{version}"),
        "lib/libnesf.so".into(),
        "lib/libnesf.a".into(),
        "lib/libonnxruntime.so".into(),
        "lib/cmake/nesf/nesfConfig.cmake".into(),
        "lib/cmake/nesf/nesfConfigVersion.cmake".into(),
        "lib/pkgconfig/nesf.pc".into(),
        "include/nesf.h".into(),
        "include/nesf.hpp".into(),
        "share/nesf/fortran/nesf.f90".into(),
    ] {
        assert!(prefix.join(&file).exists(), "{file} is not installed");
    }
    // the SONAME link and the development link
    let soname = std::fs::read_link(lib.join("libnesf.so")).unwrap();
    assert_eq!(
        std::fs::read_link(lib.join(&soname)).unwrap(),
        Path::new(&format!("libnesf.so.{version}"))
    );
    let dynamic = run(Command::new("readelf")
        .arg("-d")
        .arg(lib.join(format!("libnesf.so.{version}"))));
    assert!(
        dynamic.contains(&format!("Library soname: [{}]", soname.display())),
        "{dynamic}"
    );
    // the installed headers and module are the repository's
    for (installed, source) in [
        ("include/nesf.h", "include/nesf.h"),
        ("include/nesf.hpp", "bindings/cpp/nesf.hpp"),
        ("share/nesf/fortran/nesf.f90", "bindings/fortran/nesf.f90"),
    ] {
        assert_eq!(
            std::fs::read(prefix.join(installed)).unwrap(),
            std::fs::read(root().join(source)).unwrap(),
            "{installed}"
        );
    }
}

/// Runs a downstream program and returns what it printed.
fn run_program(program: &Path, model: &Path, extra: &[&Path]) -> String {
    let mut command = without_runtime_env(Command::new(program));
    command
        .arg(model)
        .arg(root().join("data/ybco13.extxyz"))
        .args(extra);
    let out = run(&mut command);
    assert!(out.contains("decoded 1 structure(s)"), "{out}");
    out
}

#[test]
fn installed_library_builds_downstream_projects() {
    for tool in ["cmake", "cc", "c++", "pkg-config", "readelf"] {
        require(tool);
    }
    let dir = scratch("install");
    let model = dir.join("model.nesf");
    write_test_model(&model);
    let prefix = dir.join("prefix");
    install(&prefix);
    check_layout(&prefix);
    let lib = prefix.join("lib");
    let ort_beside = |out: &str| {
        let line = out
            .lines()
            .find(|l| l.starts_with("onnxruntime: "))
            .unwrap();
        assert!(
            Path::new(line.trim_start_matches("onnxruntime: ")).starts_with(&lib),
            "ONNX Runtime was not found beside libnesf.so: {line}"
        );
    };

    // find_package(nesf): shared, static and C++
    let build = dir.join("find-package");
    run(Command::new("cmake")
        .arg("-S")
        .arg(root().join("tests/downstream"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display())));
    run(Command::new("cmake").arg("--build").arg(&build).arg("-j2"));
    ort_beside(&run_program(&build.join("downstream_shared"), &model, &[]));
    ort_beside(&run_program(&build.join("downstream_cpp"), &model, &[]));
    // a static link has no libnesf.so to look beside: it names ONNX Runtime explicitly
    let static_exe = build.join("downstream_static");
    let needed = run(Command::new("readelf").arg("-d").arg(&static_exe));
    assert!(!needed.contains("libnesf"), "not a static link:\n{needed}");
    let out = run_program(&static_exe, &model, &[&lib.join("libonnxruntime.so")]);
    assert!(
        out.contains(&format!("onnxruntime: {}", lib.display())),
        "{out}"
    );

    // pkg-config, through CMake
    let pc_path = lib.join("pkgconfig");
    let build = dir.join("pkg-config");
    run(Command::new("cmake")
        .env("PKG_CONFIG_PATH", &pc_path)
        .arg("-S")
        .arg(root().join("tests/downstream"))
        .arg("-B")
        .arg(&build)
        .arg("-DNESF_USE_PKG_CONFIG=ON"));
    run(Command::new("cmake").arg("--build").arg(&build).arg("-j2"));
    ort_beside(&run_program(&build.join("downstream_shared"), &model, &[]));
    ort_beside(&run_program(&build.join("downstream_cpp"), &model, &[]));

    // pkg-config on a plain compiler command line
    let flags = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_path)
        .args(["--cflags", "--libs", "nesf"]));
    let libdir = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_path)
        .args(["--variable=libdir", "nesf"]));
    assert_eq!(
        Path::new(libdir.trim()).canonicalize().unwrap(),
        lib.canonicalize().unwrap()
    );
    let version = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_path)
        .args(["--modversion", "nesf"]));
    assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"));
    let exe = dir.join("plain");
    run(Command::new("cc")
        .arg(root().join("tests/downstream/main.c"))
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", libdir.trim()))
        .arg("-o")
        .arg(&exe));
    ort_beside(&run_program(&exe, &model, &[]));
}
