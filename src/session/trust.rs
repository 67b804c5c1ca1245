//! The trust model for configuration the user did not write: a project's
//! `.claude/ccy/config.toml` (it comes with a cloned repository) and the
//! manifest of an archive made by `ccy export` (it comes from anywhere).
//!
//! A session's agent can always do what the repository's own code can: it
//! runs, in a container, with the worktree mounted. Keys that give it more
//! — host paths (`session.mounts`), SSH keys (`session.ssh_keys`), ccy's
//! own environment (`session.env` entries `NAME`), a network other than
//! Podman's default or `none` (`session.network`): the
//! [`crate::config::Widening`] keys — are honoured from such a file only
//! once the user approved its exact content with `ccy trust`, as direnv's
//! `allow` and mise's `trust` do it. An approval records the file's
//! SHA-256 (the `sha2` crate) in ccy's own state ([`store_path`], mode
//! 0600, replaced atomically), and a changed file no longer matches it.
//!
//! Approvals have a scope: a project file's is its repository (the common
//! git directory, so every worktree of one repository shares them), an
//! archive's is the archive file. The network modes that share or open the
//! host's network ([`privileged_network`]) are never taken from a project
//! file or an archive, approved or not.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Loaded, Source, Widening};
use crate::ctx::notice;
use crate::error::{Error, ExitKind, Result};
use crate::host::fs;
use crate::host::git::Worktree;
use crate::paths::{Paths, display_home};
use crate::quadlet::runopts::expand_home;
use crate::quadlet::spec::SessionOptions;

/// The approvals file's name in ccy's state directory.
pub const STORE: &str = "trusted.json";

/// The approvals file: `STATE_DIR/trusted.json` (`~/.local/state/ccy`).
#[must_use]
pub fn store_path(paths: &Paths) -> PathBuf {
    paths.state_dir.join(STORE)
}

/// The SHA-256 of `bytes`, as 64 lower-case hex digits.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// One approval: the user approved the file with this content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// What the approval covers: a repository's common git directory (a
    /// project file, in any of its worktrees) or an archive file, absolute.
    pub scope: PathBuf,
    /// The file that was approved, absolute (shown by `ccy trust --list`).
    pub file: PathBuf,
    /// The SHA-256 of its content when approved, hex.
    pub sha256: String,
    /// The widening keys it had then (`session.mounts`, …), for the list.
    #[serde(default)]
    pub keys: Vec<String>,
    /// When it was approved, RFC 3339 UTC.
    pub approved: String,
}

/// The approvals file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    /// Format version (1).
    version: u32,
    /// The approvals, oldest first.
    approved: Vec<Approval>,
}

/// The approvals in the file at `path`; none when it does not exist.
///
/// # Errors
/// [`ExitKind::Failure`] when it cannot be read or is not an approvals
/// file (with a hint to remove it: that revokes every approval).
pub fn load(path: &Path) -> Result<Vec<Approval>> {
    let Some(bytes) = fs::read_if_exists(path)? else {
        return Ok(Vec::new());
    };
    let file: StoreFile = serde_json::from_slice(&bytes).map_err(|e| {
        Error::failure(format!("{} is not ccy's approvals file", path.display()))
            .detail(e.to_string())
            .hint(format!(
                "remove it ('rm {}'): that revokes every approval, then approve again with 'ccy trust'",
                path.display()
            ))
    })?;
    Ok(file.approved)
}

fn save(path: &Path, approved: Vec<Approval>) -> Result<()> {
    let file = StoreFile {
        version: 1,
        approved,
    };
    let mut text = serde_json::to_vec_pretty(&file)
        .map_err(|e| Error::failure("cannot encode the approvals").with_source(e))?;
    text.push(b'\n');
    fs::write_atomic(path, &text, 0o600)
}

/// Whether `approvals` hold one for `scope` with content `sha256`.
#[must_use]
pub fn is_approved(approvals: &[Approval], scope: &Path, sha256: &str) -> bool {
    approvals
        .iter()
        .any(|a| a.scope == scope && a.sha256 == sha256)
}

