//! The C ABI: the committed header is what the build generates, only `nesf_` symbols are
//! exported, the versions agree, the Julia declarations are current, one model handle
//! decodes from 8 threads bit-identically, and the C, C++ and Fortran tests and examples pass
//! (built with CMake against an installed nesf, run by ctest natively and under valgrind).

mod common;

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::process::Command;
use std::ptr;

use common::native::{
    header_functions, install, library_dir, require, root, run, scratch, without_runtime_env,
    write_test_model,
};
use nesf::capi::nesf_status_t::NESF_SUCCESS;
use nesf::capi::*;

#[test]
fn header_is_current() {
    let committed = std::fs::read_to_string(root().join("include/nesf.h")).unwrap_or_default();
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/nesf.h")).unwrap();
    assert!(
        committed == generated,
        "include/nesf.h is missing or differs from what cbindgen generates from src/capi: \
         build.rs rewrites it when src/capi changes (after deleting or editing it by hand, \
         `touch build.rs && cargo build`); commit the result"
    );
    // the conventions open the header
    let opening: String = committed.lines().take(20).collect::<Vec<_>>().join("\n");
    for convention in [
        "angstrom",
        "degrees",
        "positions[n_atoms][3]",
        "rows",
        "atomic numbers",
    ] {
        assert!(
            opening.contains(convention),
            "the header does not open with '{convention}'"
        );
    }
}

#[test]
fn only_nesf_symbols_are_exported() {
    let lib = library_dir().join("libnesf.so");
    let symbols = run(Command::new("nm").args(["-D", "--defined-only"]).arg(&lib));
    let exported: BTreeSet<String> = symbols
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .collect();
    let foreign: Vec<&String> = exported
        .iter()
        .filter(|s| !s.starts_with("nesf_"))
        .collect();
    assert!(foreign.is_empty(), "libnesf.so exports {foreign:?}");
    let declared: BTreeSet<String> = header_functions().into_iter().collect();
    assert_eq!(
        exported, declared,
        "exported symbols and header declarations differ"
    );
    assert!(declared.len() >= 30, "{declared:?}");

    let dynamic = run(Command::new("readelf").arg("-d").arg(&lib));
    let soname = nesf::capi::SONAME;
    assert!(
        dynamic.contains(&format!("Library soname: [{soname}]")),
        "no SONAME {soname} in:\n{dynamic}"
    );
}

