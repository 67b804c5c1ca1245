//! Loading a new session's units without a full daemon-reload.
//!
//! `Reload` (daemon-reload) reruns every generator and re-reads every unit
//! of the user manager: 150–180 ms on a loaded two-core machine with one
//! session, more with many (BENCHMARKS.md). A new session only *adds*
//! units, and systemd loads a unit it does not know from its search paths
//! on demand, rebuilding its unit-path cache when a search directory
//! changed since the cache was built (systemd's `unit_file_build_name_map`
//! and `manager_unit_cache_should_retry_load`; it is why `systemctl start`
//! finds a new file in `~/.config/systemd/user` without a daemon-reload).
//! Quadlet's units live in the user manager's generator output directory,
//! `$XDG_RUNTIME_DIR/systemd/generator`, one of those search paths.
//!
//! So ccy runs Quadlet's user generator itself, the same program systemd
//! runs (`podman-user-generator`) over the same source directories, into a
//! private directory on the same file system, checks that the output holds
//! the session's units generated from ccy's file (`SourcePath=`), and
//! renames those units, and only those (with their `*.wants/` links), into
//! the generator directory. systemd leaves the directories it owns (the
//! generator ones among them) out of the timestamps it compares
//! (`lookup_paths_mtime_exclude`), so ccy then sets the modification time
//! of the user's runtime unit directory, `$XDG_RUNTIME_DIR/systemd/user`
//! (created when missing; systemd.unit(5)), which it does compare: the
//! next reference to the unit (`ListUnitsByNames`, `StartUnit`) rebuilds
//! the cache, which covers the generator directory, and loads the unit.
//!
//! The next real daemon-reload, which regenerates the directory from
//! scratch, produces the same files, because they *are* the generator's
//! output for the unit files on disk (the integration test
//! `session::new_session_loads_without_reload` compares them). Whenever
//! this path does not apply — no generator or generator directory, the
//! units missing from the output — [`install`] says so and the caller falls
//! back to `Reload`; the caller also reloads when the manager still does
//! not load the units.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Context, Result};
use crate::paths::Paths;

/// Where systemd looks for user generators (systemd.generator(7)), in its
/// order of precedence.
pub const USER_GENERATOR_DIRS: [&str; 4] = [
    "/run/systemd/user-generators",
    "/etc/systemd/user-generators",
    "/usr/local/lib/systemd/user-generators",
    "/usr/lib/systemd/user-generators",
];

/// Quadlet's user generator as Podman installs it (a link to `quadlet`,
/// which runs in user mode when its name contains `user`).
pub const QUADLET_USER_GENERATOR: &str = "podman-user-generator";

/// The first [`QUADLET_USER_GENERATOR`] in [`USER_GENERATOR_DIRS`], if
/// any. A file of that name that is empty or a link to `/dev/null` masks
/// the generator (systemd.generator(7)): then there is none.
#[must_use]
pub fn find_quadlet_generator() -> Option<PathBuf> {
    for dir in USER_GENERATOR_DIRS {
        let path = Path::new(dir).join(QUADLET_USER_GENERATOR);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() > 0 => return Some(path),
            Ok(_) => return None,
            Err(_) => {}
        }
    }
    None
}

/// The user manager's generator output directory
/// (`$XDG_RUNTIME_DIR/systemd/generator`, systemd.generator(7)).
#[must_use]
pub fn generator_dir(paths: &Paths) -> PathBuf {
    paths.runtime_dir.join("systemd/generator")
}

