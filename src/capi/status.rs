//! Status codes, the thread-local last error, the panic boundary, and the pointer checks that
//! every exported function shares.

use std::cell::Cell;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Error;

/// What a fallible function returns: `NESF_SUCCESS` (0) or an error code. After an error,
/// `nesf_last_error()` gives a message naming the function and the problem.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nesf_status_t {
    /// The call succeeded.
    NESF_SUCCESS = 0,
    /// An argument is out of its domain: a NULL pointer, a wrong size, a NaN, an option out of
    /// range, an unknown file format, an element outside the model's vocabulary.
    NESF_ERROR_INVALID_ARGUMENT = 1,
    /// An output buffer is too small; the message gives the length needed.
    NESF_ERROR_BUFFER_TOO_SMALL = 2,
    /// A file could not be opened, read or written.
    NESF_ERROR_IO = 3,
    /// A structure file could not be parsed.
    NESF_ERROR_PARSE = 4,
    /// A structure or lattice is not usable: no atoms, non-finite coordinates, degenerate cell.
    NESF_ERROR_INVALID_STRUCTURE = 5,
    /// An atomic number or element symbol that does not exist.
    NESF_ERROR_UNKNOWN_ELEMENT = 6,
    /// A model bundle is malformed, truncated or of an unsupported format version.
    NESF_ERROR_INVALID_MODEL = 7,
    /// ONNX Runtime could not be loaded, or failed to create or run a session.
    NESF_ERROR_RUNTIME = 8,
    /// Decoding failed, e.g. the lattice heads predict an impossible cell for a latent.
    NESF_ERROR_DECODE = 9,
    /// No default model is embedded in this build of the library.
    NESF_ERROR_NO_DEFAULT_MODEL = 10,
    /// The caller stopped the operation (its progress callback returned nonzero).
    NESF_ERROR_CANCELLED = 11,
    /// A bug in nesf (a Rust panic stopped at the API boundary). Please report it.
    NESF_ERROR_INTERNAL = 255,
}

use nesf_status_t::*;

/// An error on its way to the caller: a status and a message.
#[derive(Debug)]
pub(crate) struct CapiError {
    pub(crate) status: nesf_status_t,
    pub(crate) message: String,
}

/// Result of the bodies of exported functions.
pub(crate) type CResult<T = ()> = Result<T, CapiError>;

impl CapiError {
    pub(crate) fn new(status: nesf_status_t, message: impl Into<String>) -> Self {
        CapiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        CapiError::new(NESF_ERROR_INVALID_ARGUMENT, message)
    }

    pub(crate) fn null(name: &str) -> Self {
        CapiError::invalid(format!("parameter '{name}' is NULL"))
    }
}

impl From<Error> for CapiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Parse { .. } => NESF_ERROR_PARSE,
            Error::Io { .. } => NESF_ERROR_IO,
            Error::InvalidLattice(_) | Error::InvalidStructure(_) => NESF_ERROR_INVALID_STRUCTURE,
            Error::UnknownElement(_) => NESF_ERROR_UNKNOWN_ELEMENT,
            Error::UnknownFormat(_) | Error::InvalidArgument(_) | Error::Symmetry(_) => {
                NESF_ERROR_INVALID_ARGUMENT
            }
            Error::Field(_) => NESF_ERROR_DECODE,
            Error::Model(_) => NESF_ERROR_INVALID_MODEL,
            Error::Runtime(_) => NESF_ERROR_RUNTIME,
            Error::Cancelled(_) => NESF_ERROR_CANCELLED,
        };
        CapiError::new(status, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = text);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Exported calls running now, in all threads (their panics are reported, not printed).
