//! Build script: the SONAME of libnesf.so, and the C header include/nesf.h generated from
//! src/capi with cbindgen (written only when its content changes; a copy goes to OUT_DIR so a
//! test can check the committed header against a fresh generation).

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/capi");

    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("cargo sets the version");
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets the version");

    // 0.x releases break the ABI at every minor version, later releases at every major one.
    let soname = if major == "0" {
        format!("libnesf.so.0.{minor}")
    } else {
        format!("libnesf.so.{major}")
    };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    // the one place the rule lives: the crate (nesf::capi::SONAME), the install script (which
    // reads it off the built library) and the tests take it from here
    println!("cargo:rustc-env=NESF_SONAME={soname}");

    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    config.after_includes = Some(format!(
        "\n/** Version of the header; compare with nesf_version() at run time. */\n\
         #define NESF_VERSION \"{version}\"\n\
         #define NESF_VERSION_MAJOR {major}\n\
         #define NESF_VERSION_MINOR {minor}\n\
         #define NESF_VERSION_PATCH {patch}\n"
    ));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/capi/mod.rs"))
        .generate()
        .expect("cbindgen generates the C header from src/capi");
    let mut text = Vec::new();
    bindings.write(&mut text);

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    fs::write(out.join("nesf.h"), &text).expect("OUT_DIR is writable");
    let header = root.join("include/nesf.h");
    if fs::read(&header).ok().as_deref() != Some(text.as_slice()) {
        let written =
            fs::create_dir_all(root.join("include")).and_then(|()| fs::write(&header, &text));
        if let Err(e) = written {
            println!("cargo:warning=cannot update {}: {e}", header.display());
        }
    }
}
