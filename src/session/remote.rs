//! Other workstations: resolving a host name (`[hosts]`, or an ssh
//! destination), the remote command line, the version check, and asking
//! many hosts at once (`ccy list --all-hosts`). ccy runs there itself,
//! over the user's `ssh` (`crate::host::ssh`); there is no daemon.

use std::path::Path;
use std::time::Duration;

use crate::config::HostsConfig;
use crate::error::{Error, ExitKind, Result};
use crate::host::ssh::{self, Answer, SshTarget};

/// The oldest ccy this one works with on another host: the first with
/// `list --json --with-version` (what `list --all-hosts` asks).
pub const MIN_VERSION: (u64, u64, u64) = (0, 1, 0);

/// The name `list --all-hosts` gives this machine (a configured host may
/// not take it).
pub const LOCAL: &str = "local";

/// One host ccy can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHost {
    /// The name the user gave (`--host NAME`, `NAME:SESSION`, a key of
    /// `[hosts]`).
    pub name: String,
    /// How ssh reaches it.
    pub target: SshTarget,
    /// The ccy command there, inserted into the remote command line as
    /// written (the user's own configuration).
    pub ccy: String,
}

/// Checks a host name: 1 to 253 letters, digits, `.`, `_`, `-` or `@`,
/// starting with a letter or digit (so never an ssh option), not `local`.
///
/// # Errors
/// [`ExitKind::Usage`] naming the rule it breaks.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::usage(format!("invalid host name {name:?}: {why}")).hint(
            "use a name of [hosts] or an ssh destination: letters, digits, '.', '_', '-', '@'",
        )
    };
    let first = name.chars().next().ok_or_else(|| bad("it is empty"))?;
    if !first.is_ascii_alphanumeric() {
        return Err(bad("it must start with a letter or digit"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(bad(&format!("{c:?} is not allowed")));
    }
    if name.len() > 253 {
        return Err(bad("it is longer than 253 characters"));
    }
    if name == LOCAL {
        return Err(bad("'local' is this machine in 'ccy list --all-hosts'"));
    }
    Ok(())
}

/// The host called `name`: its `[hosts.NAME]` entry, or else `name` as an
/// ssh destination with no extra options. `control_dir`: where ccy keeps
/// the control sockets of shared ssh connections (`Paths::lock_dir`, ccy's
/// runtime directory; see [`ssh::control_path`]).
///
/// # Errors
/// [`ExitKind::Usage`] for an invalid name (see [`check_name`]).
pub fn resolve(hosts: &HostsConfig, name: &str, control_dir: &Path) -> Result<RemoteHost> {
    check_name(name)?;
    let (dest, options, ccy) = match hosts.named.get(name) {
        Some(e) => (
            if e.ssh.is_empty() {
                name.to_owned()
            } else {
                e.ssh.clone()
            },
            e.options.clone(),
            e.ccy.clone(),
        ),
        None => (name.to_owned(), Vec::new(), "ccy".to_owned()),
    };
    Ok(RemoteHost {
        name: name.to_owned(),
        target: SshTarget {
            control: ssh::control_path(control_dir, &dest, &options),
            dest,
            options,
        },
        ccy,
    })
}

/// Every configured host, in name order (`control_dir` as for
/// [`resolve`]).
///
/// # Errors
/// [`ExitKind::Usage`] when a configured name is invalid.
pub fn configured(hosts: &HostsConfig, control_dir: &Path) -> Result<Vec<RemoteHost>> {
    hosts
        .named
        .keys()
        .map(|n| resolve(hosts, n, control_dir))
        .collect()
}

/// `hosts.timeout` as a duration (at least 0.1 s).
#[must_use]
pub fn timeout(hosts: &HostsConfig) -> Duration {
    Duration::from_secs_f64(if hosts.timeout.is_finite() {
        hosts.timeout.max(0.1)
    } else {
        3.0
    })
}

/// The shell command line that runs `ccy ARGS` on `host`: its ccy command
/// as configured, then every argument quoted for a POSIX shell (ssh hands
/// the remote shell one string).
#[must_use]
pub fn command_line(host: &RemoteHost, args: &[String]) -> String {
    let mut line = host.ccy.clone();
    for a in args {
        line.push(' ');
        line.push_str(&shell_words::quote(a));
    }
    line
}

/// Splits `HOST:NAME` into its host and session name; `None` for a name
/// without `:` (session names never contain one).
#[must_use]
pub fn split_address(name: &str) -> Option<(&str, &str)> {
    name.split_once(':')
}

/// Parses `major.minor.patch` (ignoring anything after a `-` or `+`).
#[must_use]
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().split(['-', '+']).next()?;
    let mut it = core.split('.').map(str::parse::<u64>);
    let v = (it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?);
    it.next().is_none().then_some(v)
}