static ACTIVE_CALLS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Exported calls running on this thread, and where the last panic inside one happened.
    static IN_CALL: Cell<usize> = const { Cell::new(0) };
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Installs (once) a panic hook that keeps panics inside exported calls off the host's stderr:
/// the panic becomes the call's `NESF_ERROR_INTERNAL` message instead. Panics on this thread
/// inside a call, and on nesf's worker threads (rayon) while a call runs, are kept quiet;
/// every other panic goes to the hook that was installed before.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let here = IN_CALL.with(Cell::get) > 0;
            let worker =
                ACTIVE_CALLS.load(Ordering::SeqCst) > 0 && rayon::current_thread_index().is_some();
            if here || worker {
                if let Some(l) = info.location() {
                    let _ = PANIC_AT.try_with(|p| *p.borrow_mut() = format!("{l}"));
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `body` as an exported call: counted for [`quiet_panics`].
fn in_call<T>(body: impl FnOnce() -> T) -> std::thread::Result<T> {
    quiet_panics();
    ACTIVE_CALLS.fetch_add(1, Ordering::SeqCst);
    IN_CALL.with(|c| c.set(c.get() + 1));
    let _ = PANIC_AT.try_with(|p| p.borrow_mut().clear());
    let result = catch_unwind(AssertUnwindSafe(body));
    IN_CALL.with(|c| c.set(c.get() - 1));
    ACTIVE_CALLS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The message of a caught panic, with where it happened when known.
fn internal_error(function: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let at = PANIC_AT
        .try_with(|p| p.borrow().clone())
        .unwrap_or_default();
    let at = if at.is_empty() {
        String::new()
    } else {
        format!(" (at {at})")
    };
    format!(
        "{function}: internal error (a bug in nesf, please report it): {}{at}",
        panic_message(payload)
    )
}

/// Runs the body of the exported function `function` behind the panic boundary: errors and
/// panics become a status plus a thread-local message.
pub(crate) fn guard(function: &str, body: impl FnOnce() -> CResult) -> nesf_status_t {
    match in_call(body) {
        Ok(Ok(())) => NESF_SUCCESS,
        Ok(Err(e)) => {
            set_last_error(&format!("{function}: {}", e.message));
            e.status
        }
        Err(payload) => {
            set_last_error(&internal_error(function, payload.as_ref()));
            NESF_ERROR_INTERNAL
        }
    }
}

/// Runs a function that returns no status (a free, an accessor of a static string) behind the
/// panic boundary; a panic records its message and yields `fallback`.
pub(crate) fn guard_value<T>(function: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match in_call(body) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&internal_error(function, payload.as_ref()));
            fallback
        }
    }
}

/// The message of the most recent failed call made on this thread, naming the function and
/// the problem; "" before any failure. Calls that succeed leave it unchanged. The pointer is
/// owned by the library and stays valid until the next failed call on this thread.
#[no_mangle]
pub extern "C" fn nesf_last_error() -> *const c_char {
    guard_value("nesf_last_error", c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|e| e.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// A shared reference from a pointer that must not be NULL.
///
/// # Safety
/// `ptr` is NULL or valid for reads of a `T` for `'a`.
pub(crate) unsafe fn reference<'a, T>(ptr: *const T, name: &str) -> CResult<&'a T> {
    check_aligned(ptr, name)?;
    // SAFETY: non-NULL and aligned; validity is the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| CapiError::null(name))
}

/// A mutable reference from a pointer that must not be NULL.
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes of a `T` for `'a`.
pub(crate) unsafe fn reference_mut<'a, T>(ptr: *mut T, name: &str) -> CResult<&'a mut T> {
    check_aligned(ptr, name)?;
    // SAFETY: non-NULL and aligned; validity is the caller's contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| CapiError::null(name))
}

/// Checks that an output pointer is not NULL and stores `value` there.
///
/// # Safety
/// `ptr` is NULL or valid for writes of a `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, name: &str, value: T) -> CResult {
    if ptr.is_null() {
        return Err(CapiError::null(name));
    }
    check_aligned(ptr, name)?;
    // SAFETY: non-NULL and aligned; validity is the caller's contract.
    unsafe { ptr.write(value) };
    Ok(())
}

fn check_aligned<T>(ptr: *const T, name: &str) -> CResult {
    if !ptr.is_null() && !(ptr as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return Err(CapiError::invalid(format!(
            "parameter '{name}' ({ptr:p}) is not aligned for its type"
        )));
    }
    Ok(())
}

fn check_span<T>(ptr: *const T, len: usize, name: &str) -> CResult {
    if len
        .checked_mul(std::mem::size_of::<T>().max(1))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(CapiError::invalid(format!(
            "length {len} of '{name}' is larger than any array can be"
        )));
    }
    if ptr.is_null() {
        return Err(CapiError::null(name));
    }
    check_aligned(ptr, name)
}

/// An input array of `len` elements; NULL is accepted when `len` is 0.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` elements for `'a`.
pub(crate) unsafe fn input_slice<'a, T>(ptr: *const T, len: usize, name: &str) -> CResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    check_span(ptr, len, name)?;
    // SAFETY: checked non-NULL, aligned and of a possible size; validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output array of `len` elements; NULL is accepted when `len` is 0.
///
/// # Safety
/// `ptr` is NULL or valid for writes of `len` elements for `'a`.
pub(crate) unsafe fn output_slice<'a, T>(
    ptr: *mut T,
    len: usize,
    name: &str,
) -> CResult<&'a mut [T]> {
    if len == 0 {
        return Ok(&mut []);
    }
    check_span(ptr, len, name)?;
    // SAFETY: checked non-NULL, aligned and of a possible size; validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Copies `values` to the front of the caller's buffer `out`; fails with
