//! How a session's container runs, beyond the image and the agent: extra
//! bind mounts, environment, resource limits, network and SSH keys, as
//! plain values for [`crate::quadlet::spec::SessionSpec`], and the pure
//! parsers of their configuration text. The checks that need the file
//! system and the environment are [`crate::session::options::resolve`].

use std::path::{Component, Path, PathBuf};

use crate::contract::TOKEN_VAR;
use crate::error::{Error, Result};

/// Podman refuses memory limits below 6 MiB (`podman run --memory`).
const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// A memory limit: the text given to `podman run --memory` and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Canonical text (`8g`, `1.5g`, `512m`, `100000000`).
    pub text: String,
    /// The limit in bytes (what `podman inspect` shows as
    /// `HostConfig.Memory`).
    pub bytes: u64,
}

/// Resource limits; `None` is no limit (Podman's default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--memory`.
    pub memory: Option<Memory>,
    /// `--cpus`, in thousandths of a CPU (1500 = 1.5 CPUs).
    pub millicpus: Option<u64>,
    /// `--pids-limit` (Quadlet `PidsLimit=`).
    pub pids: Option<u32>,
}

impl Limits {
    /// Whether any limit is set.
    #[must_use]
    pub fn any(&self) -> bool {
        self.memory.is_some() || self.millicpus.is_some() || self.pids.is_some()
    }

    /// The `--cpus` value as text (`2`, `1.5`, `0.25`).
    #[must_use]
    pub fn cpus_text(&self) -> Option<String> {
        self.millicpus.map(|m| {
            let (whole, frac) = (m / 1000, m % 1000);
            if frac == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{frac:03}")
                    .trim_end_matches('0')
                    .to_owned()
            }
        })
    }
}

/// A bind mount from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// Absolute, normalised host path.
    pub source: PathBuf,
    /// Absolute, normalised container path.
    pub dest: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Everything `[session]` adds to a session's container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Podman network (`Network=`); `None` for Podman's default.
    pub network: Option<String>,
    /// Resource limits.
    pub limits: Limits,
    /// Extra bind mounts, in order.
    pub mounts: Vec<BindMount>,
    /// Environment variables, in order, each name once.
    pub env: Vec<(String, String)>,
    /// SSH keys: host file → read-only mount in [`crate::contract::SSH_KEY_DIR`].
    pub ssh_keys: Vec<BindMount>,
    /// The host's `~/.ssh/known_hosts`, mounted read-only at
    /// [`crate::contract::KNOWN_HOSTS`] when there are SSH keys.
    pub known_hosts: Option<PathBuf>,
}

/// Parses a memory size as `podman run --memory` takes it: a number
/// (decimals allowed) with an optional unit `b`, `k`, `m`, `g` or `t`
/// (powers of 1024; `kb`, `KiB` … are accepted too). Empty is no limit.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] for anything else or less than 6 MiB.
pub fn parse_memory(text: &str) -> Result<Option<Memory>> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| {
        Error::usage(format!("invalid memory limit {text:?}: {why}"))
            .hint("write a number with an optional unit b, k, m, g or t, e.g. \"8g\" or \"512m\"")
    };
    let lower = t.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let unit = unit.trim_start();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b').filter(|u| !u.is_empty()))
        .unwrap_or(unit);
    let (shift, suffix) = match unit {
        "" | "b" => (0, ""),
        "k" => (10, "k"),
        "m" => (20, "m"),
        "g" => (30, "g"),
        "t" => (40, "t"),
        _ => return Err(bad("unknown unit")),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || frac.contains('.') || (number.contains('.') && frac.is_empty()) {
        return Err(bad("not a number"));
    }
    if frac.len() > 3 {
        return Err(bad("at most 3 decimals"));
    }
    let scaled: u128 = format!("{whole}{frac:0<3}")
        .parse()
        .map_err(|_| bad("not a number"))?;
    let bytes = (scaled << shift) / 1000;
    let bytes = u64::try_from(bytes).map_err(|_| bad("too large"))?;
    if bytes < MIN_MEMORY {
        return Err(bad("Podman needs at least 6 MiB"));
    }
    let frac = frac.trim_end_matches('0');
    let number = if frac.is_empty() {
        whole.trim_start_matches('0').to_owned()
    } else {
        format!("{}.{frac}", whole.trim_start_matches('0'))
    };
    let number = if number.starts_with('.') || number.is_empty() {
        format!("0{number}")
    } else {
        number
    };
    Ok(Some(Memory {
        text: format!("{number}{suffix}"),
        bytes,
    }))
}

