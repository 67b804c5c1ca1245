//! Claude's OAuth token, as today's ccy keeps it: long-lived tokens
//! (`claude setup-token`) in `~/.claude-tokens/ccy/tokens/NAME.YYYY-MM-DD.token`
//! (the date is the estimated expiry), the directory private to the user.
//!
//! A session gets the newest token (or the one named by `--token` /
//! `agent.token`) as the Podman secret `ccy-token-NAME`, which the unit
//! maps to `CLAUDE_CODE_OAUTH_TOKEN` (`Secret=…,type=env`). The token is
//! never written into a unit file, a label, an argument or a log line, and
//! `podman inspect` does not show secret values. Without a token the
//! session starts anyway and Claude asks to log in.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Context, Error, ExitKind, Result};

/// Label on ccy's token secrets; its value is the token name.
pub const LABEL_TOKEN: &str = "ccy.token";

/// The token directory under `home`: `~/.claude-tokens/ccy/tokens`.
#[must_use]
pub fn token_dir(home: &Path) -> PathBuf {
    home.join(".claude-tokens/ccy/tokens")
}

/// The Podman secret holding token `name`: `ccy-token-NAME`.
#[must_use]
pub fn secret_name(name: &str) -> String {
    format!("ccy-token-{name}")
}

/// Whether `name` is a token name today's ccy would create: ASCII letters,
/// digits, `-` and `_`.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One token file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFile {
    /// The token name (`work` in `work.2026-12-01.token`).
    pub name: String,
    /// The estimated expiry date from the file name, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// The file.
    pub path: PathBuf,
    /// Its modification time (orders tokens with the same date).
    pub modified: SystemTime,
    /// Whether the file is the user's and readable by no one else (mode
    /// `0600` or narrower): only such a token is used, and so only such a
    /// one is the default ([`select`], `ccy tokens`).
    pub private: bool,
}

impl TokenFile {
    /// Whether the file name's date is before `today` (`YYYY-MM-DD`).
    #[must_use]
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|d| d < today)
    }
}

/// Splits a token file name into the name and the date:
/// `NAME.YYYY-MM-DD.token` or `NAME.token`. `None` for other files and for
/// names [`valid_name`] refuses.
#[must_use]
pub fn parse_file_name(file: &str) -> Option<(String, Option<String>)> {
    let stem = file.strip_suffix(".token")?;
    let (name, date) = match stem.rsplit_once('.') {
        Some((n, d)) if is_date(d) => (n, Some(d.to_owned())),
        _ => (stem, None),
    };
    valid_name(name).then(|| (name.to_owned(), date))
}

/// Whether `d` is a real calendar date written `YYYY-MM-DD` (month 1-12,
/// a day that month has, leap years counted; `humantime` checks it).
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && humantime::parse_rfc3339(&format!("{d}T00:00:00Z")).is_ok()
}

/// The token files in `dir`, newest first (by date, then modification
/// time). A missing directory has none.
///
/// # Errors
/// When the directory exists but cannot be read.
pub fn list(dir: &Path) -> Result<Vec<TokenFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some((name, expires)) = file.to_str().and_then(parse_file_name) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        // Group or others may read or write it.
        let shared = meta.permissions().mode() & 0o077;
        out.push(TokenFile {
            name,
            expires,
            path: entry.path(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            private: meta.uid() == nix::unistd::getuid().as_raw() && shared == 0,
        });
    }
    sort_newest_first(&mut out);
    Ok(out)
}

/// Sorts newest first: later date, then later modification time, then name.
pub fn sort_newest_first(files: &mut [TokenFile]) {
    files.sort_by(|a, b| (&b.expires, b.modified, &a.name).cmp(&(&a.expires, a.modified, &b.name)));
}

/// The token to use. `wanted` is a name (`--token`, `agent.token`) or empty
/// for "the newest": the newest unexpired private token, or the newest
/// private one when every one has expired (dates are estimates); a token
/// file others can read is never the default (naming it is refused by
/// [`check_private`]). `files` must be newest first ([`list`]).
///
/// # Errors
/// [`ExitKind::NotFound`] when `wanted` names no token (listing those that
/// exist); [`ExitKind::Usage`] for an invalid name.
pub fn select<'a>(
    files: &'a [TokenFile],
    wanted: &str,
    today: &str,
) -> Result<Option<&'a TokenFile>> {
    if wanted.is_empty() {
        let mut private = files.iter().filter(|f| f.private);
        return Ok(private
            .clone()
            .find(|f| !f.expired(today))
            .or_else(|| private.next()));
    }
    if !valid_name(wanted) {
        return Err(Error::usage(format!(
            "invalid token name {wanted:?}: use letters, digits, '-' and '_'"
        )));
    }
    if let Some(f) = files.iter().find(|f| f.name == wanted) {
        return Ok(Some(f));
    }
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let err = Error::new(
        ExitKind::NotFound,
        format!("no Claude token named {wanted}"),
    );
    let err = if names.is_empty() {
        err.detail("there are no token files")
    } else {
        err.detail(format!("tokens: {}", names.join(", ")))
    };
    Err(err
        .hint("list tokens with 'ccy tokens'")
        .hint("create one with 'claude setup-token' and save it as ~/.claude-tokens/ccy/tokens/NAME.YYYY-MM-DD.token"))
}

