//! The session archive of `ccy export` / `ccy import`: one tar file (the
//! `tar` crate, ustar/GNU format) holding
//!
//! - `manifest.json`: a [`Manifest`] — the format version, the ccy version
//!   that wrote it, and the session's metadata with the options it was made
//!   with ([`SessionMeta`], the unit file's metadata line);
//! - `units/NAME.container`, `units/NAME.volume`: the unit files as they
//!   were, for reference only (import renders new ones for its machine);
//! - `state.tar`: the agent-state volume's contents (`podman volume
//!   export`).
//!
//! Reading checks the manifest before anything else is used: a missing or
//! malformed manifest, a newer format version or a missing `state.tar` is
//! refused.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, ExitKind, Result};
use crate::quadlet::spec::SessionMeta;

/// The archive format this ccy writes and the newest it reads.
pub const FORMAT: u32 = 1;

/// The manifest's file name in the archive.
pub const MANIFEST: &str = "manifest.json";

/// The volume contents' file name in the archive.
pub const STATE: &str = "state.tar";

/// The directory of the reference unit files in the archive.
pub const UNITS_DIR: &str = "units";

/// The largest manifest read, in bytes (a manifest is a few KiB).
const MAX_MANIFEST: u64 = 1 << 20;

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive format version ([`FORMAT`] when written).
    pub format: u32,
    /// The version of the ccy that wrote the archive.
    pub ccy_version: String,
    /// When it was written, RFC 3339 UTC.
    pub exported: String,
    /// The session: name, project, worktree, branch, creation time, image,
    /// and the options it was made with.
    pub session: SessionMeta,
    /// The agent-state volume the contents came from.
    pub state_volume: String,
    /// Whether the session was running when its volume was exported (the
    /// contents were then read while the agent could write).
    pub live: bool,
}

/// Writes the archive to `out`: the manifest, the reference `units` (file
/// name, text) and the volume contents from the file `state`.
///
/// # Errors
/// When writing fails.
pub fn write(
    out: impl Write,
    manifest: &Manifest,
    units: &[(String, String)],
    state: &Path,
) -> Result<()> {
    let mut b = tar::Builder::new(out);
    let json = serde_json::to_vec_pretty(manifest).context("cannot encode the manifest")?;
    append_bytes(&mut b, MANIFEST, &json)?;
    for (name, text) in units {
        append_bytes(&mut b, &format!("{UNITS_DIR}/{name}"), text.as_bytes())?;
    }
    let mut f = File::open(state).with_context(|| format!("cannot read {}", state.display()))?;
    b.append_file(STATE, &mut f)
        .context("cannot write the volume contents into the archive")?;
    b.into_inner()
        .and_then(|mut w| w.flush())
        .context("cannot finish the archive")?;
    Ok(())
}

fn append_bytes<W: Write>(b: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    h.set_cksum();
    b.append_data(&mut h, path, data)
        .with_context(|| format!("cannot write {path} into the archive"))
}

/// A bad archive: [`ExitKind::Usage`] naming the file.
fn bad(file: &Path, why: &str) -> Error {
    Error::usage(format!(
        "{} is not a ccy session archive: {why}",
        file.display()
    ))
    .hint("make one with 'ccy export NAME FILE.tar'")
}

/// Checks and decodes a manifest's text.
///
/// # Errors
/// [`ExitKind::Usage`] when it is not a manifest; [`ExitKind::Environment`]
/// when its format is newer than [`FORMAT`] (this ccy is too old).
pub fn parse_manifest(file: &Path, text: &[u8]) -> Result<Manifest> {
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|e| bad(file, &format!("{MANIFEST} is not JSON ({e})")))?;
    let Some(format) = value.get("format").and_then(serde_json::Value::as_u64) else {
        return Err(bad(file, &format!("{MANIFEST} has no format version")));
    };
    if format > u64::from(FORMAT) {
        let by = value
            .get("ccy_version")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        return Err(Error::new(
            ExitKind::Environment,
            format!(
                "{} has archive format {format}, written by ccy {by}; this ccy ({}) reads format {FORMAT} and older",
                file.display(),
                env!("CARGO_PKG_VERSION")
            ),
        )
        .hint("import it with a newer ccy"));
    }
    serde_json::from_value(value).map_err(|e| bad(file, &format!("{MANIFEST}: {e}")))
}

/// The most entries the volume contents may have.
const MAX_STATE_ENTRIES: u64 = 1_000_000;

/// The largest total size of the volume contents' files, in bytes (64 GiB).
const MAX_STATE_BYTES: u64 = 64 << 30;

/// The longest entry name or link target in the volume contents, in bytes.
const MAX_STATE_PATH: usize = 4096;