/// Records `approval` in the approvals file at `path` (under a lock in
/// `lock_dir`, replaced atomically, mode 0600). An approval of the same
/// scope and content replaces the earlier one; approvals of other content
/// of the same scope stay (other branches may have other files).
///
/// # Errors
/// When the file cannot be read, locked or written.
pub fn approve(path: &Path, lock_dir: &Path, approval: Approval) -> Result<()> {
    let _lock = fs::lock(&lock_dir.join("trust.lock"))?;
    let mut all = load(path)?;
    all.retain(|a| !(a.scope == approval.scope && a.sha256 == approval.sha256));
    all.push(approval);
    save(path, all)
}

/// Removes every approval of `scope` from the approvals file at `path`
/// and returns them.
///
/// # Errors
/// When the file cannot be read, locked or written.
pub fn revoke(path: &Path, lock_dir: &Path, scope: &Path) -> Result<Vec<Approval>> {
    let _lock = fs::lock(&lock_dir.join("trust.lock"))?;
    let all = load(path)?;
    let (gone, kept): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| a.scope == scope);
    if !gone.is_empty() {
        save(path, kept)?;
    }
    Ok(gone)
}

/// The scope of a project file's approvals: its repository's common git
/// directory, canonical when it can be resolved.
#[must_use]
pub fn project_scope(worktree: &Worktree) -> PathBuf {
    std::fs::canonicalize(&worktree.common_dir).unwrap_or_else(|_| worktree.common_dir.clone())
}

/// Whether the network mode `network` shares or opens the host's network
/// (and so is never taken from a project file or an archive): `host`, and
/// every `MODE:ARG` form — `container:NAME` (another container's
/// namespace), `ns:PATH` (any namespace), `pasta:OPTIONS` and
/// `slirp4netns:OPTIONS` (which can map the host's loopback). A network
/// name cannot contain `:`.
#[must_use]
pub fn privileged_network(network: &str) -> bool {
    let n = network.trim();
    n == "host" || n.contains(':')
}

/// Prints the warning for a session that gets a privileged network.
pub fn warn_network(network: &str) {
    if privileged_network(network) {
        notice(&format!(
            "warning: network {network:?} shares or opens the host's network: the agent can reach services listening on the host's 127.0.0.1 and its abstract unix sockets"
        ));
    }
}

/// `KEY = [VALUES]` lines for messages.
fn key_lines(widening: &[Widening]) -> Vec<String> {
    widening
        .iter()
        .map(|w| {
            let values: Vec<String> = w.values.iter().map(|v| format!("{v:?}")).collect();
            format!("{} = [{}]", w.key, values.join(", "))
        })
        .collect()
}

/// The `ccy trust` command line that approves the project file of
/// `worktree`.
#[must_use]
pub fn trust_command(target: &Path) -> String {
    format!(
        "ccy trust {}",
        shell_words::quote(&target.to_string_lossy())
    )
}

/// Checks that a session may be created in `worktree` with the
/// configuration `loaded` (before flags' values are used): a privileged
/// network ([`privileged_network`]) set by the project file is refused,
/// approved or not; a project file with [`Widening`] keys is refused
/// unless the user approved its exact content (`ccy trust`) for this
/// repository. `session.network` counts only when the project file is
/// where its value came from (a flag or variable may override it); list
/// keys always count.
///
/// # Errors
/// [`ExitKind::Usage`] naming the file, the keys and values found, and
/// the `ccy trust` command that approves it; as [`load`].
pub fn check_project(paths: &Paths, loaded: &Loaded, worktree: &Worktree) -> Result<()> {
    let Some(project) = &loaded.project else {
        return Ok(());
    };
    let from_project = matches!(
        loaded.sources.get("session.network"),
        Some(Source::File(p)) if *p == project.path
    );
    let network = &loaded.config.session.network;
    let shown = display_home(&project.path, &paths.home);
    if from_project && privileged_network(network) {
        return Err(Error::usage(format!(
            "{shown} sets session.network = {network:?}, which shares or opens the host's network: ccy never takes that from a project file, trusted or not"
        ))
        .hint("remove it from the project file; to use it anyway, set it yourself: --network on the command line or session.network in ~/.config/ccy/config.toml"));
    }
    let widening: Vec<Widening> = project
        .widening
        .iter()
        .filter(|w| w.key != "session.network" || from_project)
        .cloned()
        .collect();
    if widening.is_empty() {
        return Ok(());
    }
    let sha = sha256_hex(&project.bytes);
    let scope = project_scope(worktree);
    let approvals = load(&store_path(paths))?;
    if is_approved(&approvals, &scope, &sha) {
        return Ok(());
    }
    let changed = approvals.iter().any(|a| a.scope == scope);
    let why = if changed {
        "it changed since you approved it with 'ccy trust'"
    } else {
        "it was not approved with 'ccy trust'"
    };
    let keys: Vec<&str> = widening.iter().map(|w| w.key.as_str()).collect();
    let mut err = Error::usage(format!(
        "{shown} sets keys that reach beyond the worktree ({}), and {why}",
        keys.join(", ")
    ));
    for line in key_lines(&widening) {
        err = err.detail(line);
    }
    Err(err.hint(format!(
        "review the file (its agent.command would run with these), then approve its content: {}",
        trust_command(&worktree.root)
    )))
}

