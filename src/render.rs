//! Pure rendering of Quadlet and systemd unit files.

pub mod escape;
pub mod unitparse;
