//! ccy: persistent, resumable Podman Quadlet sessions for AI coding agents.
//!
//! The binary (`src/main.rs`) is a thin shell over this library: `cli`
//! parses, `cmd` holds one module per verb, `lifecycle` the session
//! operations they share. Below them, one module per outside system —
//! `systemd` (D-Bus), `podman` (REST API and processes), `git` — and the
//! pure parts: `names`, `config`, `render`.

pub mod archive;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod ctx;
pub mod error;
pub mod fsutil;
pub mod generator;
pub mod git;
pub mod image;
pub mod inventory;
pub mod keep;
pub mod lifecycle;
pub mod names;
pub mod paths;
pub mod podman;
pub mod render;
pub mod runopts;
pub mod safety;
pub mod session;
pub mod systemd;
pub mod tmux;
pub mod token;
pub mod trace;
pub mod ui;