fn version_text((a, b, c): (u64, u64, u64)) -> String {
    format!("{a}.{b}.{c}")
}

/// Why a host gave no usable answer: one line for the user.
fn reason(host: &RemoteHost, answer: &Answer, timeout: Duration) -> String {
    match answer {
        Answer::TimedOut => format!("no answer within {} s", timeout.as_secs_f64()),
        Answer::NoSsh(e) => format!("cannot run ssh: {e}"),
        Answer::Exited { status, stderr, .. } => {
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            match status {
                Some(255) => format!("ssh failed: {last}"),
                Some(127) => format!("ccy is not installed there ('{}' not found)", host.ccy),
                Some(2)
                    if last.contains("unexpected argument")
                        || last.contains("unrecognized subcommand")
                        || stderr.contains("unexpected argument") =>
                {
                    format!(
                        "ccy there is too old (needs {} or later)",
                        version_text(MIN_VERSION)
                    )
                }
                Some(code) => format!("ccy there failed (exit {code}): {last}"),
                None => format!("ssh was killed by a signal: {last}"),
            }
        }
    }
}

/// The error for `host` not answering as it should, with `why`.
#[must_use]
pub fn unreachable(host: &RemoteHost, why: &str) -> Error {
    Error::new(
        ExitKind::Remote,
        format!("host {} ({}): {why}", host.name, host.target.dest),
    )
    .hint(format!(
        "check 'ssh {} {} --version' by hand; [hosts] in ~/.config/ccy/config.toml sets how ccy reaches it",
        host.target.dest, host.ccy
    ))
}

/// Checks that `host` answers and runs a ccy of at least [`MIN_VERSION`]
/// (`ccy --version` there), within `timeout`. Returns its version.
///
/// # Errors
/// [`ExitKind::Remote`]: the host does not answer, refuses the login, or
/// has no ccy or one too old, with the reason.
pub async fn check(host: &RemoteHost, timeout: Duration) -> Result<(u64, u64, u64)> {
    let answer = ssh::capture(
        &host.target,
        &command_line(host, &["--version".to_owned()]),
        timeout,
    )
    .await;
    if let Answer::Exited {
        status: Some(0),
        stdout,
        ..
    } = &answer
    {
        let version = stdout
            .split_whitespace()
            .nth(1)
            .and_then(parse_version)
            .ok_or_else(|| {
                unreachable(
                    host,
                    &format!("unexpected answer to 'ccy --version': {:?}", stdout.trim()),
                )
            })?;
        if version < MIN_VERSION {
            return Err(unreachable(
                host,
                &format!(
                    "ccy there is too old ({} < {})",
                    version_text(version),
                    version_text(MIN_VERSION)
                ),
            ));
        }
        return Ok(version);
    }
    Err(unreachable(host, &reason(host, &answer, timeout)))
}

/// What one host answered to `ccy list --json --with-version`.
#[derive(Debug, Clone)]
pub struct HostSessions {
    /// The host's name.
    pub host: String,
    /// Its ccy's version and its sessions (the objects of `ccy list
    /// --json`, as it sent them), or why there are none.
    pub answer:
        std::result::Result<(String, Vec<serde_json::Map<String, serde_json::Value>>), String>,
}