/// Checks that the token directory (and `file`, when given) belong to the
/// user and are private: the directory 0700, files not readable by group
/// or others.
///
/// # Errors
/// [`ExitKind::Environment`] saying which mode is wrong, with the `chmod`
/// that fixes it.
pub fn check_private(dir: &Path, file: Option<&Path>) -> Result<()> {
    let uid = nix::unistd::getuid().as_raw();
    let check = |path: &Path, mask: u32, fix: &str| -> Result<()> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if meta.uid() != uid || mode & mask != 0 {
            return Err(Error::environment(format!(
                "{} is not private (mode {mode:o}, owner uid {}): refusing to read Claude tokens from it",
                path.display(),
                meta.uid()
            ))
            .hint(format!("run 'chmod {fix} {}'", path.display())));
        }
        Ok(())
    };
    check(dir, 0o077, "700")?;
    if let Some(f) = file {
        check(f, 0o077, "600")?;
    }
    Ok(())
}

/// Reads a token file's content, trimmed of white space (the files end
/// with a newline).
///
/// # Errors
/// When it cannot be read or is empty.
pub fn read(file: &TokenFile) -> Result<String> {
    let text = std::fs::read_to_string(&file.path)
        .with_context(|| format!("cannot read {}", file.path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::usage(format!("{} is empty", file.path.display()))
            .hint("save the token from 'claude setup-token' in it"));
    }
    Ok(token.to_owned())
}

/// The token for a new session: `(name, value)` of the token `wanted`
/// names (empty: the newest, see [`select`]) from `~/.claude-tokens/ccy/tokens`.
/// Says in one line when there is none (the session starts anyway and
/// Claude asks to log in) and warns when the chosen token's date has
/// passed.
///
/// # Errors
/// As [`select`]; [`check_private`] for the directory and the file;
/// [`read`].
pub fn for_session(home: &Path, wanted: &str) -> Result<Option<(String, String)>> {
    let dir = token_dir(home);
    let files = list(&dir)?;
    let today = today();
    let chosen = select(&files, wanted, &today)?;
    if wanted.is_empty()
        && let Some(skipped) = files
            .iter()
            .take_while(|f| chosen.is_none_or(|c| c.path != f.path))
            .find(|f| !f.private)
    {
        crate::ctx::notice(&format!(
            "warning: not using the Claude token {}: others can read it (run 'chmod 600 {}')",
            skipped.name,
            skipped.path.display()
        ));
    }
    let Some(file) = chosen else {
        crate::ctx::notice(&format!(
            "no Claude token in {}: Claude will ask you to log in (see 'ccy tokens')",
            crate::paths::display_home(&dir, home)
        ));
        return Ok(None);
    };
    check_private(&dir, Some(&file.path))?;
    if file.expired(&today) {
        crate::ctx::notice(&format!(
            "warning: Claude token {} expired on {} (estimated from its file name); using it anyway",
            file.name,
            file.expires.as_deref().unwrap_or("?")
        ));
    }
    Ok(Some((file.name.clone(), read(file)?)))
}

/// Replaces every ccy token secret (label [`LABEL_TOKEN`]) with the newest
/// file of its name, so a session started again uses a renewed token.
/// Problems are warnings: the session starts with the secret it has.
pub async fn refresh_secrets(api: &crate::host::podman::api::PodmanApi, home: &Path) {
    let secrets = match api.secrets_with_label(LABEL_TOKEN).await {
        Ok(s) => s,
        Err(e) => {
            crate::ctx::notice(&format!(
                "warning: cannot refresh Claude token secrets: {}",
                e.message()
            ));
            return;
        }
    };
    if secrets.is_empty() {
        return;
    }
    let dir = token_dir(home);
    let Ok(files) = list(&dir) else { return };
    for (secret, name) in secrets {
        let Some(file) = files.iter().find(|f| f.name == name && f.private) else {
            if let Some(f) = files.iter().find(|f| f.name == name) {
                crate::ctx::notice(&format!(
                    "warning: not refreshing the secret {secret}: others can read {} (run 'chmod 600 {}')",
                    f.path.display(),
                    f.path.display()
                ));
            }
            continue;
        };
        let result = check_private(&dir, Some(&file.path))
            .and_then(|()| read(file))
            .and_then(|value| {
                crate::host::podman::cli::create_secret(&secret, (LABEL_TOKEN, &name), &value)
            });
        if let Err(e) = result {
            crate::ctx::notice(&format!(
                "warning: cannot refresh the secret {secret}: {}",
                e.message()
            ));
        }
    }
}

