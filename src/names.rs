//! Names of projects and sessions.
//!
//! A session name is at once a Podman container name, the base name of its
//! Quadlet files (`NAME.container`, `NAME.volume`) and so of its systemd units
//! (`NAME.service`, `NAME-volume.service`, podman-systemd.unit(5) "Volume
//! units"). It must be valid for all of them, so ccy accepts the intersection
//! of Podman's container-name pattern `[a-zA-Z0-9][a-zA-Z0-9_.-]*`
//! (libpod `define.NameRegex`) and systemd's unit-name characters
//! (systemd.unit(5) "Description"), minus `.` (which would make the unit
//! name ambiguous with its suffix) and minus `@` (template instances).

use std::fmt;
use std::io::Read;

use crate::error::{Error, Result};

/// The longest session name accepted, in characters. Unit names may be 255
/// bytes; 63 keeps names readable and leaves room for suffixes.
pub const MAX_SESSION_NAME: usize = 63;

/// The longest project part of an automatic session name, in characters.
pub const MAX_PROJECT_NAME: usize = 40;

/// The suffix Quadlet gives the service of `NAME.volume`; a session may not
/// end with it or its container unit could clash with another session's
/// volume unit.
const VOLUME_UNIT_SUFFIX: &str = "-volume";

/// Names a new session may not take: the units ccy runs itself
/// (`ccy-prune.service` and `.timer` of `ccy timer`) and the names kept
/// for units it may run later (an idle checker, notifications, tasks, a
/// user interface). A session `NAME` makes the units `NAME.service` and
/// `NAME-volume.service`, so a session named after one of these would
/// clash with ccy's own unit of that name. The one list of them:
/// everything that checks or uses such a name reads it from here.
pub const RESERVED_SESSION_NAMES: [&str; 9] = [
    "ccy",
    "ccy-prune",
    "ccy-idle",
    "ccy-notify",
    "ccy-task",
    "ccy-ui",
    "ccy-timer",
    "ccy-daemon",
    "ccy-agent",
];

/// A validated session name; see the module docs for the rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SessionName(String);

