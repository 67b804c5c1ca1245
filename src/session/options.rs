//! A session's run options from its configuration: [`resolve`] turns
//! `[session]` into the checked, plain [`RunOptions`] of the session model,
//! adding the checks that need the file system (host paths exist, key
//! files are private) and ccy's environment (`NAME` entries of
//! `session.env`); [`add_linked_worktree_git`] adds what a linked
//! worktree needs. The parsers themselves are pure
//! ([`crate::quadlet::runopts`]).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::SessionConfig;
use crate::contract::{RESERVED_DESTINATIONS, SSH_KEY_DIR};
use crate::ctx::notice;
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::quadlet::runopts::{
    BindMount, EnvEntry, Limits, RunOptions, expand_home, network, parse_cpus, parse_env,
    parse_memory, parse_mount,
};

/// The mounts among a session's `mounts` (as recorded in its metadata:
/// `HOST:CONTAINER:ro|rw`) that hand the session the whole file system or
/// the user's home: a host path that is `/`, `home` or a directory above
/// `home`. They are allowed (the user's choice) but `ccy status` and `ccy
/// doctor` point them out. Each is described in one line (`/ at /host
/// (the whole file system), read-write`).
#[must_use]
pub fn broad_mounts(mounts: &[String], home: &Path) -> Vec<String> {
    mounts
        .iter()
        .filter_map(|m| {
            let mut parts = m.splitn(3, ':');
            let host = Path::new(parts.next()?);
            let dest = parts.next().unwrap_or("?");
            let rw = if parts.next() == Some("ro") {
                "read-only"
            } else {
                "read-write"
            };
            let what = if host == Path::new("/") {
                "the whole file system"
            } else if host == home {
                "your home directory"
            } else if home.starts_with(host) {
                "a directory holding your home directory"
            } else {
                return None;
            };
            Some(format!("{} at {dest} ({what}), {rw}", host.display()))
        })
        .collect()
}

