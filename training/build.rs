//! Gives the trainer an rpath to libtorch, so it runs without LD_LIBRARY_PATH. torch-sys
//! (links = "tch") passes the directory of the libtorch it linked as DEP_TCH_LIBTORCH_LIB.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        // Where the CUDA library is looked for at start-up (see src/device.rs).
        println!("cargo:rustc-env=NESF_TRAIN_LIBTORCH_LIB={dir}");
    } else {
        println!("cargo:rustc-env=NESF_TRAIN_LIBTORCH_LIB=");
    }
}