/// `NESF_ERROR_BUFFER_TOO_SMALL` (naming `name`) when they do not fit.
pub(crate) fn fill<T>(
    name: &str,
    out: &mut [T],
    values: impl ExactSizeIterator<Item = T>,
) -> CResult {
    check_capacity(name, out.len(), values.len())?;
    for (o, v) in out.iter_mut().zip(values) {
        *o = v;
    }
    Ok(())
}

/// Fails with `NESF_ERROR_BUFFER_TOO_SMALL` when an output of `needed` elements does not fit in
/// `len`.
pub(crate) fn check_capacity(name: &str, len: usize, needed: usize) -> CResult {
    if len < needed {
        return Err(CapiError::new(
            NESF_ERROR_BUFFER_TOO_SMALL,
            format!("'{name}' holds {len} elements, {needed} are needed"),
        ));
    }
    Ok(())
}

/// The product of two sizes, or an error naming them when it overflows.
pub(crate) fn checked_product(a: usize, b: usize, what: &str) -> CResult<usize> {
    a.checked_mul(b)
        .ok_or_else(|| CapiError::invalid(format!("{what}: {a} x {b} overflows")))
}

/// A NUL-terminated string argument as text.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> CResult<&'a CStr> {
    if ptr.is_null() {
        return Err(CapiError::null(name));
    }
    // SAFETY: non-NULL; NUL termination is the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// A NUL-terminated path argument (bytes as the operating system takes them).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn c_path(ptr: *const c_char, name: &str) -> CResult<PathBuf> {
    // SAFETY: forwarded contract.
    let s = unsafe { c_str(ptr, name) }?;
    if s.is_empty() {
        return Err(CapiError::invalid(format!(
            "parameter '{name}' is an empty path"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        s.to_str()
            .map(PathBuf::from)
            .map_err(|_| CapiError::invalid(format!("parameter '{name}' is not UTF-8")))
    }
}

/// A C string owned by a handle, from Rust text (NUL bytes escaped).
pub(crate) fn owned_c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_internal_errors() {
        let status = guard("nesf_test", || panic!("boom"));
        assert_eq!(status, NESF_ERROR_INTERNAL);
        // SAFETY: the library's own NUL-terminated string.
        let message = unsafe { CStr::from_ptr(nesf_last_error()) }
            .to_str()
            .unwrap();
        assert!(
            message.starts_with("nesf_test: internal error"),
            "{message}"
        );
        assert!(message.contains("boom"), "{message}");
        // recorded where it happened: the quiet hook took it (the host's stderr did not)
        assert!(message.contains("(at src/capi/status.rs:"), "{message}");
        assert_eq!(guard_value("nesf_test", 7, || panic!("again")), 7);
    }

    #[test]
    fn errors_keep_their_message_until_the_next_failure() {
        let status = guard("nesf_a", || Err(CapiError::null("x")));
        assert_eq!(status, NESF_ERROR_INVALID_ARGUMENT);
        assert_eq!(guard("nesf_b", || Ok(())), NESF_SUCCESS);
        // SAFETY: the library's own NUL-terminated string.
        let message = unsafe { CStr::from_ptr(nesf_last_error()) }
            .to_str()
            .unwrap();
        assert_eq!(message, "nesf_a: parameter 'x' is NULL");
        let status = guard("nesf_c", || {
            Err(Error::Parse {
                source_name: "f\0".into(),
                line: 2,
                message: "bad".into(),
            }
            .into())
        });
        assert_eq!(status, NESF_ERROR_PARSE);
        // SAFETY: as above.
        let message = unsafe { CStr::from_ptr(nesf_last_error()) }
            .to_str()
            .unwrap();
        assert_eq!(message, "nesf_c: f\\0:2: bad");
    }

    #[test]
    fn pointer_checks() {
        // SAFETY: NULL and zero lengths are the cases under test; nothing is dereferenced.
        unsafe {
            assert!(input_slice::<f64>(std::ptr::null(), 0, "a")
                .unwrap()
                .is_empty());
            let e = input_slice::<f64>(std::ptr::null(), 3, "a").unwrap_err();
            assert_eq!(e.message, "parameter 'a' is NULL");
            let e = input_slice::<f64>(std::ptr::without_provenance(8), usize::MAX / 4, "a")
                .unwrap_err();
            assert!(e.message.contains("larger than any array"), "{}", e.message);
            let e = input_slice::<f64>(std::ptr::without_provenance(3), 1, "a").unwrap_err();
            assert!(e.message.contains("not aligned"), "{}", e.message);
        }
        assert_eq!(
            check_capacity("b", 2, 3).unwrap_err().status,
            NESF_ERROR_BUFFER_TOO_SMALL
        );
    }
}
