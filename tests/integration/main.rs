//! ccy's integration suite: real systemd user manager, logind, D-Bus,
//! Podman and tmux, inside the project's sandbox. Run it with `tests/run`
//! (see docs/development.md); it is built only with `--features integration`.

mod fake_anthropic;
mod support;
#[path = "../support/unitparse.rs"]
mod unitparse;

mod agent;
mod agent_status;
mod behave;
mod clone;
mod concurrency;
mod errors;
mod faults;
mod idle;
mod image;
mod interrupts;
mod keep;
mod manpages;
mod notify;
mod partial;
mod private;
mod prune;
mod remote;
mod render_props;
mod secrets;
mod security;
mod session;
mod speed;
mod ui;
mod units;
mod verbs;
mod views;
