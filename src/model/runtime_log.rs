//! ONNX Runtime's own log messages. A library must not write on its host program's stderr, so
//! nesf hands ONNX Runtime a logger that keeps its warnings and errors in memory (the last
//! [`KEPT_MESSAGES`]) for [`messages`] to return, and drops informational and verbose lines.
//! With the environment variable `NESF_ONNXRUNTIME_LOG` set to a non-empty value when the
//! runtime is loaded, the kept messages are also written to stderr (for debugging a model).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use ort::logging::{LogLevel, LoggerFunction};

/// How many of ONNX Runtime's latest warnings and errors are kept.
pub const KEPT_MESSAGES: usize = 64;

/// The environment variable that also sends the kept messages to stderr.
pub const ECHO_VARIABLE: &str = "NESF_ONNXRUNTIME_LOG";

static MESSAGES: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// ONNX Runtime's latest warnings and errors in this process, oldest first, each as
/// `"<level> [<category>] <location>: <message>"`.
pub fn messages() -> Vec<String> {
    lock().iter().cloned().collect()
}

fn lock() -> std::sync::MutexGuard<'static, VecDeque<String>> {
    MESSAGES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records one message from ONNX Runtime; `echo` also writes it to stderr.
fn record(level: LogLevel, category: &str, location: &str, message: &str, echo: bool) {
    let level = match level {
        LogLevel::Verbose | LogLevel::Info => return,
        LogLevel::Warning => "warning",
        LogLevel::Error => "error",
        LogLevel::Fatal => "fatal",
    };
    let line = format!("{level} [{category}] {location}: {message}");
    if echo {
        eprintln!("onnxruntime: {line}");
    }
    let mut kept = lock();
    if kept.len() == KEPT_MESSAGES {
        kept.pop_front();
    }
    kept.push_back(line);
}

/// The logger handed to ONNX Runtime's environment.
pub(crate) fn logger() -> LoggerFunction {
    let echo = std::env::var_os(ECHO_VARIABLE).is_some_and(|v| !v.is_empty());
    Arc::new(
        move |level: LogLevel, category: &str, _id: &str, location: &str, message: &str| {
            record(level, category, location, message, echo)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_warnings_and_drops_information() {
        record(LogLevel::Info, "c", "here", "informational", false);
        record(LogLevel::Verbose, "c", "here", "verbose", false);
        for k in 0..KEPT_MESSAGES + 3 {
            record(
                LogLevel::Warning,
                "unit",
                "f.cc:1",
                &format!("test {k}"),
                false,
            );
        }
        let kept = messages();
        assert!(kept.len() <= KEPT_MESSAGES);
        assert!(!kept
            .iter()
            .any(|m| m.contains("informational") || m.contains("verbose")));
        let last = format!("warning [unit] f.cc:1: test {}", KEPT_MESSAGES + 2);
        assert!(kept.contains(&last), "{kept:?}");
        assert!(!kept.iter().any(|m| m.ends_with(": test 0")), "{kept:?}");
    }
}
