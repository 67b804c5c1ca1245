//! The signals that ask ccy to stop — SIGINT (Ctrl-C), SIGTERM, SIGHUP —
//! while it makes a session, which must be finished or taken back, never
//! left halfway (unit files the user manager has not loaded, a state
//! directory of no session).
//!
//! [`catch`] replaces their default action (ending the process) with a
//! note of which one arrived, for the rest of the run; the code that makes
//! a session asks [`caught`] between its steps and takes back what it made
//! when one did, and the verb says so (exit status 130,
//! [`crate::error::ExitKind::Interrupted`]). Child processes start with
//! the default actions again (a handler does not survive `exec`), so a
//! Ctrl-C at the terminal still ends a running `podman build`, whose
//! failure is then taken back like any other.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::error::{Error, Result};

/// The number of the last stop signal that arrived, 0 for none.
static CAUGHT: AtomicUsize = AtomicUsize::new(0);

/// Whether [`catch`] installed the handlers (they stay for the run).
static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// From now on, SIGINT, SIGTERM and SIGHUP only note that they arrived
/// ([`caught`]) instead of ending ccy. Call it before changing anything
/// that must not be left halfway; calling it again does nothing.
///
/// # Errors
/// When a handler cannot be installed.
pub fn catch() -> Result<()> {
    INSTALLED
        .get_or_init(|| {
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                #[expect(clippy::cast_sign_loss, reason = "signal numbers are positive")]
                signal_hook::flag::register_usize(sig, &CAUGHT, sig as usize)
                    .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
            }
            Ok(())
        })
        .clone()
        .map_err(Error::failure)
}

/// The stop signal that arrived since [`catch`] (the last one, when
/// several did), by name: `SIGINT`, `SIGTERM` or `SIGHUP`.
#[must_use]
pub fn caught() -> Option<&'static str> {
    match i32::try_from(CAUGHT.load(Ordering::SeqCst)).unwrap_or(-1) {
        0 => None,
        SIGINT => Some("SIGINT"),
        SIGTERM => Some("SIGTERM"),
        SIGHUP => Some("SIGHUP"),
        _ => Some("a signal"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_caught_signal_is_noted_not_fatal() {
        catch().unwrap();
        catch().unwrap();
        assert_eq!(caught(), None);
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGHUP).unwrap();
        assert_eq!(caught(), Some("SIGHUP"));
        CAUGHT.store(0, Ordering::SeqCst);
    }
}