/// A bad entry in the volume contents: [`ExitKind::Usage`] naming it.
fn bad_entry(file: &Path, entry: &str, why: &str) -> Error {
    Error::usage(format!(
        "{} is refused: entry {entry:?} of its {STATE} {why}",
        file.display()
    ))
    .hint("an archive written by 'ccy export' has no such entry; do not import this file")
}

/// The normal components of a relative `path`, with `..` resolved
/// lexically, or `None` when it is absolute or climbs above its start.
/// `.` components and empty ones are dropped.
fn contained(path: &Path) -> Option<Vec<std::ffi::OsString>> {
    use std::path::Component;
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Checks every entry of the volume contents `state` (a tar file, read
/// with the `tar` crate) before anything is imported: each name is
/// relative with no `..` and does not pass through a symbolic link of the
/// archive; a symbolic link's target is relative and stays inside; a hard
/// link names an earlier file of the archive; there are only files,
/// directories and links (no devices, FIFOs or sparse files); at most
/// 1 000 000 entries (`MAX_STATE_ENTRIES`) of 64 GiB (`MAX_STATE_BYTES`)
/// in all.
/// `archive` names the archive in messages.
///
/// # Errors
/// [`ExitKind::Usage`] naming the first bad entry, or when `state` is not
/// a tar archive; [`ExitKind::Failure`] when it cannot be read.
pub fn check_state(archive: &Path, state: &Path) -> Result<()> {
    use std::collections::HashSet;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;
    use tar::EntryType;
    let f = File::open(state).with_context(|| format!("cannot read {}", state.display()))?;
    let mut tar = tar::Archive::new(f);
    let not_tar =
        |e: std::io::Error| bad(archive, &format!("its {STATE} is not a tar archive ({e})"));
    let mut links: HashSet<PathBuf> = HashSet::new();
    let mut files: HashSet<PathBuf> = HashSet::new();
    let (mut count, mut bytes) = (0u64, 0u64);
    for entry in tar.entries().map_err(not_tar)? {
        let entry = entry.map_err(not_tar)?;
        let raw = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let bad = |why: &str| bad_entry(archive, &name, why);
        count += 1;
        if count > MAX_STATE_ENTRIES {
            return Err(bad(&format!(
                "is past the limit of {MAX_STATE_ENTRIES} entries"
            )));
        }
        if raw.len() > MAX_STATE_PATH {
            return Err(bad("has a name longer than 4096 bytes"));
        }
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(&raw[..]));
        let has_parent = path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
        let Some(parts) = contained(&path).filter(|_| !has_parent) else {
            return Err(bad("is an absolute path or has a '..' component"));
        };
        let rel: PathBuf = parts.iter().collect();
        let mut prefix = PathBuf::new();
        for p in parts.iter().take(parts.len().saturating_sub(1)) {
            prefix.push(p);
            if links.contains(&prefix) {
                return Err(bad(&format!(
                    "lies under the symbolic link {:?}",
                    prefix.display().to_string()
                )));
            }
        }
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                bytes = bytes.saturating_add(entry.size());
                if bytes > MAX_STATE_BYTES {
                    return Err(bad("is past the limit of 64 GiB for the volume contents"));
                }
                files.insert(rel);
            }
            EntryType::Directory => {}
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(std::borrow::Cow::into_owned)
                    .unwrap_or_default();
                if target.is_empty() || target.len() > MAX_STATE_PATH {
                    return Err(bad("is a link with an empty or overlong target"));
                }
                let target = PathBuf::from(std::ffi::OsStr::from_bytes(&target[..]));
                let shown = target.display().to_string();
                if kind == EntryType::Symlink {
                    let parent = rel.parent().unwrap_or(Path::new(""));
                    if contained(&parent.join(&target)).is_none() || target.is_absolute() {
                        return Err(bad(&format!(
                            "is a symbolic link to {shown:?}, outside the volume"
                        )));
                    }
                    links.insert(rel);
                } else {
                    let inside = contained(&target)
                        .filter(|_| {
                            !target
                                .components()
                                .any(|c| matches!(c, std::path::Component::ParentDir))
                        })
                        .map(|p| p.iter().collect::<PathBuf>());
                    if !inside.is_some_and(|t| files.contains(&t)) {
                        return Err(bad(&format!(
                            "is a hard link to {shown:?}, not an earlier file of the archive"
                        )));
                    }
                    files.insert(rel);
                }
            }
            other => {
                return Err(bad(&format!(
                    "is a {}, not a file, directory or link",
                    kind_name(other)
                )));
            }
        }
    }
    Ok(())
}

