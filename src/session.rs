//! The session operations the verbs share. A session is a Quadlet
//! `NAME.container` (+ `NAME.volume`) in the user's Quadlet directory, the
//! systemd unit generated from it, and — while it runs — a container of
//! the same name running tmux with the agent. Quadlet runs containers with
//! `--rm`, so a stopped session has no container: its unit file is the
//! record ([`store`]).
//!
//! [`Host`] is what every operation starts from: the user manager, and
//! the Podman API, connected when first needed (its socket-activated
//! service may have to start, which the fast paths avoid).

pub mod agent_status;
pub mod archive;
pub mod attach;
pub mod checks;
pub mod create;
pub mod find;
pub mod fleet;
pub mod image;
pub mod keep;
pub mod notify;
pub mod options;
pub mod orphans;
pub mod remote;
pub mod remove;
pub mod reset;
pub mod safety;
pub mod start;
pub mod stop;
pub mod store;
pub mod timer;
pub mod token;
pub mod trust;

use tokio::sync::OnceCell;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::host::podman::api::PodmanApi;
use crate::host::systemd::UserManager;
use crate::paths::Paths;

/// The outside systems one ccy run works with: the user's systemd manager
/// (connected by [`Host::connect`]) and the rootless Podman API (connected
/// on first use by [`Host::api`]).
#[derive(Debug)]
pub struct Host<'a> {
    /// The run's context: paths, working directory, runtime.
    pub ctx: &'a Ctx,
    /// The user's systemd manager.
    pub mgr: UserManager,
    api: OnceCell<PodmanApi>,
}

impl<'a> Host<'a> {
    /// Connects to the user manager at [`Paths::user_bus_address`].
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Environment`] when there is no user bus or
    /// manager (see [`UserManager::connect`]).
    pub async fn connect(ctx: &'a Ctx) -> Result<Self> {
        let mgr = UserManager::connect(&ctx.paths).await?;
        crate::trace::mark("user manager connected");
        Ok(Self {
            ctx,
            mgr,
            api: OnceCell::new(),
        })
    }

    /// The Podman API, connected on the first call (starting
    /// `podman.socket` through the user manager when it does not listen).
    ///
    /// # Errors
    /// As [`PodmanApi::connect`].
    pub async fn api(&self) -> Result<&PodmanApi> {
        self.api
            .get_or_try_init(|| PodmanApi::connect(&self.ctx.paths, &self.mgr))
            .await
    }

    /// The host paths.
    #[must_use]
    pub fn paths(&self) -> &Paths {
        &self.ctx.paths
    }

    /// `session.max_running` for starting `info`: from the configuration
    /// of its worktree (the user's alone for a container without ccy's
    /// unit file).
    ///
    /// # Errors
    /// An invalid configuration ([`crate::error::ExitKind::Usage`]).
    pub fn max_running(&self, info: &find::SessionInfo) -> Result<u32> {
        Ok(self
            .ctx
            .config(info.worktree_path())?
            .finish()?
            .config
            .session
            .max_running)
    }

    /// Every session of the user ([`find::all_sessions`]).
    ///
    /// # Errors
    /// As [`find::all_sessions`] and [`Host::api`].
    pub async fn sessions(&self) -> Result<Vec<find::SessionInfo>> {
        find::all_sessions(self.paths(), &self.mgr, self.api().await?).await
    }
}