/// Turns `[session]` into [`RunOptions`]: parses every value, expands `~`,
/// checks that mount sources exist and SSH keys are private files,
/// resolves `NAME` environment entries from `env` (ccy's environment;
/// unset ones are skipped with a warning).
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] naming the bad value.
pub fn resolve(
    session: &SessionConfig,
    home: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RunOptions> {
    let mut opts = RunOptions {
        network: network(&session.network),
        limits: Limits {
            memory: parse_memory(&session.memory)?,
            millicpus: parse_cpus(session.cpus)?,
            pids: (session.pids > 0).then_some(session.pids),
        },
        ..RunOptions::default()
    };
    for spec in &session.mounts {
        let mut m = parse_mount(spec, home)?;
        m.source = std::fs::canonicalize(&m.source).map_err(|e| {
            Error::usage(format!(
                "mount {spec:?}: the host path {} cannot be used",
                m.source.display()
            ))
            .with_source(e)
            .hint("create it, or fix session.mounts / --mount")
        })?;
        if RESERVED_DESTINATIONS.contains(&m.dest.as_str())
            || opts.mounts.iter().any(|o| o.dest == m.dest)
        {
            return Err(Error::usage(format!(
                "mount {spec:?}: {} is already mounted (ccy mounts {})",
                m.dest,
                RESERVED_DESTINATIONS.join(", ")
            ))
            .hint("choose another container path"));
        }
        opts.mounts.push(m);
    }
    for entry in &session.env {
        let (name, value) = match parse_env(entry)? {
            EnvEntry::Set(n, v) => (n, v),
            EnvEntry::Pass(n) => {
                let Some(v) = env(&n) else {
                    notice(&format!(
                        "warning: {n} (session.env) is not set in this environment; it is not passed"
                    ));
                    continue;
                };
                (n, v)
            }
        };
        opts.env.retain(|(n, _)| *n != name);
        opts.env.push((name, value));
    }
    for key in &session.ssh_keys {
        let source = ssh_key_file(key, home)?;
        let base = source
            .file_name()
            .map_or_else(|| "key".to_owned(), |n| n.to_string_lossy().into_owned());
        let mut dest = format!("{SSH_KEY_DIR}/{base}");
        let mut n = 2;
        while opts.ssh_keys.iter().any(|k| k.dest == dest) {
            dest = format!("{SSH_KEY_DIR}/{base}-{n}");
            n += 1;
        }
        if opts.ssh_keys.iter().any(|k| k.source == source) {
            continue;
        }
        opts.ssh_keys.push(BindMount {
            source,
            dest,
            read_only: true,
        });
    }
    if !opts.ssh_keys.is_empty() {
        opts.known_hosts = std::fs::canonicalize(home.join(".ssh/known_hosts"))
            .ok()
            .filter(|p| p.is_file());
    }
    Ok(opts)
}

/// What a session in a linked worktree (`git worktree add`) needs for git
/// to work in the container: the worktree's `.git` file names its git
/// directory `COMMON/worktrees/ID` by absolute host path
/// (gitrepository-layout(5), "worktrees"), so the repository's common
/// git directory is bind-mounted read-write at that same path; and
/// `gc.worktreePruneExpire=never` is set through `GIT_CONFIG_COUNT`
/// (git-config(1), ENVIRONMENT), because inside the container the
/// repository's other worktrees do not exist and `git gc --auto` would
/// otherwise prune their administrative files after three months.
///
/// Adds both to `opts` unless the user already mounts that path or sets
/// `GIT_CONFIG_COUNT`. Does nothing for a main worktree, whose `.git`
/// directory is inside `/workspace` already, or when the git directory
/// does not have the standard layout (submodules).
pub fn add_linked_worktree_git(opts: &mut RunOptions, worktree: &Worktree) {
    if !worktree.is_linked() {
        return;
    }
    let Some(worktrees) = worktree.git_dir.parent() else {
        return;
    };
    if worktrees.file_name().is_none_or(|n| n != "worktrees") {
        return;
    }
    let Some(named) = worktrees.parent() else {
        return;
    };
    let dest = crate::paths::normalise(named);
    let Some(dest) = dest.to_str() else {
        return;
    };
    if opts.mounts.iter().any(|m| m.dest == dest) {
        return;
    }
    opts.mounts.push(BindMount {
        source: worktree.common_dir.clone(),
        dest: dest.to_owned(),
        read_only: false,
    });
    if !opts.env.iter().any(|(n, _)| n.starts_with("GIT_CONFIG_")) {
        for (n, v) in [
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "gc.worktreePruneExpire"),
            ("GIT_CONFIG_VALUE_0", "never"),
        ] {
            opts.env.push((n.to_owned(), v.to_owned()));
        }
    }
}

