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

/// Reads the archive `file`: checks its manifest and copies the volume
/// contents into `state_out`. Reference unit files are skipped.
///
/// # Errors
/// As [`parse_manifest`]; [`ExitKind::Usage`] when the file is not a tar
/// archive, or lacks the manifest or the volume contents;
/// [`ExitKind::Failure`] when it cannot be read.
pub fn read(file: &Path, state_out: &Path) -> Result<Manifest> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(f);
    let mut manifest = None;
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
                if entry.size() > MAX_MANIFEST {
                    return Err(bad(file, &format!("{MANIFEST} is too large")));
                }
                let mut text = Vec::new();
                entry
                    .read_to_end(&mut text)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                manifest = Some(parse_manifest(file, &text)?);
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
    Ok(manifest)
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
                name: "s".into(),
                project: "p".into(),
                worktree: "/w".into(),
                branch: "main".into(),
                created: "2026-11-21T04:00:00Z".into(),
                image: "i".into(),
                created_worktree: None,
                options: None,
                state_volume: None,
            },
            state_volume: "s-state".into(),
            live: false,
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.tar");
        std::fs::write(&state, b"volume bytes").unwrap();
        let file = dir.path().join("a.tar");
        let units = [("s.container".to_owned(), "[Container]\n".to_owned())];
        write(File::create(&file).unwrap(), &manifest(), &units, &state).unwrap();
        let out = dir.path().join("out.tar");
        assert_eq!(read(&file, &out).unwrap(), manifest());
        assert_eq!(std::fs::read(&out).unwrap(), b"volume bytes");
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
}
