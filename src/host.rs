//! The outside systems, one module each, and the only code that starts
//! processes: the user's systemd manager (D-Bus, Quadlet's generator, the
//! journal), Podman (its REST API and its CLI), tmux, git, ssh and the file
//! system. Above this layer, code talks in the named structs these modules
//! return, never in JSON, D-Bus variants or process output.

pub mod exec;
pub mod fs;
pub mod git;
pub mod notify;
pub mod podman;
pub mod signal;
pub mod ssh;
pub mod systemd;
pub mod tmux;
pub mod watch;
