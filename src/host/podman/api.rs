//! Queries over Podman's REST API (libpod), through the `podman-api`
//! crate: this is the only file that imports it. When the socket does not
//! listen, ccy starts `podman.socket` through the user manager
//! (podman-system-service(1)). The crate models Podman 4.4's API; the
//! calls used here are unchanged in Podman 5 (README, "Development").

use std::collections::BTreeMap;
use std::path::Path;

use podman_api::Podman;
use podman_api::opts::{ContainerListFilter, ContainerListOpts};

use crate::contract::LABEL_PROJECT;
use crate::error::{Error, Result};
use crate::host::podman::{
    ContainerInfo, ContainerStats, FsChange, ImageSummary, MIN_PODMAN, parse_version,
};
use crate::host::systemd::{JobResult, UserManager};
use crate::paths::Paths;

/// A client of the rootless Podman API.
#[derive(Debug, Clone)]
pub struct PodmanApi {
    api: Podman,
}

fn api_error(what: &str, e: &podman_api::Error) -> Error {
    Error::failure(format!("{what}: {e}")).hint("check Podman with 'ccy doctor'")
}

/// Awaits the API call `call`; its error becomes ccy's, saying `what`
/// could not be done (as [`api_error`]).
async fn ask<T>(what: &str, call: impl Future<Output = podman_api::Result<T>>) -> Result<T> {
    call.await.map_err(|e| api_error(what, &e))
}

impl PodmanApi {
    /// Connects to the API socket, first starting `podman.socket` through
    /// `manager` when the socket file does not exist.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Environment`] when the socket cannot be made available.
    pub async fn connect(paths: &Paths, manager: &UserManager) -> Result<Self> {
        let socket = paths.podman_socket();
        // A stopped podman.socket leaves its file behind (systemd's
        // RemoveOnStop= defaults to no), so existence proves nothing: ask
        // the socket itself. Connecting costs microseconds; a listening
        // socket unit then starts podman.service as it would anyway.
        if !listening(&socket) {
            let result = manager.start("podman.socket").await.map_err(|e| {
                Error::environment("cannot start podman.socket in your user manager")
                    .with_source(e)
                    .hint("install Podman 5 (it ships podman.socket) and run 'ccy doctor'")
            })?;
            if result != JobResult::Done || !listening(&socket) {
                return Err(Error::environment(format!(
                    "podman.socket did not provide {} (job {})",
                    socket.display(),
                    result.as_str()
                ))
                .hint("run 'systemctl --user status podman.socket'"));
            }
        }
        Ok(Self {
            api: Podman::unix(socket),
        })
    }

    /// A client of the API socket at `socket`, without checking that it
    /// exists or starting anything (`ccy doctor` looks, never changes).
    #[must_use]
    pub fn at(socket: &Path) -> Self {
        Self {
            api: Podman::unix(socket),
        }
    }

    /// The server's version as `(major, minor, full string)`.
    ///
    /// # Errors
    /// When the API call fails or the version is not `X.Y…`.
    pub async fn version(&self) -> Result<(u32, u32, String)> {
        let v = ask("cannot ask Podman for its version", self.api.version()).await?;
        let full = v.version.unwrap_or_default();
        parse_version(&full)
            .map(|(a, b)| (a, b, full.clone()))
            .ok_or_else(|| Error::failure(format!("cannot parse Podman version {full:?}")))
    }