impl SessionName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] naming the rule that `name` breaks.
    pub fn parse(name: &str) -> Result<Self> {
        let invalid = |why: &str| {
            Error::usage(format!("invalid session name {name:?}: {why}")).hint(format!(
                "use 1 to {MAX_SESSION_NAME} letters, digits, '-' or '_', starting with a letter or digit"
            ))
        };
        let first = name.chars().next().ok_or_else(|| invalid("it is empty"))?;
        if !first.is_ascii_alphanumeric() {
            return Err(invalid("it must start with a letter or digit"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(&format!("{bad:?} is not allowed")));
        }
        if name.len() > MAX_SESSION_NAME {
            return Err(invalid(&format!(
                "it is {} characters long (at most {MAX_SESSION_NAME})",
                name.len()
            )));
        }
        if name.ends_with(VOLUME_UNIT_SUFFIX) {
            return Err(invalid(
                "names ending in '-volume' are reserved for volume units",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// Validates `name` as the name of a session about to be created: as
    /// [`SessionName::parse`], and not one of [`RESERVED_SESSION_NAMES`]
    /// (compared without regard to case, as a user might type it).
    /// Existing sessions are still found by [`SessionName::parse`] alone.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] naming the rule that `name` breaks.
    pub fn parse_new(name: &str) -> Result<Self> {
        let parsed = Self::parse(name)?;
        if let Some(unit) = RESERVED_SESSION_NAMES
            .iter()
            .find(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(Error::usage(format!(
                "invalid session name {name:?}: it is reserved for ccy's own unit {unit}.service"
            ))
            .detail(format!(
                "reserved names: {}",
                RESERVED_SESSION_NAMES.join(", ")
            ))
            .hint(format!(
                "choose another name, e.g. '{name}-1', or leave the name out for an automatic one"
            )));
        }
        Ok(parsed)
    }

    /// An automatic name `ccy-<project>-<8 hex>` with a random id.
    ///
    /// # Errors
    /// When the kernel's random source cannot be read.
    pub fn generate(project: &ProjectName) -> Result<Self> {
        let mut id = [0u8; 4];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut id))
            .map_err(|e| Error::failure("cannot read /dev/urandom").with_source(e))?;
        Ok(Self::automatic(project, id))
    }

    /// The automatic name for `project` and a given 4-byte id (lowercase hex).
    #[must_use]
    pub fn automatic(project: &ProjectName, id: [u8; 4]) -> Self {
        let hex = u32::from_be_bytes(id);
        Self(format!("ccy-{}-{hex:08x}", project.0))
    }

    /// The name as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The container unit, `NAME.service`.
    #[must_use]
    pub fn service_unit(&self) -> String {
        format!("{}.service", self.0)
    }

    /// The Quadlet container file name, `NAME.container`.
    #[must_use]
    pub fn container_file(&self) -> String {
        format!("{}.container", self.0)
    }

    /// The Quadlet volume file name, `NAME.volume`.
    #[must_use]
    pub fn volume_file(&self) -> String {
        format!("{}.volume", self.0)
    }

    /// The unit Quadlet generates from `NAME.volume`: `NAME-volume.service`.
    #[must_use]
    pub fn volume_unit(&self) -> String {
        format!("{}{VOLUME_UNIT_SUFFIX}.service", self.0)
    }

    /// The image holding the session's kept layer, which its unit runs
    /// once it exists (see `crate::session::keep`):
    /// `localhost/ccy-kept:NAME` ([`crate::contract::KEPT_IMAGE_REPO`]).
    #[must_use]
    pub fn kept_image(&self) -> String {
        format!("{}:{}", crate::contract::KEPT_IMAGE_REPO, self.0)
    }

    /// The Podman volume holding the agent's state, `NAME-state`.
    #[must_use]
    pub fn state_volume(&self) -> String {
        format!("{}-state", self.0)
    }
}

impl fmt::Display for SessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project name: the main worktree's directory name, lowercased and
/// cleaned to `[a-z0-9]+(-[a-z0-9]+)*`, at most [`MAX_PROJECT_NAME`] chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ProjectName(String);

impl ProjectName {
    /// Cleans a directory name into a project name: ASCII letters are
    /// lowercased, every run of other characters becomes one `-`, leading and
    /// trailing `-` are dropped; an empty result becomes `project`.
    #[must_use]
    pub fn from_dir_name(dir: &str) -> Self {
        let mut out = String::with_capacity(dir.len());
        for c in dir.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut cleaned = out.trim_matches('-').to_owned();
        if cleaned.len() > MAX_PROJECT_NAME {
            cleaned.truncate(MAX_PROJECT_NAME);
            cleaned = cleaned.trim_end_matches('-').to_owned();
        }
        if cleaned.is_empty() {
            cleaned.push_str("project");
        }
        Self(cleaned)
    }

    /// The name as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_cleaned() {
        let cases = [
            ("MyRepo", "myrepo"),
            ("my_repo.rs", "my-repo-rs"),
            ("--weird  name--", "weird-name"),
            ("Ünïcode repo", "n-code-repo"),
            ("...", "project"),
            ("", "project"),
            ("a%b\nc'd\"e\\f", "a-b-c-d-e-f"),
        ];
        for (dir, want) in cases {
            assert_eq!(ProjectName::from_dir_name(dir).as_str(), want, "{dir:?}");
        }
    }

    #[test]
    fn long_project_names_are_truncated_without_trailing_dash() {
        let p = ProjectName::from_dir_name(&format!("{}-x", "a".repeat(39)));
        assert_eq!(p.as_str(), "a".repeat(39));
        assert!(p.as_str().len() <= MAX_PROJECT_NAME);
    }

    #[test]
    fn automatic_names_are_valid_session_names() {
        let p = ProjectName::from_dir_name(&"Z".repeat(200));
        let n = SessionName::automatic(&p, [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(n.as_str(), format!("ccy-{}-deadbeef", "z".repeat(40)));
        assert_eq!(SessionName::parse(n.as_str()).ok(), Some(n.clone()));
    }

    #[test]
    fn generated_names_differ() {
        let p = ProjectName::from_dir_name("x");
        let a = SessionName::generate(&p).ok();
        let b = SessionName::generate(&p).ok();
        assert!(a.is_some() && a != b);
    }

    #[test]
    fn session_names_are_validated() {
        for ok in ["a", "A1", "my-session_2", &"x".repeat(MAX_SESSION_NAME)] {
            assert!(SessionName::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "-lead",
            "_lead",
            "has space",
            "dot.ted",
            "tmpl@inst",
            "per%cent",
            "new\nline",
            "quo\"te",
            "back\\slash",
            "ünï",
            "x-volume",
            &"x".repeat(MAX_SESSION_NAME + 1),
        ] {
            let err = SessionName::parse(bad).expect_err(bad);
            assert!(err.message().contains("invalid session name"), "{bad:?}");
            assert!(!err.hints().is_empty());
        }
    }

    #[test]
    fn reserved_names_are_refused_for_new_sessions() {
        for r in RESERVED_SESSION_NAMES {
            assert!(SessionName::parse(r).is_ok(), "{r} is a valid name");
            let err = SessionName::parse_new(r).expect_err(r);
            assert!(err.message().contains("reserved"), "{r}");
            assert!(!err.hints().is_empty());
        }
        assert!(SessionName::parse_new("CCY-Prune").is_err());
        assert!(SessionName::parse_new("ccy-prune-1").is_ok());
        // The prune timer's service (src/cmd/timer.rs) is in the list.
        assert!(RESERVED_SESSION_NAMES.contains(&"ccy-prune"));
    }

    #[test]
    fn unit_and_file_names() {
        let n = SessionName::automatic(&ProjectName::from_dir_name("app"), [1, 0x23, 0xab, 0xcd]);
        assert_eq!(n.as_str(), "ccy-app-0123abcd");
        assert_eq!(n.service_unit(), "ccy-app-0123abcd.service");
        assert_eq!(n.container_file(), "ccy-app-0123abcd.container");
        assert_eq!(n.volume_file(), "ccy-app-0123abcd.volume");
        assert_eq!(n.volume_unit(), "ccy-app-0123abcd-volume.service");
        assert_eq!(n.state_volume(), "ccy-app-0123abcd-state");
    }
}
