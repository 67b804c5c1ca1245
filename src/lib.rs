//! ccy: persistent, resumable Podman Quadlet sessions for AI coding agents.
//!
//! The binary (`src/main.rs`) is a thin shell over this library; the library
//! is split so that the integration suite can render units with the same code
//! the binary uses.

pub mod render;
