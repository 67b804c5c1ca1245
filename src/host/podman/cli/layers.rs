//! The `podman` processes behind a session's kept layer (`ccy keep-layer`,
//! issue 11 §2) that the REST API does not model, or not as Podman 5 does:
//! image facts and diffs (podman-image-inspect(1), podman-diff(1)), the
//! container's mount points, commit, tag, remove and prune of images, and
//! the rebase of a long layer chain onto the clean image.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{podman_quiet, podman_stdout, remove_container};
use crate::error::{Error, Result};

/// What ccy reads of an image (`podman image inspect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// The full image id.
    pub id: String,
    /// The size of all its layers, bytes.
    pub size: u64,
    /// How many layers it has (`RootFS.Layers`).
    pub layers: usize,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Parses `podman image inspect --format json` output (an array; the
/// first element is the image).
///
/// # Errors
/// The reason the text is not such an array.
pub fn parse_image_facts(json: &str) -> std::result::Result<ImageFacts, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let img = v.get(0).ok_or("empty inspect output")?;
    let id = img
        .get("Id")
        .and_then(serde_json::Value::as_str)
        .ok_or("no Id")?
        .to_owned();
    let size = img
        .get("Size")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let layers = img
        .pointer("/RootFS/Layers")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    let labels = img
        .get("Labels")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageFacts {
        id,
        size,
        layers,
        labels,
    })
}

/// Inspects `image` (`podman image inspect --format json`); `None` when
/// there is no such image.
///
/// # Errors
/// When podman cannot run, fails otherwise, or prints what ccy cannot read.
pub fn image_facts(image: &str) -> Result<Option<ImageFacts>> {
    let out = Command::new("podman")
        .args(["image", "inspect", "--format", "json", image])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::environment("cannot run podman").with_source(e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("image not known") || err.contains("no such image") {
            return Ok(None);
        }
        return Err(Error::failure(format!(
            "cannot inspect image {image}: {}",
            err.trim()
        )));
    }
    parse_image_facts(&String::from_utf8_lossy(&out.stdout))
        .map(Some)
        .map_err(|e| Error::failure(format!("cannot read the inspection of image {image}: {e}")))
}

/// Parses `podman diff --format json` output
/// (`{"changed": […], "added": […], "deleted": […]}`).
///
/// # Errors
/// The reason the text is not such an object.
pub fn parse_diff(json: &str) -> std::result::Result<Vec<crate::host::podman::FsChange>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (key, kind) in [("changed", 'C'), ("added", 'A'), ("deleted", 'D')] {
        match v.get(key) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(paths)) => {
                for p in paths {
                    let path = p.as_str().ok_or("a path is not a string")?;
                    out.push(crate::host::podman::FsChange {
                        kind,
                        path: path.to_owned(),
                    });
                }
            }
            Some(_) => return Err(format!("{key} is not a list")),
        }
    }
    Ok(out)
}

/// The changes of `what` (a container or an image) against `against`
/// (another image; `None`: a container against its own image):
/// `podman diff --format json WHAT [AGAINST]`. For two images, the changes
/// that turn `against` into `what`.
///
/// # Errors
/// When podman cannot run or fails (no such container).
pub fn diff(what: &str, against: Option<&str>) -> Result<Vec<crate::host::podman::FsChange>> {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        what.as_ref(),
    ];
    if let Some(a) = against {
        args.push(a.as_ref());
    }
    let out = podman_stdout(&args, &format!("cannot list the changes of {what}"))?;
    parse_diff(&out).map_err(|e| Error::failure(format!("cannot read the changes of {what}: {e}")))
}

/// Starts `podman container inspect` for the id of the image `container`
/// runs and its mount destinations (the id on the first line, then one
/// destination per line), to be read with [`running_facts_of`] while the
/// caller does something else.
///
/// # Errors
/// When podman cannot run.
pub fn start_running_facts(container: &str) -> Result<std::process::Child> {
    Command::new("podman")
        .args([
            "container",
            "inspect",
            "--format",
            "{{.Image}}\n{{range .Mounts}}{{.Destination}}\n{{end}}",
            container,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::environment("cannot run podman").with_source(e))
}

/// What [`start_running_facts`] read of a running container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunningFacts {
    /// The id of the image it runs (`None` when the inspection failed).
    pub image: Option<String>,
    /// Its mount destinations (none when the inspection failed).
    pub mounts: Vec<String>,
}

/// What [`start_running_facts`] printed ([`RunningFacts::default`] when
/// it failed).
#[must_use]
pub fn running_facts_of(child: std::process::Child) -> RunningFacts {
    child
        .wait_with_output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| parse_running_facts(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_default()
}

/// Parses [`start_running_facts`]'s output.
#[must_use]
pub fn parse_running_facts(text: &str) -> RunningFacts {
    let mut lines = text.lines();
    let image = lines
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    RunningFacts {
        image,
        mounts: lines.filter(|l| !l.is_empty()).map(str::to_owned).collect(),
    }
}

/// Sends `signal` (`USR1`) to `container`'s main process (`podman kill
/// --signal`).
///
/// # Errors
/// When podman cannot run or fails (container not running).
pub fn signal(container: &str, signal: &str) -> Result<()> {
    podman_quiet(
        &[
            "kill".as_ref(),
            "--signal".as_ref(),
            signal.as_ref(),
            container.as_ref(),
        ],
        &format!("cannot signal {container}"),
    )
}

/// Commits `container`'s layer as `image` (`podman commit -q`), with
/// `changes` (`LABEL k=v`, …) applied to the image's configuration.
///
/// # Errors
/// When podman cannot run or fails (disk full, container gone).
pub fn commit(container: &str, image: &str, changes: &[String]) -> Result<()> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["commit".as_ref(), "-q".as_ref()];
    for c in changes {
        args.push("--change".as_ref());
        args.push(c.as_ref());
    }
    args.push(container.as_ref());
    args.push(image.as_ref());
    podman_quiet(&args, &format!("cannot commit {container} as {image}"))
}

