//! The unit tests of the test-support parser `tests/support/unitparse.rs`
//! (systemd's unit-file and command-line rules), run on the host by
//! `cargo test`; the integration suite uses the same module.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/unitparse.rs"]
#[allow(dead_code, unreachable_pub)]
mod unitparse;
