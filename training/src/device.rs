//! Choosing the device and thread counts.
//!
//! Rust links with `--as-needed`, so `libtorch_cuda.so` is dropped from the binary and libtorch
//! reports no CUDA even on a GPU machine. Loading it explicitly (RTLD_GLOBAL) before the first
//! torch call registers the CUDA backend. With a CPU-only libtorch install (the default of
//! scripts/provision-libtorch.sh) it cannot load, and asking for CUDA fails with a clear
//! message — the trainer never falls back to the CPU silently.

use std::ffi::CString;

use anyhow::{bail, Result};
use tch::Device;

/// The device names the command line accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU.
    Cuda,
}

/// Tries to load libtorch's CUDA library; returns why it failed.
pub fn load_cuda() -> std::result::Result<(), String> {
    let dir = env!("NESF_TRAIN_LIBTORCH_LIB");
    let mut errors = Vec::new();
    let mut candidates = vec!["libtorch_cuda.so".to_string()];
    if !dir.is_empty() {
        candidates.insert(0, format!("{dir}/libtorch_cuda.so"));
    }
    for name in candidates {
        let c = CString::new(name.clone()).expect("no NUL in a path");
        // SAFETY: dlopen with a valid C string; the handle is intentionally never closed.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !handle.is_null() {
            return Ok(());
        }
        // SAFETY: dlerror returns a thread-local C string or NULL.
        let err = unsafe { libc::dlerror() };
        let msg = if err.is_null() {
            "unknown error".to_string()
        } else {
            unsafe { std::ffi::CStr::from_ptr(err) }
                .to_string_lossy()
                .into_owned()
        };
        errors.push(format!("{name}: {msg}"));
    }
    Err(errors.join("; "))
}

/// The tch device for `arg` (loading CUDA first when asked for).
pub fn select(arg: DeviceArg) -> Result<Device> {
    match arg {
        DeviceArg::Cpu => Ok(Device::Cpu),
        DeviceArg::Cuda => {
            let loaded = load_cuda();
            if !tch::Cuda::is_available() {
                bail!(
                    "--device cuda: libtorch sees no CUDA device ({}). The default provisioning \
                     installs a CPU-only libtorch; run scripts/provision-libtorch.sh with \
                     NESF_LIBTORCH_CUDA=1 on a GPU machine",
                    match loaded {
                        Ok(()) => "libtorch_cuda.so loaded, but no GPU is visible".to_string(),
                        Err(e) => format!("cannot load libtorch_cuda.so: {e}"),
                    }
                );
            }
            Ok(Device::Cuda(0))
        }
    }
}

/// Keeps freed memory in the process instead of returning it to the system (glibc only).
///
/// A training step allocates and frees activations of tens to hundreds of MB. glibc serves
/// every allocation above 32 MB with a fresh mmap and unmaps it on free, so each step
/// page-faults its whole working set in again: on the 2-core test machine that was a third of
/// the CPU time in the kernel and made a step of the paper's batch ~1.9x slower (2.9 s instead
/// of 1.5 s). Turning off mmap-served allocations and heap trimming keeps the pages; the cost
/// is a higher resident size (about 3 GB instead of 1.6 GB for batch 64 on LCS6Å). Set
/// `NESF_TRAIN_SYSTEM_MALLOC=1` to keep glibc's defaults. Call before any large allocation.
pub fn keep_freed_memory() -> bool {
    if std::env::var_os("NESF_TRAIN_SYSTEM_MALLOC").is_some_and(|v| v != "0") {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Sets libtorch's and rayon's thread counts (0 leaves the defaults).
pub fn set_threads(n: usize) {
    if n == 0 {
        return;
    }
    tch::set_num_threads(n as i32);
    tch::set_num_interop_threads(n as i32);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}
