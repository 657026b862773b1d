//! Finding and loading the ONNX Runtime shared library, and the execution providers.
//!
//! nesf loads ONNX Runtime at run time (`load-dynamic`), so any ONNX Runtime >= 1.24 can be
//! dropped in. The library is searched, in order:
//! 1. at a path given through the API ([`load`]) or the `NESF_ONNXRUNTIME` environment
//!    variable (`ORT_DYLIB_PATH` is honoured too);
//! 2. next to the nesf shared library (or the executable nesf is linked into);
//! 3. on the system's library search path (`libonnxruntime.so`);
//! 4. at the path `NESF_ONNXRUNTIME` had when nesf was built, if that file still exists (the
//!    library provisioned for a development checkout).
//!
//! The first library that loads stays loaded for the life of the process.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use once_cell::sync::OnceCell;

use crate::error::{Error, Result};

/// Where the loaded ONNX Runtime library was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discovery {
    /// A path given through the API.
    Explicit,
    /// The `NESF_ONNXRUNTIME` or `ORT_DYLIB_PATH` environment variable.
    Environment,
    /// The folder of the nesf shared library or executable.
    BesideLibrary,
    /// The system's library search path.
    SystemPath,
    /// The library provisioned for this source tree when nesf was built (`NESF_ONNXRUNTIME` at
    /// build time, set by the repository's `.cargo/config.toml`): lets the programs of a
    /// development build run without setup.
    BuildTree,
}

/// The ONNX Runtime library in use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuntimeInfo {
    /// The file that was loaded.
    pub path: PathBuf,
    /// Its version, e.g. "1.31.1".
    pub version: String,
    /// How it was found.
    pub discovery: Discovery,
    /// The execution providers this build of ONNX Runtime offers.
    pub available_providers: Vec<String>,
}

static RUNTIME: OnceCell<(RuntimeInfo, ort::environment::Environment)> = OnceCell::new();
static LOADING: Mutex<()> = Mutex::new(());

/// The library's file name on this platform.
const LIBRARY: &str = if cfg!(target_os = "macos") {
    "libonnxruntime.dylib"
} else if cfg!(windows) {
    "onnxruntime.dll"
} else {
    "libonnxruntime.so"
};

/// Loads ONNX Runtime (once per process) and returns what was loaded. With `path`, only that
/// file is tried; without, the search order of the module documentation applies. Fails with
/// every place tried and why when no library loads, or when a different `path` is asked for
/// after a library was already loaded.
pub fn load(path: Option<&Path>) -> Result<&'static RuntimeInfo> {
    if let Some(done) = RUNTIME.get() {
        return check_same(&done.0, path);
    }
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(done) = RUNTIME.get() {
        return check_same(&done.0, path);
    }
    let mut tried = Vec::new();
    for (candidate, discovery) in candidates(path) {
        match try_load(&candidate) {
            Ok(()) => {
                let environment = ort::init()
                    .with_name("nesf")
                    .with_telemetry(false)
                    .with_logger(super::runtime_log::logger())
                    .build()
                    .map_err(|e| {
                        Error::Runtime(format!("creating the ONNX Runtime environment: {e}"))
                    })?;
                let resolved = resolve_loaded_path(Some(&candidate)).unwrap_or(candidate);
                let info = RuntimeInfo {
                    version: loaded_version(Some(&resolved)).unwrap_or_else(|| "unknown".into()),
                    path: resolved,
                    discovery,
                    available_providers: available_providers(),
                };
                let done = RUNTIME.get_or_init(|| (info, environment));
                return Ok(&done.0);
            }
            Err(why) => tried.push(format!("{} ({why})", candidate.display())),
        }
    }
    Err(Error::Runtime(format!(
        "the ONNX Runtime library could not be loaded; tried: {}. Set NESF_ONNXRUNTIME to the \
         path of libonnxruntime.so (version 1.24 or newer), or run scripts/provision-onnxruntime.sh",
        tried.join("; ")
    )))
}

/// The loaded library, if any.
pub fn info() -> Option<&'static RuntimeInfo> {
    RUNTIME.get().map(|r| &r.0)
}