    /// Checks that the server is at least [`MIN_PODMAN`].
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Environment`] naming the version found.
    pub async fn check_version(&self) -> Result<()> {
        // `_ping` answers from headers (`Libpod-API-Version` is Podman's
        // own version) in a few ms; `/version` also runs conmon and the OCI
        // runtime to ask theirs: 100-200 ms on a busy machine (BENCHMARKS.md).
        // A server without that header (not Podman) is asked the slow way.
        let (major, minor, full) = match self.api.ping().await {
            Ok(ping) => match parse_version(&ping.libpod_api_version) {
                Some((a, b)) => (a, b, ping.libpod_api_version),
                None => self.version().await?,
            },
            Err(_) => self.version().await?,
        };
        if (major, minor) < MIN_PODMAN {
            return Err(Error::environment(format!(
                "Podman {full} is too old: ccy needs Podman {}.{} or newer",
                MIN_PODMAN.0, MIN_PODMAN.1
            ))
            .hint("upgrade Podman from your distribution (Fedora 40+, Debian 13+)"));
        }
        Ok(())
    }

    /// All ccy session containers (label `ccy.project` present), optionally
    /// only those with label `key=value`. One API call.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn session_containers(
        &self,
        label: Option<(&str, &str)>,
    ) -> Result<Vec<ContainerInfo>> {
        let filter = match label {
            Some((k, v)) => ContainerListFilter::LabelKeyVal(k.to_owned(), v.to_owned()),
            None => ContainerListFilter::LabelKey(LABEL_PROJECT.to_owned()),
        };
        let opts = ContainerListOpts::builder()
            .all(true)
            .filter([filter])
            .build();
        let list = ask("cannot list containers", self.api.containers().list(&opts)).await?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let labels: BTreeMap<String, String> =
                    c.labels.unwrap_or_default().into_iter().collect();
                if !labels.contains_key(LABEL_PROJECT) {
                    return None;
                }
                Some(ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .unwrap_or_default(),
                    state: c.state.unwrap_or_default(),
                    labels,
                    image: c.image.unwrap_or_default(),
                    started_at: c
                        .started_at
                        .and_then(|t| u64::try_from(t).ok())
                        .filter(|t| *t > 0),
                })
            })
            .collect())
    }

    /// Whether `image` exists in local storage.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn image_exists(&self, image: &str) -> Result<bool> {
        let what = format!("cannot look up image {image}");
        ask(&what, self.api.images().get(image).exists()).await
    }

    /// `image` inspected, or `None` when it does not exist.
    async fn inspect_image(&self, image: &str) -> Result<Option<podman_api::models::ImageData>> {
        if !self.image_exists(image).await? {
            return Ok(None);
        }
        let what = format!("cannot inspect image {image}");
        ask(&what, self.api.images().get(image).inspect())
            .await
            .map(Some)
    }

    /// The labels of `image`, or `None` when it does not exist.
    ///
    /// # Errors
    /// When the API call fails for another reason than absence.
    pub async fn image_labels(&self, image: &str) -> Result<Option<BTreeMap<String, String>>> {
        Ok(self
            .inspect_image(image)
            .await?
            .map(|i| i.labels.unwrap_or_default().into_iter().collect()))
    }

    /// The id of `image`, or `None` when it does not exist.
    ///
    /// # Errors
    /// When the API call fails for another reason than absence.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>> {
        Ok(self.inspect_image(image).await?.and_then(|i| i.id))
    }

    /// Gives `image` (a name or id) the name `repo:tag` too, moving the
    /// name when another image had it (`POST /libpod/images/ID/tag`).
    ///
    /// # Errors
    /// When the API call fails (no such image).
    pub async fn tag_image(&self, image: &str, repo: &str, tag: &str) -> Result<()> {
        let opts = podman_api::opts::ImageTagOpts::builder()
            .repo(repo)
            .tag(tag)
            .build();
        let what = format!("cannot tag image {image} as {repo}:{tag}");
        ask(&what, self.api.images().get(image).tag(&opts)).await
    }

    /// Removes the image names `names` at once (`DELETE
    /// /libpod/images/remove?ignore=true`): an image goes when no other
    /// name, container or child image needs it, with its parents that
    /// nothing else needs; otherwise only the name goes. Missing names are
    /// ignored.
    ///
    /// # Errors
    /// When the API call fails (an image in use by a container).
    pub async fn remove_images(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let opts = podman_api::opts::ImagesRemoveOpts::builder()
            .ignore(true)
            .images(names.iter().cloned())
            .build();
        let report = ask("cannot remove images", self.api.images().remove(&opts)).await?;
        match report.errors.unwrap_or_default().first() {
            Some(e) => Err(Error::failure(format!("cannot remove an image: {e}"))),
            None => Ok(()),
        }
    }

    /// Removes the dangling images (no name, no child) that carry the
    /// label `key` and that no container uses (`POST
    /// /libpod/images/prune?filters={"label":["KEY"]}`).
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn prune_images_labelled(&self, key: &str) -> Result<()> {
        let opts = podman_api::opts::ImagePruneOpts::builder()
            .filter([podman_api::opts::ImagePruneFilter::LabelKey(key.to_owned())])
            .build();
        ask(
            "cannot remove unused images",
            self.api.images().prune(&opts),
        )
        .await
        .map(|_| ())
    }

    /// Every image in local storage, intermediate ones included
    /// (`GET /libpod/images/json?all=true`).
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn images(&self) -> Result<Vec<ImageSummary>> {
        let opts = podman_api::opts::ImageListOpts::builder().all(true).build();
        let list = ask("cannot list images", self.api.images().list(&opts)).await?;
        Ok(list
            .into_iter()
            .map(|i| ImageSummary {
                id: i.id.unwrap_or_default(),
                size: i.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                labels: i.labels.unwrap_or_default().into_iter().collect(),
                names: i.repo_tags.unwrap_or_default(),
            })
            .collect())
    }