/// Tags `image` (a name or id) as `tag` too (`podman tag`), moving `tag`
/// when another image had it.
///
/// # Errors
/// When podman cannot run or fails (no such image).
pub fn tag_image(image: &str, tag: &str) -> Result<()> {
    podman_quiet(
        &["tag".as_ref(), image.as_ref(), tag.as_ref()],
        &format!("cannot tag {image} as {tag}"),
    )
}

/// Removes the image name `image` (`podman rmi --ignore`): the image goes
/// when no other name, container or child image needs it, with its parent
/// images that nothing else needs; otherwise only the name goes.
///
/// # Errors
/// When podman cannot run or refuses (a container uses the image).
pub fn remove_image(image: &str) -> Result<()> {
    podman_quiet(
        &["rmi".as_ref(), "--ignore".as_ref(), image.as_ref()],
        &format!("cannot remove image {image}"),
    )
}

/// Removes the dangling images (no name, no child) labelled `key=value`
/// that no container uses (`podman image prune --force --filter
/// label=KEY=VALUE`).
///
/// # Errors
/// When podman cannot run or fails.
pub fn prune_images(key: &str, value: &str) -> Result<()> {
    let filter = format!("label={key}={value}");
    podman_quiet(
        &[
            "image".as_ref(),
            "prune".as_ref(),
            "--force".as_ref(),
            "--filter".as_ref(),
            filter.as_ref(),
        ],
        "cannot remove unused kept-layer images",
    )
}

/// The shell script [`rebase`] runs in `podman unshare`: mounts the kept
/// image (`$1`) and the scratch container (`$2`), deletes the paths listed
/// in `$3` from the container, copies the paths listed in `$4` (relative,
/// NUL-separated, one entry each, not recursive) with owners, modes,
/// times and extended attributes, and unmounts both.
const REBASE_SCRIPT: &str = r#"set -e
src=$(podman image mount "$1")
dst=$(podman mount "$2")
trap 'podman umount "$2" >/dev/null 2>&1; podman image umount "$1" >/dev/null 2>&1' EXIT
cd "$dst"
xargs -0 -r rm -rf -- < "$3"
tar -C "$src" --null --no-recursion --numeric-owner --xattrs --xattrs-include='*' -T "$4" -cf - |
  tar -C "$dst" --numeric-owner --xattrs --xattrs-include='*' -xpf -
"#;

/// Puts the changes that turn image `base` into image `kept` into ONE
/// layer on top of `base`, tagged `out`: a scratch container `scratch`
/// from `base`, the changes copied into it in `podman unshare`
/// (`REBASE_SCRIPT`: deletions, then added and changed entries with tar),
/// committed with `changes` (`LABEL …`), then removed. `work` is a private
/// directory for the two path lists.
///
/// # Errors
/// When a step fails; the scratch container is removed in any case.
pub fn rebase(
    base: &str,
    kept: &str,
    out: &str,
    scratch: &str,
    work: &Path,
    changes: &[String],
) -> Result<()> {
    use std::io::Write as _;
    let diff = diff(kept, Some(base))?;
    let rel = |p: &str| p.trim_start_matches('/').to_owned();
    let mut deleted = Vec::new();
    let mut copied = Vec::new();
    for c in &diff {
        let p = rel(&c.path);
        if p.is_empty() {
            continue;
        }
        let list = if c.kind == 'D' {
            &mut deleted
        } else {
            &mut copied
        };
        list.extend_from_slice(p.as_bytes());
        list.push(0);
    }
    let (del_file, copy_file) = (work.join("deleted"), work.join("copied"));
    for (f, data) in [(&del_file, &deleted), (&copy_file, &copied)] {
        std::fs::File::create(f)
            .and_then(|mut h| h.write_all(data))
            .map_err(|e| Error::failure(format!("cannot write {}", f.display())).with_source(e))?;
    }
    remove_container(scratch)?;
    podman_quiet(
        &[
            "create".as_ref(),
            "--name".as_ref(),
            scratch.as_ref(),
            base.as_ref(),
        ],
        &format!("cannot create a container from {base}"),
    )?;
    let result = podman_quiet(
        &[
            "unshare".as_ref(),
            "sh".as_ref(),
            "-c".as_ref(),
            REBASE_SCRIPT.as_ref(),
            "sh".as_ref(),
            kept.as_ref(),
            scratch.as_ref(),
            del_file.as_os_str(),
            copy_file.as_os_str(),
        ],
        &format!("cannot copy the changes of {kept} onto {base}"),
    )
    .and_then(|()| commit(scratch, out, changes));
    let removed = remove_container(scratch);
    result.and(removed)
}