/// Checks an archive's session options before anything is shown or
/// asked: every `session.ssh_keys` entry is a file under `~/.ssh` (after
/// resolving symbolic links) and not a Claude token file; no
/// `session.env` entry passes ccy's environment (`NAME` without a value:
/// `ccy export` writes `NAME=VALUE`); no privileged network
/// ([`privileged_network`]) unless `network_override` (the user's own
/// `--network`) replaces it. `archive` names the file in messages.
///
/// # Errors
/// [`ExitKind::Usage`] naming the entry.
pub fn check_archive_options(
    archive: &Path,
    options: &SessionOptions,
    home: &Path,
    network_override: Option<&str>,
) -> Result<()> {
    let refuse = |what: String| {
        Error::usage(format!("{} is refused: {what}", archive.display()))
            .hint("an archive written by 'ccy export' has no such entry; do not import this file")
    };
    let ssh = std::fs::canonicalize(home.join(".ssh")).unwrap_or_else(|_| home.join(".ssh"));
    let tokens = crate::session::token::token_dir(home);
    let tokens = std::fs::canonicalize(&tokens).unwrap_or(tokens);
    for key in &options.ssh_keys {
        let path = expand_home(key, home);
        let lexical = crate::paths::normalise(&path);
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| lexical.clone());
        let in_ssh = |p: &Path| p.starts_with(&ssh) || p.starts_with(home.join(".ssh"));
        let token_like = real.starts_with(&tokens)
            || real.extension().is_some_and(|e| e == "token")
            || lexical.starts_with(home.join(".claude-tokens"));
        if !path.is_absolute() || !in_ssh(&lexical) || !in_ssh(&real) || token_like {
            return Err(refuse(format!(
                "its session.ssh_keys names {key:?}, which is not a key file under ~/.ssh"
            )));
        }
    }
    if let Some(e) = options.env.iter().find(|e| !e.contains('=')) {
        return Err(refuse(format!(
            "its session.env entry {e:?} would pass this machine's value of {e}"
        )));
    }
    if network_override.is_none() && privileged_network(&options.network) {
        return Err(Error::usage(format!(
            "{} asks for network {:?}, which shares or opens the host's network: ccy never takes that from an archive",
            archive.display(),
            options.network
        ))
        .hint("import it with a network you choose: --network NET (\"\" for Podman's default, none, a network name; host only if you mean it)"));
    }
    Ok(())
}

/// The widening keys of an archive's options, as for a project file.
#[must_use]
pub fn archive_widening(options: &SessionOptions) -> Vec<Widening> {
    let mut out = Vec::new();
    for (key, values) in [
        ("session.mounts", &options.mounts),
        ("session.ssh_keys", &options.ssh_keys),
    ] {
        if !values.is_empty() {
            out.push(Widening {
                key: key.to_owned(),
                values: values.clone(),
            });
        }
    }
    if !matches!(options.network.trim(), "" | "none") {
        out.push(Widening {
            key: "session.network".to_owned(),
            values: vec![options.network.clone()],
        });
    }
    out
}

