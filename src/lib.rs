//! ccy: persistent, resumable Podman Quadlet sessions for AI coding agents.
//!
//! The binary (`src/main.rs`) is a thin shell over this library. The
//! layers, each importing only the ones below it (README, "Architecture"):
//!
//! ```text
//! cmd        one file per verb: parse arguments, call the session layer, print
//!  │
//! session    the session operations: find, create, start, attach, stop,
//!  │         remove, reset; the store of ccy's files; images, tokens, archives
//!  ├──────────────┐
//! quadlet        host
//! pure: the      one module per outside system (systemd, podman, tmux, git,
//! session model, fs); the only code that starts processes
//! rendering
//!  │              │
//! contract, config, names, paths, ctx, ui, error, trace
//! ```

pub mod cmd;
pub mod config;
pub mod contract;
pub mod ctx;
pub mod error;
pub mod host;
pub mod names;
pub mod paths;
pub mod quadlet;
pub mod session;
pub mod trace;
pub mod ui;