    /// Whether the Podman network `name` exists.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn network_exists(&self, name: &str) -> Result<bool> {
        let what = format!("cannot look up network {name}");
        ask(&what, self.api.networks().get(name).exists()).await
    }

    /// Creates volume `name` with `labels` unless it exists. Returns whether
    /// it was created.
    ///
    /// # Errors
    /// When an API call fails.
    pub async fn ensure_volume(&self, name: &str, labels: &[(&str, &str)]) -> Result<bool> {
        if self.volume_exists(name).await? {
            return Ok(false);
        }
        let opts = podman_api::opts::VolumeCreateOpts::builder()
            .name(name)
            .labels(labels.iter().copied())
            .build();
        match self.api.volumes().create(&opts).await {
            Ok(_) => Ok(true),
            // Another ccy created it since the check (sessions of one
            // project created at once share it): that is what we wanted.
            Err(_) if self.volume_exists(name).await? => Ok(false),
            Err(e) => Err(api_error(&format!("cannot create volume {name}"), &e)),
        }
    }

    /// The names of the secrets carrying label `key`, with its value.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn secrets_with_label(&self, key: &str) -> Result<Vec<(String, String)>> {
        let list = ask("cannot list secrets", self.api.secrets().list()).await?;
        Ok(list
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec?;
                let value = spec.labels?.get(key)?.clone();
                Some((spec.name?, value))
            })
            .collect())
    }

    /// One sample of `container`'s resource use (libpod
    /// `GET /containers/stats?stream=false`, the numbers of `podman stats
    /// --no-stream`). One API call.
    ///
    /// # Errors
    /// When the API call fails or reports an error (for example the
    /// container is not running).
    pub async fn stats(&self, container: &str) -> Result<ContainerStats> {
        let what = format!("cannot read the resource use of {container}");
        let v = ask(&what, self.api.containers().get(container).stats()).await?;
        ContainerStats::from_json(&v).map_err(|why| Error::failure(format!("{what}: {why}")))
    }

    /// Whether volume `name` exists.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn volume_exists(&self, name: &str) -> Result<bool> {
        let what = format!("cannot look up volume {name}");
        ask(&what, self.api.volumes().get(name).exists()).await
    }
}

impl PodmanApi {
    /// Whether a container named (or with id) `name` exists, in any state.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn container_exists(&self, name: &str) -> Result<bool> {
        let what = format!("cannot look up container {name}");
        ask(&what, self.api.containers().get(name).exists()).await
    }

    /// Removes volume `name` (`DELETE /libpod/volumes/NAME`, not forced: a
    /// volume still used by a container is refused).
    ///
    /// # Errors
    /// When the API refuses, with Podman's reason.
    pub async fn remove_volume(&self, name: &str) -> Result<()> {
        self.api.volumes().get(name).delete().await.map_err(|e| {
            Error::failure(format!("cannot remove volume {name}: {e}")).hint(format!(
                "see what uses it with 'podman ps -a --filter volume={name}'"
            ))
        })
    }
}

impl PodmanApi {
    /// The filesystem changes of container `name` since it was created
    /// (podman-diff(1)); one API call.
    ///
    /// # Errors
    /// When the API call fails (no such container, for one).
    pub async fn changes(&self, name: &str) -> Result<Vec<FsChange>> {
        let opts = podman_api::opts::ChangesOpts::builder().build();
        let what = format!("cannot list the changes of container {name}");
        let list = ask(&what, self.api.containers().get(name).changes(&opts)).await?;
        Ok(list
            .into_iter()
            .map(|c| FsChange {
                kind: match c.kind {
                    0 => 'C',
                    1 => 'A',
                    2 => 'D',
                    _ => '?',
                },
                path: c.path,
            })
            .collect())
    }

    /// All volumes (one API call).
    async fn volumes(&self) -> Result<Vec<podman_api::models::Volume>> {
        let opts = podman_api::opts::VolumeListOpts::builder().build();
        ask("cannot list volumes", self.api.volumes().list(&opts)).await
    }

    /// The names of all volumes (one API call).
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn volume_names(&self) -> Result<std::collections::BTreeSet<String>> {
        let list = self.volumes().await?;
        Ok(list.into_iter().map(|v| v.name).collect())
    }

    /// The names of the volumes carrying label `key`, with its value (one
    /// API call).
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn volumes_with_label(&self, key: &str) -> Result<Vec<(String, String)>> {
        let list = self.volumes().await?;
        Ok(list
            .into_iter()
            .filter_map(|v| {
                let value = v.labels.get(key)?.clone();
                Some((v.name, value))
            })
            .collect())
    }

    /// Removes secret `name` (`DELETE /libpod/secrets/NAME`).
    ///
    /// # Errors
    /// When the API refuses, with Podman's reason.
    pub async fn remove_secret(&self, name: &str) -> Result<()> {
        self.api
            .secrets()
            .get(name)
            .delete()
            .await
            .map_err(|e| Error::failure(format!("cannot remove secret {name}: {e}")))
    }

    /// Where container `name` has volumes and bind mounts (`Mounts[].
    /// Destination` of its inspection; Podman's own `/etc/hosts` and the
    /// like are not listed). One API call.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn mount_destinations(&self, name: &str) -> Result<Vec<String>> {
        let what = format!("cannot inspect container {name}");
        let data = ask(&what, self.api.containers().get(name).inspect()).await?;
        Ok(data
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.destination)
            .collect())
    }
}

/// Whether something accepts connections on the Unix socket `path` (a
/// connect(2) that succeeds; `ECONNREFUSED` when the file is a leftover of
/// a stopped socket unit, `ENOENT` when there is none).
fn listening(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}
