//! The pure layer: the session model ([`spec`], [`runopts`]), the unit
//! files rendered from it ([`render`], with systemd's quoting in
//! [`escape`]), the metadata line ccy keeps in each unit file ([`meta`]),
//! the keep label ([`keep`]) and the reading of `quadlet -dryrun` output
//! ([`dryrun`]). No I/O, no clock, no environment: everything comes in as
//! arguments, so every function here is tested without a system.

pub mod dryrun;
pub mod escape;
pub mod keep;
pub mod meta;
pub mod render;
pub mod runopts;
pub mod spec;