/// The answer `ccy list --json --with-version` prints.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Listing {
    /// The ccy version that answered.
    pub version: String,
    /// `ccy list --json`'s objects.
    pub sessions: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Asks `host` for its sessions (`ccy list --json --with-version`),
/// within `timeout`.
pub async fn sessions(host: &RemoteHost, timeout: Duration) -> HostSessions {
    let args = ["list", "--json", "--with-version"].map(str::to_owned);
    let answer = ssh::capture(&host.target, &command_line(host, &args), timeout).await;
    let result = match &answer {
        Answer::Exited {
            status: Some(0),
            stdout,
            ..
        } => match serde_json::from_str::<Listing>(stdout) {
            Ok(l) => match parse_version(&l.version) {
                Some(v) if v >= MIN_VERSION => Ok((l.version, l.sessions)),
                _ => Err(format!(
                    "ccy there is too old ({} < {})",
                    l.version,
                    version_text(MIN_VERSION)
                )),
            },
            Err(e) => Err(format!("unexpected answer from ccy there: {e}")),
        },
        _ => Err(reason(host, &answer, timeout)),
    };
    HostSessions {
        host: host.name.clone(),
        answer: result,
    }
}

/// Asks every host in `hosts` for its sessions at once; the answers in
/// the order of `hosts`.
pub async fn all_sessions(hosts: &[RemoteHost], timeout: Duration) -> Vec<HostSessions> {
    futures_util::future::join_all(hosts.iter().map(|h| sessions(h, timeout))).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::HostEntry;

    const DIR_TEXT: &str = "/run/user/1000/ccy";

    fn hosts() -> HostsConfig {
        let mut named = std::collections::BTreeMap::new();
        named.insert(
            "lab1".to_owned(),
            HostEntry {
                ssh: "dev@10.0.0.1".into(),
                options: vec!["-p".into(), "2222".into()],
                ccy: "~/bin/ccy".into(),
            },
        );
        HostsConfig {
            timeout: 3.0,
            named,
        }
    }

    #[test]
    fn resolves_configured_and_plain_hosts() {
        let h = resolve(&hosts(), "lab1", Path::new(DIR_TEXT)).unwrap();
        assert_eq!(h.target.dest, "dev@10.0.0.1");
        assert_eq!(h.ccy, "~/bin/ccy");
        assert!(h.target.control.as_ref().unwrap().starts_with(DIR_TEXT));
        let h = resolve(&hosts(), "me@box.example", Path::new(DIR_TEXT)).unwrap();
        assert_eq!(h.target.dest, "me@box.example");
        assert!(h.target.options.is_empty());
        for bad in ["", "-oProxyCommand=x", "a b", "a;b", "local", "a:b", "$(x)"] {
            assert_eq!(
                resolve(&hosts(), bad, Path::new(DIR_TEXT))
                    .unwrap_err()
                    .kind(),
                ExitKind::Usage,
                "{bad}"
            );
        }
    }

    #[test]
    fn command_line_quotes_every_argument() {
        let h = resolve(&hosts(), "lab1", Path::new(DIR_TEXT)).unwrap();
        let args = ["shell", "s", "--", "echo", "a b", "$HOME", "it's;rm -rf /"].map(String::from);
        let line = command_line(&h, &args);
        assert_eq!(
            line,
            r"~/bin/ccy shell s -- echo 'a b' '$HOME' 'it'\''s;rm -rf /'"
        );
        assert_eq!(
            shell_words::split(&line).unwrap()[1..],
            args.map(|a| a.clone())
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("0.1.0"), Some((0, 1, 0)));
        assert_eq!(parse_version("1.2.3-rc1\n"), Some((1, 2, 3)));
        assert_eq!(parse_version("1.2"), None);
        assert!(parse_version("0.0.9").unwrap() < MIN_VERSION);
        assert_eq!(
            parse_version(env!("CARGO_PKG_VERSION")).map(|v| v >= MIN_VERSION),
            Some(true)
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(split_address("lab1:reviewer"), Some(("lab1", "reviewer")));
        assert_eq!(split_address("reviewer"), None);
    }
}