/// Runs Quadlet's user generator and installs `units` (unit file names,
/// e.g. `NAME.service`, `NAME-volume.service`), generated from the unit
/// files on disk, into the manager's generator directory. `source` is the
/// Quadlet file the first unit must come from (its `SourcePath=`).
/// Returns `false`, having changed nothing, when this path does not apply
/// (see the module docs): the caller then reloads.
///
/// # Errors
/// When the private directory cannot be made or a rename fails (the
/// caller may still reload).
pub fn install(paths: &Paths, source: &Path, units: &[String]) -> Result<bool> {
    let target = generator_dir(paths);
    let Some(generator) = find_quadlet_generator() else {
        return Ok(false);
    };
    if units.is_empty() {
        return Ok(false);
    }
    // Same file system as the target, so the renames below are atomic.
    let tmp = tempfile::Builder::new()
        .prefix(".ccy-generator.")
        .tempdir_in(&paths.runtime_dir)
        .with_context(|| {
            format!(
                "cannot create a directory in {}",
                paths.runtime_dir.display()
            )
        })?;
    let out = tmp.path();
    // As systemd runs generators: three output directories (normal, early,
    // late), SYSTEMD_SCOPE=user. Quadlet writes to the first. Its exit
    // status says whether *some* file failed; ours is checked below.
    let status = Command::new(&generator)
        .args([out, out, out])
        .env("SYSTEMD_SCOPE", "user")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if status.is_err() {
        return Ok(false);
    }
    let Some((first, _)) = units.split_first() else {
        return Ok(false);
    };
    let source_line = format!("SourcePath={}", source.display());
    match std::fs::read_to_string(out.join(first)) {
        Ok(text) if text.lines().any(|l| l == source_line) => {}
        _ => return Ok(false),
    }
    if !units.iter().all(|u| out.join(u).is_file()) {
        return Ok(false);
    }
    // With no generated unit at all, systemd removed the empty directory.
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    for unit in units {
        rename(&out.join(unit), &target.join(unit))?;
    }
    install_links(out, &target, units)?;
    touch_unit_dir(paths)?;
    Ok(true)
}

/// The user's runtime unit directory, `$XDG_RUNTIME_DIR/systemd/user`
/// (systemd.unit(5), "User Unit Search Path"), whose modification time the
/// user manager compares before reusing its unit-path cache.
#[must_use]
pub fn runtime_unit_dir(paths: &Paths) -> PathBuf {
    paths.runtime_dir.join("systemd/user")
}

/// Sets the modification time of [`runtime_unit_dir`] to now (creating it
/// when missing), so the user manager rebuilds its unit-path cache on the
/// next unit it cannot find.
fn touch_unit_dir(paths: &Paths) -> Result<()> {
    let dir = runtime_unit_dir(paths);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::File::open(&dir)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .with_context(|| format!("cannot set the modification time of {}", dir.display()))
}

/// Copies the generator's dependency links (`default.target.wants/NAME.service`
/// for `WantedBy=default.target`, …) that point at `units` from `out` into
/// `target`.
fn install_links(out: &Path, target: &Path, units: &[String]) -> Result<()> {
    let entries =
        std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    for entry in entries.flatten() {
        let dir = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for unit in units {
            let link = dir.join(unit);
            let Ok(points_to) = std::fs::read_link(&link) else {
                continue;
            };
            let into = target.join(entry.file_name());
            std::fs::create_dir_all(&into)
                .with_context(|| format!("cannot create {}", into.display()))?;
            let staged = dir.join(format!(".{unit}.ccy"));
            std::os::unix::fs::symlink(&points_to, &staged)
                .with_context(|| format!("cannot create {}", staged.display()))?;
            rename(&staged, &into.join(unit))?;
        }
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

/// What `quadlet -dryrun -user` printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    /// The generated units (`---NAME---` sections, see
    /// [`crate::quadlet::dryrun::split`]).
    pub stdout: String,
    /// Its complaints.
    pub stderr: String,
}

/// Runs Quadlet's `generator` in dry-run mode over the Quadlet files in
/// `dir` (`QUADLET_UNIT_DIRS`), changing nothing.
///
/// # Errors
/// The generator cannot run, as a message.
pub fn dryrun(generator: &Path, dir: &Path) -> std::result::Result<DryRun, String> {
    Command::new(generator)
        .args(["-dryrun", "-user"])
        .env("QUADLET_UNIT_DIRS", dir)
        .output()
        .map(|o| DryRun {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        })
        .map_err(|e| e.to_string())
}

/// What Quadlet's generator says about the session `name`'s files in `dir` (`quadlet -dryrun`,
/// lines naming the session), for an error message; empty when it cannot
/// run.
#[must_use]
pub fn complaints(dir: &Path, name: &str) -> Vec<String> {
    Command::new("/usr/libexec/podman/quadlet")
        .args(["-dryrun", "-user"])
        .env("QUADLET_UNIT_DIRS", dir)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| l.contains(name))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generator_dir_is_under_the_runtime_dir() {
        let paths = Paths::new(7, "/h".into(), None, None, None);
        assert_eq!(
            generator_dir(&paths),
            PathBuf::from("/run/user/7/systemd/generator")
        );
    }
}
