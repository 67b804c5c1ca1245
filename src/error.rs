//! User-facing errors: what failed, why, and what to do next.
//!
//! Every error that reaches the user is an [`Error`]: a message, an optional
//! chain of causes, zero or more hint lines, and an [`ExitKind`] that decides
//! the process exit status. `main` is the one place that prints them.

use std::fmt;
use std::process::ExitCode;

/// What kind of failure this is; decides the exit status.
///
/// The exit codes are part of ccy's interface and documented in `ccy(1)` and
/// `docs/commands.md` ("Exit status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Something went wrong that is not the user's input: exit 1.
    Failure,
    /// Bad command-line usage or configuration: exit 2.
    Usage,
    /// The environment is not fit for ccy (Podman too old, no user bus,
    /// no git worktree): exit 3.
    Environment,
    /// A session or unit failed (start job failed, image build failed): exit 4.
    Session,
    /// Nothing matched (no such session): exit 5.
    NotFound,
    /// The user declined a prompt, or a refusal that `--force` overrides: exit 6.
    Refused,
    /// A remote host (`--host`, `HOST:NAME`, `list --all-hosts`) did not
    /// answer over SSH within `hosts.timeout`, refused the login, or has
    /// no ccy or one too old; `list --all-hosts` still lists the hosts
    /// that answered: exit 7.
    Remote,
    /// SIGINT, SIGTERM or SIGHUP arrived while ccy made a session; it
    /// finished or took back what it was doing and said which: exit 130
    /// (128 + SIGINT, as a shell reports a process SIGINT ended).
    Interrupted,
}

impl ExitKind {
    /// Every kind, in the order of their exit codes.
    pub const ALL: [Self; 8] = [
        Self::Failure,
        Self::Usage,
        Self::Environment,
        Self::Session,
        Self::NotFound,
        Self::Refused,
        Self::Remote,
        Self::Interrupted,
    ];

    /// What the exit status means, in one line: the text of `ccy(1)` EXIT
    /// STATUS and of the "Exit status" table in `docs/commands.md` (a test
    /// keeps the three the same).
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Failure => "failure not caused by input (I/O, D-Bus, API)",
            Self::Usage => {
                "bad usage or configuration (including a name or path that cannot be written into a unit file)"
            }
            Self::Environment => {
                "the environment is not fit: not in a git worktree, no user bus, Podman missing or older than 5.0, a token directory others can read, a limit the cgroup cannot apply"
            }
            Self::Session => {
                "a session failed: image build failed, unit failed to start (its journal's last lines are shown)"
            }
            Self::NotFound => "no such session, token or network",
            Self::Refused => {
                "refused (declined prompt, a refusal `--force` overrides, `session.max_running` reached)"
            }
            Self::Remote => {
                "a remote host did not answer over SSH within hosts.timeout, refused the login, or has no ccy or one too old (`list --all-hosts` still lists the others)"
            }
            Self::Interrupted => {
                "interrupted (SIGINT, SIGTERM or SIGHUP) while making a session: ccy took it back, or finished it, and said which"
            }
        }
    }

    /// The process exit status for this kind (0 is success and not a kind).
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Failure => 1,
            Self::Usage => 2,
            Self::Environment => 3,
            Self::Session => 4,
            Self::NotFound => 5,
            Self::Refused => 6,
            Self::Remote => 7,
            Self::Interrupted => 130,
        }
    }
}

/// An error for the user: message, causes, hints and an exit kind.
#[derive(Debug)]
pub struct Error {
    kind: ExitKind,
    message: String,
    source: Option<anyhow::Error>,
    hints: Vec<String>,
    details: Vec<String>,
}

/// `Result` with ccy's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The end of a verb that acted on several sessions and printed each
/// failure as it came: `Ok(())` when `failed` (session names) is empty.
///
/// # Errors
/// An [`ExitKind::Session`] error whose message is `message` given the
/// failed names joined by `, `, when there are any.
pub fn session_failures(failed: &[String], message: impl FnOnce(&str) -> String) -> Result<()> {
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(ExitKind::Session, message(&failed.join(", "))))
    }
}

impl Error {
    /// A new error of `kind` with a one-line `message`.
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
            hints: Vec::new(),
            details: Vec::new(),
        }
    }

    /// Shorthand for [`ExitKind::Failure`].
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Failure, message)
    }

    /// Shorthand for [`ExitKind::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Usage, message)
    }

    /// Shorthand for [`ExitKind::Environment`].
    pub fn environment(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Environment, message)
    }

    /// Adds a hint line ("what to do next"); printed as `hint: …`.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Adds a detail line printed indented under the message (for example
    /// the last journal lines of a failed unit).
    #[must_use]
    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    /// Attaches the underlying cause; printed as `caused by: …`.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The exit kind.
    #[must_use]
    pub fn kind(&self) -> ExitKind {
        self.kind
    }

    /// The one-line message, without causes or hints.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint lines.
    #[must_use]
    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// The exit code for `main`.
    #[must_use]
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }
}

impl fmt::Display for Error {
    /// Renders the full report: `message`, detail lines, `caused by:` chain
    /// and `hint:` lines, one per line, without a trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for line in &self.details {
            write!(f, "\n    {line}")?;
        }
        if let Some(source) = &self.source {
            for cause in source.chain() {
                write!(f, "\ncaused by: {cause}")?;
            }
        }
        for hint in &self.hints {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Adds context to foreign errors, turning them into a ccy [`Error`].
pub trait Context<T> {
    /// Wraps the error as an [`ExitKind::Failure`] with `message`.
    ///
    /// # Errors
    /// Returns the wrapped error when `self` is an error.
    fn context(self, message: impl Into<String>) -> Result<T>;

    /// Like [`Context::context`] but the message is computed lazily.
    ///
    /// # Errors
    /// Returns the wrapped error when `self` is an error.
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::failure(message).with_source(e))
    }

    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T> {
        self.map_err(|e| Error::failure(message()).with_source(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_in_code_order() {
        let codes: Vec<u8> = ExitKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 130]);
    }

    #[test]
    fn report_has_details_causes_and_hints_in_order() {
        let err = Error::new(ExitKind::Session, "unit ccy-x.service failed to start")
            .detail("journal line 1")
            .with_source(std::io::Error::other("boom"))
            .hint("run 'ccy logs ccy-x'");
        assert_eq!(
            err.to_string(),
            "unit ccy-x.service failed to start\n    journal line 1\ncaused by: boom\nhint: run 'ccy logs ccy-x'"
        );
        assert_eq!(err.kind().code(), 4);
    }

    #[test]
    fn exit_codes_are_distinct() {
        let kinds = [
            ExitKind::Failure,
            ExitKind::Usage,
            ExitKind::Environment,
            ExitKind::Session,
            ExitKind::NotFound,
            ExitKind::Refused,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert!(!codes.contains(&0));
    }
}
