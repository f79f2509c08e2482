//! `alphapulse`: the server and its command-line tools (see the library for the layers).

use std::process::ExitCode;

/// Errors are one line a person reads (the context chain, `a: b: c`), whatever
/// `RUST_BACKTRACE` says; the logs keep the details.
fn main() -> ExitCode {
    match alphapulse::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