/// A tar entry type in words, for messages.
fn kind_name(kind: tar::EntryType) -> &'static str {
    use tar::EntryType;
    match kind {
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "sparse file",
        _ => "special entry",
    }
}

/// Reads only the manifest of the archive `file` (its first entry):
/// its exact bytes (what an approval's hash covers, see
/// [`crate::session::trust`]) and its decoded form.
///
/// # Errors
/// As [`parse_manifest`]; [`ExitKind::Usage`] when the file is not a tar
/// archive or does not start with the manifest; [`ExitKind::Failure`] when
/// it cannot be read.
pub fn read_manifest(file: &Path) -> Result<(Vec<u8>, Manifest)> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(f);
    let mut entries = archive
        .entries()
        .map_err(|e| bad(file, &format!("not a tar archive ({e})")))?;
    let Some(entry) = entries.next() else {
        return Err(bad(file, &format!("it has no {MANIFEST}")));
    };
    let mut entry = entry.map_err(|e| bad(file, &format!("not a tar archive ({e})")))?;
    if entry.path_bytes().as_ref() != MANIFEST.as_bytes() {
        return Err(bad(file, &format!("{MANIFEST} does not come first")));
    }
    manifest_entry(file, &mut entry)
}

/// Reads and decodes the manifest entry `entry` of the archive `file`:
/// its exact bytes (at most [`MAX_MANIFEST`]) and its decoded form.
///
/// # Errors
/// As [`parse_manifest`]; [`ExitKind::Usage`] when it is too large;
/// [`ExitKind::Failure`] when it cannot be read.
fn manifest_entry(file: &Path, entry: &mut impl Read) -> Result<(Vec<u8>, Manifest)> {
    let mut text = Vec::new();
    entry
        .take(MAX_MANIFEST + 1)
        .read_to_end(&mut text)
        .with_context(|| format!("cannot read {}", file.display()))?;
    if text.len() as u64 > MAX_MANIFEST {
        return Err(bad(file, &format!("{MANIFEST} is too large")));
    }
    let manifest = parse_manifest(file, &text)?;
    Ok((text, manifest))
}