/// Checks one SSH key: a regular file, readable, not readable by group or
/// others (ssh-add refuses such keys). Returns its canonical path.
fn ssh_key_file(key: &str, home: &Path) -> Result<PathBuf> {
    let path = expand_home(key, home);
    let meta = std::fs::metadata(&path).map_err(|e| {
        Error::usage(format!("SSH key {} cannot be used", path.display()))
            .with_source(e)
            .hint("give the path of a private key file, e.g. --ssh-key ~/.ssh/id_ed25519")
    })?;
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "SSH key {} is not a file",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::usage(format!(
            "SSH key {} is readable by other users (mode {:o}); ssh-add would refuse it",
            path.display(),
            meta.permissions().mode() & 0o777
        ))
        .hint(format!("run 'chmod 600 {}'", path.display())));
    }
    std::fs::File::open(&path).map_err(|e| {
        Error::usage(format!("SSH key {} cannot be read", path.display())).with_source(e)
    })?;
    std::fs::canonicalize(&path)
        .map_err(|e| Error::usage(format!("SSH key {}", path.display())).with_source(e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn resolve_checks_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir(home.join("data")).unwrap();
        let key = home.join("id_test");
        std::fs::write(&key, "key").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let session = SessionConfig {
            autostart: true,
            network: "none".into(),
            memory: "1g".into(),
            cpus: 0.5,
            pids: 100,
            max_running: 0,
            mounts: vec!["~/data:/data:ro".into()],
            env: vec![
                "PASSED".into(),
                "MISSING".into(),
                "SET=1".into(),
                "SET=2".into(),
            ],
            ssh_keys: vec!["~/id_test".into(), key.to_string_lossy().into_owned()],
        };
        let env = |n: &str| (n == "PASSED").then(|| "from-ccy".to_owned());
        let opts = resolve(&session, home, env).unwrap();
        assert_eq!(opts.network.as_deref(), Some("none"));
        assert_eq!(opts.limits.memory.as_ref().unwrap().bytes, 1 << 30);
        assert_eq!(opts.limits.millicpus, Some(500));
        assert_eq!(opts.limits.pids, Some(100));
        let canon = std::fs::canonicalize(home).unwrap();
        assert_eq!(opts.mounts[0].source, canon.join("data"));
        assert_eq!(
            opts.env,
            [
                ("PASSED".to_owned(), "from-ccy".to_owned()),
                ("SET".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(opts.ssh_keys.len(), 1, "the same key once");
        assert_eq!(opts.ssh_keys[0].dest, "/root/.ssh/ccy-keys/id_test");
        assert!(opts.ssh_keys[0].read_only);

        let mut s = session.clone();
        s.mounts = vec!["~/missing:/m".into()];
        let err = resolve(&s, home, |_| None).unwrap_err().to_string();
        assert!(err.contains("missing") && err.contains("hint:"), "{err}");
        let mut s = session.clone();
        s.mounts = vec!["~/data:/workspace".into()];
        assert!(resolve(&s, home, |_| None).is_err());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = resolve(&session, home, |_| None).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn linked_worktree_git_dir_is_mounted_at_its_named_path() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let run = crate::host::git::testing::git;
        std::fs::create_dir(&repo).unwrap();
        run(&repo, &["init", "-q"]);
        run(&repo, &["commit", "-q", "--allow-empty", "-m", "c"]);
        let main = Worktree::discover(&repo).unwrap();
        let mut opts = RunOptions::default();
        add_linked_worktree_git(&mut opts, &main);
        assert_eq!(opts, RunOptions::default(), "nothing for the main worktree");

        run(&repo, &["worktree", "add", "-q", "-b", "side", "../side"]);
        let linked = Worktree::discover(&tmp.path().join("side")).unwrap();
        add_linked_worktree_git(&mut opts, &linked);
        let git_dir = std::fs::canonicalize(repo.join(".git")).unwrap();
        assert_eq!(
            opts.mounts,
            [BindMount {
                source: git_dir.clone(),
                dest: repo.join(".git").to_str().unwrap().to_owned(),
                read_only: false,
            }]
        );
        assert!(
            opts.env
                .contains(&("GIT_CONFIG_KEY_0".into(), "gc.worktreePruneExpire".into()))
        );
        // Twice adds nothing.
        let before = opts.clone();
        add_linked_worktree_git(&mut opts, &linked);
        assert_eq!(opts, before);
    }

    #[test]
    fn broad_mounts_are_root_home_and_above() {
        let home = Path::new("/home/dev");
        let mounts: Vec<String> = [
            "/:/host:rw",
            "/home/dev:/h:ro",
            "/home/dev/:/h2:rw",
            "/home:/homes:rw",
            "/home/dev/data:/data:rw",
            "/srv:/srv:ro",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let got = broad_mounts(&mounts, home);
        assert_eq!(
            got,
            [
                "/ at /host (the whole file system), read-write",
                "/home/dev at /h (your home directory), read-only",
                "/home/dev/ at /h2 (your home directory), read-write",
                "/home at /homes (a directory holding your home directory), read-write",
            ]
        );
    }
}