/// The process-wide ONNX Runtime environment, loading the library first if needed.
pub fn environment() -> Result<&'static ort::environment::Environment> {
    load(None)?;
    Ok(&RUNTIME.get().expect("loaded above").1)
}

fn check_same(info: &'static RuntimeInfo, path: Option<&Path>) -> Result<&'static RuntimeInfo> {
    match path {
        Some(p) if !same_file(p, &info.path) => Err(Error::Runtime(format!(
            "ONNX Runtime is already loaded from {} in this process; cannot switch to {}",
            info.path.display(),
            p.display()
        ))),
        _ => Ok(info),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The places to try, in order.
fn candidates(path: Option<&Path>) -> Vec<(PathBuf, Discovery)> {
    if let Some(p) = path {
        return vec![(p.to_path_buf(), Discovery::Explicit)];
    }
    let mut out = Vec::new();
    for var in ["NESF_ONNXRUNTIME", "ORT_DYLIB_PATH"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            out.push((PathBuf::from(v), Discovery::Environment));
        }
    }
    if let Some(dir) = own_location().as_deref().and_then(Path::parent) {
        out.push((dir.join(LIBRARY), Discovery::BesideLibrary));
        // the wheel ships only the versioned name
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut versioned: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("{LIBRARY}.")))
                })
                .collect();
            versioned.sort();
            out.extend(
                versioned
                    .into_iter()
                    .rev()
                    .map(|p| (p, Discovery::BesideLibrary)),
            );
        }
    }
    out.push((PathBuf::from(LIBRARY), Discovery::SystemPath));
    if let Some(built) = option_env!("NESF_ONNXRUNTIME").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(built), Discovery::BuildTree));
    }
    out
}

fn try_load(candidate: &Path) -> std::result::Result<(), String> {
    // a bare name goes to the system search path; anything else must exist
    let bare = candidate.components().count() == 1 && candidate.parent() == Some(Path::new(""));
    if !bare && !candidate.exists() {
        return Err("no such file".into());
    }
    // ort's own loader may panic on a library that is not ONNX Runtime; keep that inside
    match std::panic::catch_unwind(|| ort::init_from(candidate).map(|_| ())) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the library is not a usable ONNX Runtime".into()),
    }
}

/// The file holding this very code: libnesf.so, or the executable it is linked into.
fn own_location() -> Option<PathBuf> {
    // SAFETY: Dl_info is a C struct of pointers and integers only, for which all-zero bytes
    // (NULL pointers, zeros) are a valid value; dladdr overwrites it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = own_location as *const c_void;
    // SAFETY: dladdr only reads the address (a function of this very object, so mapped) and
    // fills `info`, a valid, writable Dl_info that outlives the call.
    if unsafe { libc::dladdr(here, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr succeeded and `dli_fname` is non-NULL (checked above): a NUL-terminated
    // path owned by the loader, valid while this object stays loaded (at least for this
    // call, since this code is running); it is copied out at once.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(name.to_string_lossy().into_owned());
    path.canonicalize().ok().or(Some(path))
}

/// The ONNX Runtime entry point `OrtGetApiBase`, found among the loaded libraries.
/// ONNX Runtime's `OrtApiBase`: found through the global symbol table, else by reopening the
/// file just loaded (`loaded`) or one of the searched places.
fn api_base(loaded: Option<&Path>) -> Option<*const OrtApiBase> {
    let sym = CString::new("OrtGetApiBase").ok()?;
    // SAFETY: `sym` is a NUL-terminated string alive for the call; dlsym with RTLD_DEFAULT
    // only looks the name up in the global scope and returns NULL when it is absent (nothing
    // is called here). libloading loads with RTLD_LOCAL, so ort's library is usually not in
    // that scope: fall back to reopening it by its path.
    let mut f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, sym.as_ptr()) };
    if f.is_null() {
        let searched = candidates(None).into_iter().map(|(c, _)| c);
        for candidate in loaded.map(Path::to_path_buf).into_iter().chain(searched) {
            let c = CString::new(candidate.to_string_lossy().as_bytes()).ok()?;
            // SAFETY: `c` is a NUL-terminated path alive for the call. With RTLD_NOLOAD dlopen
            // loads nothing (so runs no initialisers): it returns NULL, or a new reference to a
            // library already loaded in the process, released by the dlclose below.
            let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
            if !h.is_null() {
                // SAFETY: `h` is the live handle just returned by dlopen and `sym` a
                // NUL-terminated string; dlsym only looks the name up (NULL when absent).
                f = unsafe { libc::dlsym(h, sym.as_ptr()) };
                // SAFETY: `h` came from the successful dlopen above and is closed exactly once.
                // RTLD_NOLOAD took an extra reference to a library someone else holds loaded
                // (ort keeps its own in a process-wide static), so closing it does not unload
                // it and `f` stays valid.
                unsafe { libc::dlclose(h) };
                if !f.is_null() {
                    break;
                }
            }
        }
    }
    if f.is_null() {
        return None;
    }
    // SAFETY: `f` is the non-NULL address of the symbol `OrtGetApiBase` of a loaded ONNX
    // Runtime, a function `const OrtApiBase* OrtGetApiBase(void)` (C calling convention) in
    // every ONNX Runtime release; POSIX guarantees that dlsym's `void *` converts to a function
    // pointer of the same size.
    let get: unsafe extern "C" fn() -> *const OrtApiBase = unsafe { std::mem::transmute(f) };
    // SAFETY: OrtGetApiBase takes no arguments, has no preconditions and returns a pointer to
    // a static OrtApiBase of its library, which stays loaded (see the dlclose above).
    let base = unsafe { get() };
    (!base.is_null()).then_some(base)
}