/// Parses a CPU limit (`podman run --cpus`): 0 is no limit; otherwise more
/// than 0, at most 4096, rounded to thousandths.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] for a negative, non-finite or too
/// small value.
pub fn parse_cpus(cpus: f64) -> Result<Option<u64>> {
    if cpus == 0.0 {
        return Ok(None);
    }
    if !cpus.is_finite() || !(0.0..=4096.0).contains(&cpus) {
        return Err(Error::usage(format!(
            "invalid CPU limit {cpus}: it must be between 0.001 and 4096 (0: no limit)"
        )));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked above"
    )]
    let milli = (cpus * 1000.0).round() as u64;
    if milli == 0 {
        return Err(Error::usage(format!(
            "invalid CPU limit {cpus}: the smallest is 0.001"
        )));
    }
    Ok(Some(milli))
}

/// `~` or `~/…` → under `home`; anything else unchanged.
#[must_use]
pub fn expand_home(path: &str, home: &Path) -> PathBuf {
    if path == "~" {
        home.to_path_buf()
    } else if let Some(rest) = path.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(path)
    }
}

/// Whether `path` is absolute and normalised (no `.`, `..`, `//` or
/// trailing `/`), as Podman would leave it.
fn is_normal_absolute(path: &str) -> bool {
    path.starts_with('/')
        && (path == "/"
            || (!path.ends_with('/')
                && !path.contains("//")
                && Path::new(path)
                    .components()
                    .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))))
}

/// A mount as written: `HOST:CONTAINER[:ro|rw]`, the host path may hold
/// `:` (the container path is after the last one), `~` expanded. No file
/// system access.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] when the shape is wrong, the host path
/// is relative or the container path is not absolute and normalised.
pub fn parse_mount(spec: &str, home: &Path) -> Result<BindMount> {
    let bad = |why: &str| {
        Error::usage(format!("invalid mount {spec:?}: {why}"))
            .hint("write HOST:CONTAINER[:ro|rw], e.g. \"~/data:/data:ro\"")
    };
    let (rest, read_only) = match spec.rsplit_once(':') {
        Some((r, "ro")) => (r, true),
        Some((r, "rw")) => (r, false),
        _ => (spec, false),
    };
    let Some((host, dest)) = rest.rsplit_once(':') else {
        return Err(bad("no container path"));
    };
    if host.is_empty() || dest.is_empty() {
        return Err(bad("empty path"));
    }
    let source = expand_home(host, home);
    if !source.is_absolute() {
        return Err(bad("the host path must be absolute or start with ~/"));
    }
    if !is_normal_absolute(dest) {
        return Err(bad(
            "the container path must be absolute and normalised (no ., .. or trailing /)",
        ));
    }
    Ok(BindMount {
        source,
        dest: dest.to_owned(),
        read_only,
    })
}

/// One `session.env` entry: `NAME` or `NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvEntry {
    /// `NAME`: pass ccy's value at creation.
    Pass(String),
    /// `NAME=VALUE`.
    Set(String, String),
}

/// Parses one `session.env` entry.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] for a name that is not
/// `[A-Za-z_][A-Za-z0-9_]*`, and for names ccy sets itself (`CCY_*`,
/// `SSH_AUTH_SOCK`) or keeps out of unit files ([`TOKEN_VAR`]).
pub fn parse_env(entry: &str) -> Result<EnvEntry> {
    let (name, value) = match entry.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (entry, None),
    };
    let valid = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if name.is_empty() || !valid {
        return Err(Error::usage(format!(
            "invalid environment entry {entry:?}: the name must match [A-Za-z_][A-Za-z0-9_]*"
        ))
        .hint("write NAME (pass ccy's value) or NAME=VALUE"));
    }
    if name == TOKEN_VAR {
        return Err(Error::usage(format!(
            "{TOKEN_VAR} cannot be set through the environment: it would be written into the unit file"
        ))
        .hint("save the token as ~/.claude-tokens/ccy/tokens/NAME.YYYY-MM-DD.token (mode 0600); ccy passes it as a Podman secret")
        .hint("list tokens with 'ccy tokens'"));
    }
    if name.starts_with("CCY_") || name == "SSH_AUTH_SOCK" {
        return Err(Error::usage(format!(
            "environment variable {name} is set by ccy and cannot be configured"
        )));
    }
    Ok(match value {
        Some(v) => EnvEntry::Set(name.to_owned(), v.to_owned()),
        None => EnvEntry::Pass(name.to_owned()),
    })
}