#[test]
fn versions_agree() {
    let header = std::fs::read_to_string(root().join("include/nesf.h")).unwrap();
    let define = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("no {name} in the header"))
            .trim()
            .to_string()
    };
    assert_eq!(
        define("NESF_VERSION"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        define("NESF_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        define("NESF_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        define("NESF_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    // SAFETY: a static NUL-terminated string.
    let runtime = unsafe { CStr::from_ptr(nesf_version()) };
    assert_eq!(runtime.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn julia_declarations_are_current() {
    let script = root().join("bindings/julia/generate.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bindings/julia/src/generated.jl is not what {} makes from include/nesf.h; run it.\n{}{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let generated =
        std::fs::read_to_string(root().join("bindings/julia/src/generated.jl")).unwrap();
    for name in header_functions() {
        assert!(
            generated.contains(&format!("ccall((:{name}, libnesf)")),
            "no ccall of {name}"
        );
    }
}

#[test]
fn robustness_test_calls_every_function() {
    // what the compiled object imports, not what its text mentions (a comment is no call)
    require("cc");
    require("nm");
    let dir = scratch("capi-robustness-calls");
    let object = dir.join("test_robustness.o");
    run(Command::new("cc")
        .args(["-std=c11", "-c"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(root().join("tests/c/test_robustness.c"))
        .arg("-o")
        .arg(&object));
    let imported = run(Command::new("nm").arg("-u").arg(&object));
    let calls: BTreeSet<&str> = imported
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    let missing: Vec<String> = header_functions()
        .into_iter()
        .filter(|name| !calls.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "tests/c/test_robustness.c never calls {missing:?}"
    );
}

/// Every value of a decoded list, as bits.
fn snapshot(list: *const nesf_structures_t) -> Vec<(Vec<u64>, Vec<i32>, Vec<u32>)> {
    let mut out = Vec::new();
    // SAFETY: `list` is a live list; every buffer is sized from the library's counts.
    unsafe {
        let mut count = 0;
        assert_eq!(nesf_structures_count(list, &mut count), NESF_SUCCESS);
        for i in 0..count {
            let mut s = ptr::null_mut();
            assert_eq!(nesf_structures_get(list, i, &mut s), NESF_SUCCESS);
            let mut n = 0;
            assert_eq!(nesf_structure_atom_count(s, &mut n), NESF_SUCCESS);
            let mut cell = vec![0.0; 9];
            let mut positions = vec![0.0; 3 * n];
            let mut numbers = vec![0; n];
            let mut confidence = vec![0.0f32; n];
            assert_eq!(nesf_structure_lattice(s, cell.as_mut_ptr()), NESF_SUCCESS);
            assert_eq!(
                nesf_structure_positions(s, positions.as_mut_ptr(), 3 * n),
                NESF_SUCCESS
            );
            assert_eq!(
                nesf_structure_numbers(s, numbers.as_mut_ptr(), n),
                NESF_SUCCESS
            );
            assert_eq!(
                nesf_structure_confidence(s, confidence.as_mut_ptr(), n),
                NESF_SUCCESS
            );
            nesf_structure_free(s);
            cell.extend(positions);
            out.push((
                cell.iter().map(|x| x.to_bits()).collect(),
                numbers,
                confidence.iter().map(|x| x.to_bits()).collect(),
            ));
        }
    }
    out
}

/// A handle shared between threads: a model (immutable, documented as safe to use from many
/// threads) or a list only read while shared.
struct Shared<T>(*const T);
// SAFETY: only used for the handles described above.
unsafe impl<T> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The handle (a method, so closures capture the whole wrapper, not its pointer field).
    fn get(&self) -> *const T {
        self.0
    }
}

/// Threads sharing one model handle, each encoding and decoding its own structures.
const THREADS: usize = 16;
/// Rounds each thread runs.
const ROUNDS: usize = 3;

#[test]
fn sixteen_threads_share_one_model_bit_identically() {
    let dir = scratch("capi-threads");
    let model_path = dir.join("model.nesf");
    write_test_model(&model_path);
    let path = CString::new(model_path.to_str().unwrap()).unwrap();
    let data = CString::new(root().join("data/ybco13.extxyz").to_str().unwrap()).unwrap();
    // SAFETY: every pointer below is valid for the lengths passed.
    unsafe {
        let mut model = ptr::null_mut();
        assert_eq!(
            nesf_model_load(path.as_ptr(), ptr::null(), &mut model),
            NESF_SUCCESS
        );
        let mut latent_size = 0;
        assert_eq!(
            nesf_model_latent_size(model, &mut latent_size),
            NESF_SUCCESS
        );
        let mut list = ptr::null_mut();
        assert_eq!(nesf_structures_read(data.as_ptr(), &mut list), NESF_SUCCESS);
        // read by every thread, changed by none
        let all = Shared(list.cast_const());

        let mut options: nesf_decode_options_t = std::mem::zeroed();
        options.struct_size = std::mem::size_of::<nesf_decode_options_t>();
        assert_eq!(nesf_model_decode_options(model, &mut options), NESF_SUCCESS);
        options.grid_step = 1.0;
        options.steps = 8;
        options.min_particles = 1;
        options.batch_size = 3;
        options.n_species_offsets = 2;
        options.species_offsets[0] = -0.1;
        options.species_offsets[1] = 0.1;

        // thread t works on structures 5t, 5t+1 and 5t+2 of the file
        let work = |t: usize, model: *const nesf_model_t| {
            let mut mine = ptr::null_mut();
            assert_eq!(nesf_structures_new(&mut mine), NESF_SUCCESS);
            for i in 0..3 {
                let mut s = ptr::null_mut();
                assert_eq!(
                    nesf_structures_get(all.get(), 5 * t + i, &mut s),
                    NESF_SUCCESS
                );
                assert_eq!(nesf_structures_push(mine, s), NESF_SUCCESS);
                nesf_structure_free(s);
            }
            let mut latents = vec![0f32; 3 * latent_size];
            assert_eq!(
                nesf_model_encode(model, mine, latents.as_mut_ptr(), latents.len()),
                NESF_SUCCESS
            );
            nesf_structures_free(mine);
            let mut list = ptr::null_mut();
            let status =
                nesf_model_decode(model, latents.as_ptr(), 3, latent_size, &options, &mut list);
            assert_eq!(
                status,
                NESF_SUCCESS,
                "{:?}",
                CStr::from_ptr(nesf_last_error())
            );
            let values = snapshot(list);
            nesf_structures_free(list);
            (
                latents.iter().map(|x| x.to_bits()).collect::<Vec<u32>>(),
                values,
            )
        };
        let serial: Vec<_> = (0..THREADS).map(|t| work(t, model)).collect();
        assert!(serial.iter().all(|(_, v)| v.len() == 3));
        assert!(serial
            .iter()
            .any(|(_, v)| v.iter().any(|(_, numbers, _)| !numbers.is_empty())));

        let shared = Shared(model);
        let barrier = std::sync::Barrier::new(THREADS);
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (shared, barrier, work) = (&shared, &barrier, &work);
                    scope.spawn(move || {
                        barrier.wait();
                        (0..ROUNDS)
                            .map(|_| work(t, shared.get()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, rounds) in results.iter().enumerate() {
            for (r, result) in rounds.iter().enumerate() {
                assert!(
                    *result == serial[t],
                    "thread {t}, round {r}: encoded or decoded differently from the serial run"
                );
            }
        }
        nesf_structures_free(list);
        nesf_model_free(model);
    }
}

/// The same programs built with AddressSanitizer and UndefinedBehaviorSanitizer (the C, C++
/// and Fortran compilers' own runtimes), run natively: out-of-bounds accesses, use after free
/// and undefined behaviour on the callers' side of the ABI abort the test. Leaks are
/// valgrind's part (ONNX Runtime keeps process-lifetime allocations LeakSanitizer reports).
#[test]
fn c_cpp_fortran_tests_pass_under_sanitizers() {
    for tool in ["cmake", "ctest", "cc", "c++", "gfortran"] {
        require(tool);
    }
    let dir = scratch("capi-sanitize");
    let model = dir.join("model.nesf");
    write_test_model(&model);
    let prefix = dir.join("prefix");
    install(&prefix);
    let build = dir.join("build");
    run(Command::new("cmake")
        .arg("-S")
        .arg(root().join("tests/c"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DNESF_TEST_MODEL={}", model.display()))
        .arg(format!(
            "-DNESF_TEST_DATA={}",
            root().join("data/ybco13.extxyz").display()
        ))
        .arg("-DNESF_TEST_VALGRIND=OFF")
        .arg("-DNESF_TEST_SANITIZE=ON"));
    run(Command::new("cmake").arg("--build").arg(&build).arg("-j2"));
    let mut ctest = without_runtime_env(Command::new("ctest"));
    let output = run(ctest
        .current_dir(&build)
        .env("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .args(["--output-on-failure", "-j2"]));
    eprintln!("{output}");
    assert!(
        output.contains("100% tests passed, 0 tests failed out of 8"),
        "{output}"
    );
}

#[test]
fn c_cpp_fortran_tests_and_examples_pass() {
    for tool in ["cmake", "ctest", "cc", "c++", "gfortran", "nm"] {
        require(tool);
    }
    let valgrind = std::env::var("NESF_TEST_VALGRIND").map_or(true, |v| v != "0");
    if valgrind {
        require("valgrind");
    }
    let dir = scratch("capi-native");
    let model = dir.join("model.nesf");
    write_test_model(&model);
    let prefix = dir.join("prefix");
    install(&prefix);
    let build = dir.join("build");
    run(Command::new("cmake")
        .arg("-S")
        .arg(root().join("tests/c"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DNESF_TEST_MODEL={}", model.display()))
        .arg(format!(
            "-DNESF_TEST_DATA={}",
            root().join("data/ybco13.extxyz").display()
        ))
        .arg(format!(
            "-DNESF_TEST_VALGRIND={}",
            if valgrind { "ON" } else { "OFF" }
        )));
    run(Command::new("cmake").arg("--build").arg(&build).arg("-j2"));
    // the installed layout finds ONNX Runtime beside libnesf.so, without environment variables
    let mut ctest = without_runtime_env(Command::new("ctest"));
    let output = run(ctest
        .current_dir(&build)
        .args(["--output-on-failure", "-j2"]));
    eprintln!("{output}");
    let expected = if valgrind { 16 } else { 8 };
    assert!(
        output.contains(&format!(
            "100% tests passed, 0 tests failed out of {expected}"
        )),
        "{output}"
    );
}