/// Today's date, `YYYY-MM-DD` (UTC).
#[must_use]
pub fn today() -> String {
    crate::session::store::now_rfc3339()[..10].to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("work.2026-12-01.token"),
            Some(("work".into(), Some("2026-12-01".into())))
        );
        assert_eq!(
            parse_file_name("my-tok_1.token"),
            Some(("my-tok_1".into(), None))
        );
        assert_eq!(parse_file_name("a.b.token"), None, "dot in the name");
        assert_eq!(parse_file_name("work.2026-12-01"), None);
        assert_eq!(parse_file_name(".2026-12-01.token"), None);
        assert_eq!(parse_file_name("x.2026-1-01.token"), None);
        assert_eq!(parse_file_name("x.2026-13-45.token"), None, "no such date");
        assert_eq!(
            parse_file_name("x.2026-02-29.token"),
            None,
            "not a leap year"
        );
        assert!(parse_file_name("x.2028-02-29.token").is_some());
        assert_eq!(secret_name("work"), "ccy-token-work");
    }

    fn tf(name: &str, date: Option<&str>, age_s: u64) -> TokenFile {
        TokenFile {
            name: name.into(),
            expires: date.map(str::to_owned),
            path: format!("/t/{name}").into(),
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_s),
            private: true,
        }
    }

    #[test]
    fn selection() {
        let mut files = vec![
            tf("old", Some("2026-01-01"), 50),
            tf("work", Some("2027-03-01"), 10),
            tf("home", Some("2027-03-01"), 5),
            tf("work", Some("2027-01-01"), 1),
            tf("plain", None, 0),
        ];
        sort_newest_first(&mut files);
        let order: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(order, ["home", "work", "work", "old", "plain"]);
        let today = "2026-06-01";
        assert_eq!(select(&files, "", today).unwrap().unwrap().name, "home");
        let w = select(&files, "work", today).unwrap().unwrap();
        assert_eq!(
            w.expires.as_deref(),
            Some("2027-03-01"),
            "newest of the name"
        );
        assert!(
            select(&files, "old", today)
                .unwrap()
                .unwrap()
                .expired(today)
        );
        let err = select(&files, "nope", today).unwrap_err();
        assert_eq!(err.kind(), ExitKind::NotFound);
        assert!(err.to_string().contains("home, old, plain, work"), "{err}");
        assert!(select(&files, "../x", today).is_err());
        assert!(select(&[], "", today).unwrap().is_none());
        // Every token expired: the newest is still used.
        let all_old = [tf("a", Some("2020-01-01"), 0)];
        assert_eq!(select(&all_old, "", today).unwrap().unwrap().name, "a");
    }

    #[test]
    fn listing_and_privacy() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("tokens");
        assert!(list(&t).unwrap().is_empty());
        std::fs::create_dir(&t).unwrap();
        std::fs::write(t.join("a.2026-01-01.token"), "sk-a\n").unwrap();
        std::fs::write(t.join("b.2027-01-01.token"), "  sk-b \n").unwrap();
        std::fs::write(t.join("notes.txt"), "x").unwrap();
        std::fs::create_dir(t.join("d.token")).unwrap();
        let files = list(&t).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(read(&files[0]).unwrap(), "sk-b");
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = check_private(&t, None).unwrap_err().to_string();
        assert!(err.contains("chmod 700"), "{err}");
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&files[0].path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private(&t, Some(&files[0].path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&files[0].path, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_private(&t, Some(&files[0].path)).unwrap();
        std::fs::write(&files[1].path, "\n").unwrap();
        assert!(read(&files[1]).is_err());
    }

    #[test]
    fn a_token_others_can_read_is_never_the_default() {
        let mut open = tf("open", Some("2099-12-31"), 0);
        open.private = false;
        let files = vec![open, tf("closed", Some("2099-01-01"), 1)];
        let got = select(&files, "", "2026-01-01").unwrap().unwrap();
        assert_eq!(got.name, "closed");
        // Named, it is selected (and then refused by check_private).
        assert_eq!(
            select(&files, "open", "2026-01-01").unwrap().unwrap().name,
            "open"
        );
        assert!(select(&files[..1], "", "2026-01-01").unwrap().is_none());
    }
}