/// The network setting as `Network=` takes it: empty is Podman's default.
#[must_use]
pub fn network(setting: &str) -> Option<String> {
    let s = setting.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mem(t: &str) -> (String, u64) {
        let m = parse_memory(t).unwrap().unwrap();
        (m.text, m.bytes)
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("").unwrap(), None);
        assert_eq!(mem("8g"), ("8g".into(), 8 << 30));
        assert_eq!(mem("8G"), ("8g".into(), 8 << 30));
        assert_eq!(mem("8GiB"), ("8g".into(), 8 << 30));
        assert_eq!(mem("512mb"), ("512m".into(), 512 << 20));
        assert_eq!(mem("1.5g"), ("1.5g".into(), 3 << 29));
        assert_eq!(mem("0.5g"), ("0.5g".into(), 1 << 29));
        assert_eq!(mem("100000000"), ("100000000".into(), 100_000_000));
        assert_eq!(mem("7340032b"), ("7340032".into(), 7_340_032));
        for bad in ["8x", "g", "1.2.3g", "1.g", "-1g", "1m", "1.2345g", "8 gigs"] {
            let err = parse_memory(bad).unwrap_err().to_string();
            assert!(
                err.contains("invalid memory limit") && err.contains("hint:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn cpus() {
        assert_eq!(parse_cpus(0.0).unwrap(), None);
        assert_eq!(parse_cpus(1.5).unwrap(), Some(1500));
        assert_eq!(parse_cpus(2.0).unwrap(), Some(2000));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 0.0001, 5000.0] {
            assert!(parse_cpus(bad).is_err(), "{bad}");
        }
        let text = |m| {
            Limits {
                millicpus: Some(m),
                ..Limits::default()
            }
            .cpus_text()
            .unwrap()
        };
        assert_eq!(text(2000), "2");
        assert_eq!(text(1500), "1.5");
        assert_eq!(text(250), "0.25");
        assert_eq!(text(1001), "1.001");
    }

    #[test]
    fn mounts() {
        let home = Path::new("/home/dev");
        let m = parse_mount("~/data:/data:ro", home).unwrap();
        assert_eq!(m.source, Path::new("/home/dev/data"));
        assert_eq!((m.dest.as_str(), m.read_only), ("/data", true));
        let m = parse_mount("/a:b, c/x:/mnt/x", home).unwrap();
        assert_eq!(m.source, Path::new("/a:b, c/x"));
        assert_eq!((m.dest.as_str(), m.read_only), ("/mnt/x", false));
        let m = parse_mount("/srv:/srv:rw", home).unwrap();
        assert!(!m.read_only);
        for bad in [
            "/only",
            "rel/path:/x",
            "/a:rel",
            "/a:/x/",
            "/a:/x/../y",
            ":/x",
            "/a:",
        ] {
            let err = parse_mount(bad, home).unwrap_err().to_string();
            assert!(
                err.contains("invalid mount") && err.contains("hint:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn env_entries() {
        assert_eq!(parse_env("FOO").unwrap(), EnvEntry::Pass("FOO".into()));
        assert_eq!(
            parse_env("A_1=x=y").unwrap(),
            EnvEntry::Set("A_1".into(), "x=y".into())
        );
        assert_eq!(
            parse_env("EMPTY=").unwrap(),
            EnvEntry::Set("EMPTY".into(), String::new())
        );
        for bad in ["1A", "A-B=1", "=x", ""] {
            assert!(parse_env(bad).is_err(), "{bad}");
        }
        let err = parse_env("CLAUDE_CODE_OAUTH_TOKEN=sk")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Podman secret"), "{err}");
        assert!(parse_env("CCY_SESSION=x").is_err());
        assert!(parse_env("SSH_AUTH_SOCK").is_err());
    }
}