#[repr(C)]
struct OrtApiBase {
    get_api: unsafe extern "C" fn(u32) -> *const c_void,
    get_version_string: unsafe extern "C" fn() -> *const c_char,
}

fn loaded_version(loaded: Option<&Path>) -> Option<String> {
    let base = api_base(loaded)?;
    // SAFETY: `base` is non-NULL (checked in api_base) and points at ONNX Runtime's static
    // OrtApiBase, whose C layout { GetApi, GetVersionString } `OrtApiBase` above mirrors;
    // GetVersionString takes no arguments and has no preconditions.
    let s = unsafe { ((*base).get_version_string)() };
    // SAFETY: `s` is non-NULL (checked) and points to ONNX Runtime's static NUL-terminated
    // version string, which is copied out at once.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
}

fn resolve_loaded_path(loaded: Option<&Path>) -> Option<PathBuf> {
    let base = api_base(loaded)?;
    // SAFETY: Dl_info is a C struct of pointers and integers only, for which all-zero bytes
    // (NULL pointers, zeros) are a valid value; dladdr overwrites it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only inspects the address (never dereferences it) and fills `info`, a
    // valid, writable Dl_info that outlives the call.
    if unsafe { libc::dladdr(base as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    let p = PathBuf::from(
        // SAFETY: dladdr succeeded and `dli_fname` is non-NULL (checked above): a
        // NUL-terminated path owned by the loader, valid while ONNX Runtime stays loaded (for
        // the process, see api_base); it is copied out at once.
        unsafe { CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned(),
    );
    Some(p.canonicalize().unwrap_or(p))
}

fn available_providers() -> Vec<String> {
    let mut names: *mut *mut c_char = std::ptr::null_mut();
    let mut n: i32 = 0;
    let api = ort::api();
    // SAFETY: `api` is ort's OrtApi table of the loaded ONNX Runtime, valid for the process.
    // GetAvailableProviders writes an array of `n` (>= 0) NUL-terminated names to `names`,
    // both valid out-pointers here; on failure the status (ReleaseStatus accepts NULL) is
    // released and nothing is read. Otherwise only indices 0..n are read, each name is copied
    // before the array is released once, with the same `names` and `n`.
    unsafe {
        let status = (api.GetAvailableProviders)(&mut names, &mut n);
        if !status.0.is_null() || names.is_null() {
            (api.ReleaseStatus)(status.0);
            return Vec::new();
        }
        let out = (0..n as usize)
            .map(|i| CStr::from_ptr(*names.add(i)).to_string_lossy().into_owned())
            .collect();
        let _ = (api.ReleaseAvailableProviders)(names, n);
        out
    }
}