/// Reads the archive `file`: checks its manifest, copies the volume
/// contents into `state_out` and checks every entry of them
/// ([`check_state`]). Reference unit files are skipped. Returns the
/// manifest and its exact bytes.
///
/// # Errors
/// As [`parse_manifest`] and [`check_state`]; [`ExitKind::Usage`] when the
/// file is not a tar archive, or lacks the manifest or the volume contents;
/// [`ExitKind::Failure`] when it cannot be read.
pub fn read(file: &Path, state_out: &Path) -> Result<(Manifest, Vec<u8>)> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(f);
    let mut manifest = None;
    let mut manifest_bytes = Vec::new();
    let mut state = false;
    let entries = archive
        .entries()
        .map_err(|e| bad(file, &format!("not a tar archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(file, &format!("not a tar archive ({e})")))?;
        let path = entry
            .path()
            .map_err(|e| bad(file, &format!("bad entry name ({e})")))?
            .to_string_lossy()
            .into_owned();
        match path.as_str() {
            MANIFEST => {
                if manifest.is_some() {
                    return Err(bad(file, &format!("it has two {MANIFEST}")));
                }
                let (text, m) = manifest_entry(file, &mut entry)?;
                manifest = Some(m);
                manifest_bytes = text;
            }
            STATE => {
                if manifest.is_none() {
                    return Err(bad(file, &format!("{MANIFEST} does not come first")));
                }
                let mut out = File::create(state_out)
                    .with_context(|| format!("cannot create {}", state_out.display()))?;
                std::io::copy(&mut entry, &mut out)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                state = true;
            }
            _ => {}
        }
    }
    let Some(manifest) = manifest else {
        return Err(bad(file, &format!("it has no {MANIFEST}")));
    };
    if !state {
        return Err(bad(
            file,
            &format!("it has no {STATE} (the agent-state volume)"),
        ));
    }
    check_state(file, state_out)?;
    Ok((manifest, manifest_bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            ccy_version: "0.1.0".into(),
            exported: "2026-11-21T05:00:00Z".into(),
            session: SessionMeta {
                project: "p".into(),
                worktree: "/w".into(),
                created: "2026-11-21T04:00:00Z".into(),
                image: "i".into(),
                ..crate::quadlet::spec::example_meta("s")
            },
            state_volume: "s-state".into(),
            live: false,
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.tar");
        let mut inner = tar::Builder::new(Vec::new());
        append_bytes(&mut inner, "marker", b"volume bytes").unwrap();
        let inner = inner.into_inner().unwrap();
        std::fs::write(&state, &inner).unwrap();
        let file = dir.path().join("a.tar");
        let units = [("s.container".to_owned(), "[Container]\n".to_owned())];
        write(File::create(&file).unwrap(), &manifest(), &units, &state).unwrap();
        let out = dir.path().join("out.tar");
        let (m, bytes) = read(&file, &out).unwrap();
        assert_eq!(m, manifest());
        assert_eq!(read_manifest(&file).unwrap(), (bytes, manifest()));
        assert_eq!(std::fs::read(&out).unwrap(), inner);
    }

    fn archive_with(dir: &Path, manifest: &[u8], with_state: bool) -> std::path::PathBuf {
        let file = dir.join("x.tar");
        let mut b = tar::Builder::new(File::create(&file).unwrap());
        append_bytes(&mut b, MANIFEST, manifest).unwrap();
        if with_state {
            append_bytes(&mut b, STATE, b"").unwrap();
        }
        b.into_inner().unwrap();
        file
    }

    #[test]
    fn bad_archives_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let err = |m: &[u8], s: bool| {
            let f = archive_with(dir.path(), m, s);
            read(&f, &out).unwrap_err()
        };
        let e = err(b"{nope", true);
        assert_eq!(e.kind(), ExitKind::Usage);
        assert!(e.to_string().contains("is not JSON"), "{e}");
        let e = err(br#"{"ccy_version":"1"}"#, true);
        assert!(e.to_string().contains("no format version"), "{e}");
        let e = err(br#"{"format":1}"#, true);
        assert!(e.to_string().contains("missing field"), "{e}");
        let e = err(br#"{"format":99,"ccy_version":"9.0.0"}"#, true);
        assert_eq!(e.kind(), ExitKind::Environment);
        assert!(e.to_string().contains("archive format 99"), "{e}");
        let good = serde_json::to_vec(&manifest()).unwrap();
        let e = err(&good, false);
        assert!(e.to_string().contains("no state.tar"), "{e}");
        std::fs::write(dir.path().join("plain"), "not a tar at all\n").unwrap();
        let e = read(&dir.path().join("plain"), &out).unwrap_err();
        assert_eq!(e.kind(), ExitKind::Usage);
    }

    /// One inner entry: name, type, link target.
    fn state_with(dir: &Path, entries: &[(&str, tar::EntryType, &str)]) -> std::path::PathBuf {
        let file = dir.join("state.tar");
        let mut b = tar::Builder::new(File::create(&file).unwrap());
        for (name, kind, target) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_size(0);
            if !target.is_empty() {
                h.set_link_name(target).unwrap();
            }
            // Write the raw name: `append_data` refuses `..` itself.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, &[][..]).unwrap();
        }
        b.into_inner().unwrap();
        file
    }

    #[test]
    fn state_entries_are_checked() {
        use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};
        let dir = tempfile::tempdir().unwrap();
        let a = Path::new("a.tar");
        let check = |e: &[(&str, tar::EntryType, &str)]| check_state(a, &state_with(dir.path(), e));
        check(&[
            ("d/", Directory, ""),
            ("d/f", Regular, ""),
            ("d/l", Symlink, "f"),
            ("up", Symlink, "d/../d/f"),
            ("h", Link, "d/f"),
        ])
        .unwrap();
        for (entries, says) in [
            (
                vec![
                    ("esc", Symlink, "/home/dev"),
                    ("esc/victim.txt", Regular, ""),
                ],
                "\"esc\"",
            ),
            (vec![("esc", Symlink, "../..")], "outside the volume"),
            (vec![("d/esc", Symlink, "../../x")], "outside the volume"),
            (
                vec![("l", Symlink, "d"), ("l/f", Regular, "")],
                "under the symbolic link",
            ),
            (vec![("/etc/passwd", Regular, "")], "absolute path"),
            (vec![("a/../../x", Regular, "")], "'..'"),
            (vec![("a/../b", Regular, "")], "'..'"),
            (vec![("h", Link, "/etc/shadow")], "hard link"),
            (vec![("h", Link, "../x")], "hard link"),
            (vec![("h", Link, "nothing-before")], "hard link"),
            (vec![("c", Char, "")], "character device"),
            (vec![("b", Block, "")], "block device"),
            (vec![("p", Fifo, "")], "FIFO"),
        ] {
            let e = check(&entries).unwrap_err();
            assert_eq!(e.kind(), ExitKind::Usage);
            assert!(e.to_string().contains(says), "{entries:?}: {e}");
        }
        std::fs::write(dir.path().join("junk"), "garbage, not a tar archive\n").unwrap();
        let e = check_state(a, &dir.path().join("junk")).unwrap_err();
        assert!(e.to_string().contains("not a tar archive"), "{e}");
    }
}