/// A file to approve, as `ccy trust` resolves it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The approval's scope: the repository's common git directory or the
    /// archive file.
    pub scope: PathBuf,
    /// The file, absolute: a project file or an archive.
    pub file: PathBuf,
    /// The exact bytes an approval covers: the project file, or the
    /// archive's manifest.
    pub bytes: Vec<u8>,
    /// The keys in it that reach beyond the worktree.
    pub widening: Vec<Widening>,
    /// The agent command it sets, if it sets one.
    pub command: Option<Vec<String>>,
    /// A network mode it sets that ccy never takes from it
    /// ([`privileged_network`]), if any.
    pub refused_network: Option<String>,
}

/// Resolves what `ccy trust [PATH]` approves: PATH (relative to `cwd`;
/// default `cwd`) is a directory in a git worktree (its
/// `.claude/ccy/config.toml`), that file itself, or an archive written by
/// `ccy export` (its manifest).
///
/// # Errors
/// [`ExitKind::NotFound`] when PATH does not exist or the worktree has no
/// project file; as [`Worktree::discover`], [`crate::config::Loader::project_file`]
/// and [`crate::session::archive::read_manifest`].
pub fn target(cwd: &Path, path: Option<&Path>) -> Result<Target> {
    let p = path.map_or_else(|| cwd.to_path_buf(), |p| cwd.join(p));
    let meta = std::fs::metadata(&p)
        .map_err(|_| nothing_to_trust(&format!("{} does not exist", p.display())))?;
    let is_project_file = meta.is_file() && p.ends_with(".claude/ccy/config.toml");
    if meta.is_dir() || is_project_file {
        let dir = if is_project_file {
            p.parent().unwrap_or(&p)
        } else {
            &p
        };
        let worktree = Worktree::discover(dir)?;
        let file = crate::config::project_file(&worktree.root);
        if is_project_file && std::fs::canonicalize(&p).ok() != std::fs::canonicalize(&file).ok() {
            return Err(nothing_to_trust(&format!(
                "{} is not the project file of the worktree {}",
                p.display(),
                worktree.root.display()
            )));
        }
        let loaded = crate::config::Loader::new().project_file(&file)?.finish()?;
        let Some(project) = loaded.project else {
            return Err(nothing_to_trust(&format!(
                "{} has no {}",
                worktree.root.display(),
                crate::config::project_file(Path::new("")).display()
            )));
        };
        let from_file = |key: &str| matches!(loaded.sources.get(key), Some(Source::File(_)));
        let network = &loaded.config.session.network;
        return Ok(Target {
            scope: project_scope(&worktree),
            file: std::fs::canonicalize(&file).unwrap_or(file),
            bytes: project.bytes,
            widening: project.widening,
            command: from_file("agent.command").then(|| loaded.config.agent.command.clone()),
            refused_network: (from_file("session.network") && privileged_network(network))
                .then(|| network.clone()),
        });
    }
    let (bytes, manifest) = crate::session::archive::read_manifest(&p)?;
    let file = std::fs::canonicalize(&p).unwrap_or(p);
    let options = manifest.session.options;
    Ok(Target {
        scope: file.clone(),
        file,
        bytes,
        widening: options.as_ref().map(archive_widening).unwrap_or_default(),
        command: options.as_ref().map(|o| o.agent.clone()),
        refused_network: options
            .as_ref()
            .filter(|o| privileged_network(&o.network))
            .map(|o| o.network.clone()),
    })
}

/// Whether the approval `a` still matches its file: `Some(true)` when the
/// file's content (or archive's manifest) hashes the same, `Some(false)`
/// when it changed, `None` when it cannot be read any more.
#[must_use]
pub fn still_matches(a: &Approval) -> Option<bool> {
    let bytes = if a.file.ends_with(".claude/ccy/config.toml") {
        std::fs::read(&a.file).ok()?
    } else {
        crate::session::archive::read_manifest(&a.file).ok()?.0
    };
    Some(sha256_hex(&bytes) == a.sha256)
}

/// The lines `KEY = [VALUES]` describing `widening`, for messages.
#[must_use]
pub fn describe(widening: &[Widening]) -> Vec<String> {
    key_lines(widening)
}

/// The error for a file that is not there to approve.
#[must_use]
pub fn nothing_to_trust(what: &str) -> Error {
    Error::new(ExitKind::NotFound, format!("{what}: nothing to approve"))
        .hint("give a worktree (its .claude/ccy/config.toml) or an archive made by 'ccy export'")
}

#[cfg(test)]
mod tests;
