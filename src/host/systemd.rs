//! The user's systemd manager and logind, over D-Bus (zbus).
//!
//! ccy talks to the *user* manager through its private bus socket
//! `$XDG_RUNTIME_DIR/bus` (falling back to `/run/user/UID/bus`), so it works
//! from SSH logins that have no `DBUS_SESSION_BUS_ADDRESS`. Linger is set
//! through logind on the system bus (`org.freedesktop.login1.Manager.
//! SetUserLinger`, org.freedesktop.login1(5)); polkit allows it for one's
//! own user without a password on Debian and Fedora.
//!
//! Jobs follow org.freedesktop.systemd1(5): `Subscribe` first, then
//! `StartUnit(name, "replace")` returns a job path and the manager emits
//! `JobRemoved(id, job, unit, result)` when the job finishes; ccy waits for
//! the signal carrying *its* job path. `Reload` returns when the reload
//! (including Quadlet's generator run) is complete.

pub mod calendar;
pub mod details;
pub mod generator;
pub mod journal;
pub mod linger;

use futures_util::StreamExt;
use zbus_systemd::systemd1::ManagerProxy;
use zbus_systemd::zbus::{self, Connection, OwnedObjectPath};

use crate::error::{Error, ExitKind, Result};
use crate::paths::Paths;

/// How many method calls [`UserManager::stop_many`] keeps in flight on
/// the one connection.
const CALLS_AT_ONCE: usize = 32;

/// A connection to the calling user's systemd manager.
#[derive(Debug, Clone)]
pub struct UserManager {
    manager: ManagerProxy<'static>,
}

/// Defines an enum of values systemd sends over D-Bus (a job's result, a
/// unit's state): one variant per value systemd documents, `Other` for any
/// value a newer systemd may add.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version of ccy does not know.
            Other(String),
        }

        impl $name {
            /// The value as systemd spells it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(wire: &str) -> Self {
                match wire {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(wire: String) -> Self {
                Self::from(wire.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// How a job ended: the `result` string of `JobRemoved`
    /// (org.freedesktop.systemd1(5)).
    JobResult {
        /// `done`: the job succeeded.
        Done = "done",
        /// `canceled`: another job replaced it.
        Canceled = "canceled",
        /// `timeout`: the unit's timeout was reached.
        Timeout = "timeout",
        /// `failed`: the unit failed.
        Failed = "failed",
        /// `dependency`: a unit it requires failed.
        Dependency = "dependency",
        /// `skipped`: nothing to do.
        Skipped = "skipped",
    }
}

wire_enum! {
    /// A unit's `LoadState` (org.freedesktop.systemd1(5); systemctl
    /// `--state=help` lists the values).
    LoadState {
        /// `loaded`: the unit file was read.
        Loaded = "loaded",
        /// `not-found`: no unit file of that name.
        NotFound = "not-found",
        /// `bad-setting`: the unit file has an invalid setting.
        BadSetting = "bad-setting",
        /// `error`: the unit file could not be loaded.
        Error = "error",
        /// `masked`: the unit is masked.
        Masked = "masked",
        /// `stub`: not loaded yet.
        Stub = "stub",
        /// `merged`: an alias of another unit.
        Merged = "merged",
    }
}

wire_enum! {
    /// A unit's `ActiveState` (org.freedesktop.systemd1(5)).
    ActiveState {
        /// `active`: started, running.
        Active = "active",
        /// `reloading`: active, reloading its configuration.
        Reloading = "reloading",
        /// `inactive`: stopped.
        Inactive = "inactive",
        /// `failed`: stopped after a failure.
        Failed = "failed",
        /// `activating`: on its way up.
        Activating = "activating",
        /// `deactivating`: on its way down.
        Deactivating = "deactivating",
        /// `maintenance`: being cleaned.
        Maintenance = "maintenance",
        /// `refreshing`: active, refreshing its mounts.
        Refreshing = "refreshing",
    }
}

impl JobResult {
    /// `Ok(())` when the job ended `done`.
    ///
    /// # Errors
    /// For any other result, an [`ExitKind::Session`] error "`what` ended
    /// with job result R" (`what`: `stopping NAME`, `starting UNIT`).
    pub fn done_or_error(&self, what: &str) -> Result<()> {
        if *self == Self::Done {
            return Ok(());
        }
        Err(Error::new(
            ExitKind::Session,
            format!("{what} ended with job result {}", self.as_str()),
        ))
    }
}

impl Default for LoadState {
    /// `not-found`: what systemd reports for a unit it has no file of.
    fn default() -> Self {
        Self::NotFound
    }
}

impl Default for ActiveState {
    /// `inactive`.
    fn default() -> Self {
        Self::Inactive
    }
}

impl ActiveState {
    /// Whether the unit is running or on its way up (`active`,
    /// `activating`, `reloading`, `refreshing`).
    #[must_use]
    pub fn is_up(&self) -> bool {
        matches!(
            self,
            Self::Active | Self::Activating | Self::Reloading | Self::Refreshing
        )
    }
}

/// The state of one unit as `ListUnitsByNames` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitState {
    /// The unit name (`ccy-app-0123abcd.service`).
    pub name: String,
    /// Whether systemd read its unit file.
    pub load_state: LoadState,
    /// Whether it runs.
    pub active_state: ActiveState,
    /// The unit type's finer state (`running`, `dead`, `exited`, …).
    pub sub_state: String,
}

impl UnitState {
    /// Whether the unit is running or on its way up (`active`, `activating`,
    /// `reloading`, `refreshing`).
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.active_state.is_up()
    }
}

/// Test support: a unit as `ListUnitsByNames` would report it.
#[cfg(test)]
impl UnitState {
    /// Unit `name` with `load_state` and `active_state` (systemd's
    /// spellings), and no sub-state.
    pub(crate) fn example(name: &str, load_state: &str, active_state: &str) -> Self {
        Self {
            name: name.into(),
            load_state: load_state.into(),
            active_state: active_state.into(),
            sub_state: String::new(),
        }
    }
}

pub(crate) fn bus_error(what: &str, e: &zbus::Error) -> Error {
    Error::failure(format!("{what}: {e}"))
}

impl UserManager {
    /// Connects to the user manager's bus at [`Paths::user_bus_address`].
    ///
    /// # Errors
    /// [`ExitKind::Environment`] when the socket is missing or refuses the
    /// connection, with hints for SSH sessions and missing linger.
    pub async fn connect(paths: &Paths) -> Result<Self> {
        let address = paths.user_bus_address();
        let conn = zbus::connection::Builder::address(address.as_str())
            .build()
            .await
            .map_err(|e| {
                Error::environment(format!(
                    "cannot reach your systemd user manager at {}",
                    paths.runtime_dir.join("bus").display()
                ))
                .with_source(e)
                .hint("log in through a PAM session with pam_systemd (desktop or SSH), or as root run 'loginctl enable-linger USER'")
                .hint("check the user manager with 'systemctl --user status'")
            })?;
        Self::from_connection(&conn).await
    }

    /// Uses an existing connection (for tests and callers that share one).
    ///
    /// # Errors
    /// When the manager proxy cannot be created.
    pub async fn from_connection(conn: &Connection) -> Result<Self> {
        let manager = ManagerProxy::new(conn)
            .await
            .map_err(|e| bus_error("cannot talk to the user manager", &e))?;
        Ok(Self { manager })
    }

    /// `Reload` (`systemctl --user daemon-reload`): reruns generators, among
    /// them Quadlet's, and reloads all unit files. Returns when done.
    ///
    /// # Errors
    /// When the call fails (for example polkit or a manager being shut down).
    pub async fn reload(&self) -> Result<()> {
        self.manager
            .reload()
            .await
            .map_err(|e| bus_error("daemon-reload of the user manager failed", &e))
    }

    /// Starts `unit` (mode `replace`) and waits for the job to finish.
    ///
    /// # Errors
    /// When the call fails (unit not found, bad unit file). A job that ends
    /// with a result other than `done` is *not* an error here; the caller
    /// decides what to show (see [`JobResult`]).
    pub async fn start(&self, unit: &str) -> Result<JobResult> {
        self.run_job(unit, JobKind::Start).await
    }

    /// Stops `unit` (mode `replace`) and waits for the job to finish.
    ///
    /// # Errors
    /// As [`UserManager::start`].
    pub async fn stop(&self, unit: &str) -> Result<JobResult> {
        self.run_job(unit, JobKind::Stop).await
    }

    /// Stops all of `units` at once (mode `replace`): queues every job
    /// while collecting `JobRemoved` signals, then waits for the rest,
    /// rather than one round trip per unit. Returns each unit's result in
    /// order; a unit the manager refuses to stop (not loaded) is
    /// [`JobResult::Skipped`].
    ///
    /// # Errors
    /// When the manager cannot be subscribed to or the connection is lost.
    pub async fn stop_many(&self, units: &[String]) -> Result<Vec<JobResult>> {
        use std::cell::{Cell, RefCell};
        use std::collections::HashMap;

        if units.is_empty() {
            return Ok(Vec::new());
        }
        let mut removed = self.job_removed().await?;
        // Signals are read while the jobs are queued: an unread signal
        // queue would stall the connection (and with it the replies).
        let jobs: RefCell<Vec<Option<String>>> = RefCell::new(vec![None; units.len()]);
        let queued = Cell::new(false);
        let issued = Cell::new(0_usize);
        let finished: RefCell<HashMap<String, JobResult>> = RefCell::new(HashMap::new());
        // Several calls in flight at once (replies are matched by serial):
        // one round trip per unit, one after the other, was most of the
        // time of stopping hundreds.
        let issue = async {
            futures_util::stream::iter(units.iter().enumerate())
                .map(|(i, unit)| async move {
                    let job = self
                        .manager
                        .stop_unit(unit.clone(), "replace".to_owned())
                        .await;
                    (i, job)
                })
                .buffer_unordered(CALLS_AT_ONCE)
                .for_each(|(i, job)| {
                    if let Ok(job) = job {
                        jobs.borrow_mut()[i] = Some(job.as_str().to_owned());
                        issued.set(issued.get() + 1);
                    }
                    std::future::ready(())
                })
                .await;
            queued.set(true);
        };
        let collect = async {
            loop {
                // The full check only once enough jobs have ended: a pass
                // over every job for every signal would be quadratic.
                let all_done = queued.get() && finished.borrow().len() >= issued.get() && {
                    let f = finished.borrow();
                    jobs.borrow().iter().flatten().all(|j| f.contains_key(j))
                };
                if all_done {
                    return Ok(());
                }
                match tokio::time::timeout(std::time::Duration::from_millis(20), removed.next())
                    .await
                {
                    Err(_) => {}
                    Ok(None) => {
                        return Err(Error::failure(
                            "lost the connection to the user manager while stopping units",
                        ));
                    }
                    Ok(Some(signal)) => {
                        let args = signal
                            .args()
                            .map_err(|e| bus_error("malformed JobRemoved signal", &e))?;
                        finished.borrow_mut().insert(
                            args.job().as_str().to_owned(),
                            JobResult::from(args.result().as_str()),
                        );
                    }
                }
            }
        };
        let ((), collected) = tokio::join!(issue, collect);
        collected?;
        let finished = finished.into_inner();
        Ok(jobs
            .into_inner()
            .into_iter()
            .map(|j| {
                j.and_then(|j| finished.get(&j).cloned())
                    .unwrap_or(JobResult::Skipped)
            })
            .collect())
    }

    /// Restarts `unit` (`RestartUnit`, mode `replace`: stops it, then
    /// starts it; starts it when it is not running) and waits for the job.
    /// For a Quadlet container unit this removes the container and creates
    /// a new one from the image, with the same volumes.
    ///
    /// # Errors
    /// As [`UserManager::start`].
    pub async fn restart(&self, unit: &str) -> Result<JobResult> {
        self.run_job(unit, JobKind::Restart).await
    }

    /// `EnableUnitFiles([unit], runtime=false, force=true)` (`systemctl
    /// --user enable`): creates the `[Install]` symlinks of a unit file in
    /// the user's unit directory, replacing any in the way.
    ///
    /// # Errors
    /// When the call fails (no such unit file, no `[Install]` section).
    pub async fn enable_unit_file(&self, unit: &str) -> Result<()> {
        self.manager
            .enable_unit_files(vec![unit.to_owned()], false, true)
            .await
            .map(|_| ())
            .map_err(|e| bus_error(&format!("cannot enable {unit}"), &e))
    }

    /// `DisableUnitFiles([unit], runtime=false)` (`systemctl --user
    /// disable`): removes the unit's `[Install]` symlinks.
    ///
    /// # Errors
    /// When the call fails for a reason other than the unit file being
    /// gone already.
    pub async fn disable_unit_file(&self, unit: &str) -> Result<()> {
        match self
            .manager
            .disable_unit_files(vec![unit.to_owned()], false)
            .await
        {
            Ok(_) => Ok(()),
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
            {
                Ok(())
            }
            Err(e) => Err(bus_error(&format!("cannot disable {unit}"), &e)),
        }
    }

    /// Subscribes to the user manager's signals and returns its `JobRemoved`
    /// stream (org.freedesktop.systemd1(5)). One subscription per
    /// connection: a second job in the same run (stop several units, start
    /// podman.socket then a session) gets `AlreadySubscribed`, which is fine.
    ///
    /// # Errors
    /// When the subscription or the signal match cannot be set up.
    async fn job_removed(&self) -> Result<zbus_systemd::systemd1::JobRemovedStream> {
        match self.manager.subscribe().await {
            Ok(()) => {}
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.systemd1.AlreadySubscribed" => {}
            Err(e) => return Err(bus_error("cannot subscribe to user manager signals", &e)),
        }
        self.manager
            .receive_job_removed()
            .await
            .map_err(|e| bus_error("cannot listen for JobRemoved", &e))
    }

    async fn run_job(&self, unit: &str, kind: JobKind) -> Result<JobResult> {
        // Listen before queueing the job: a job on an already-active unit can
        // finish before the method reply arrives.
        let mut removed = self.job_removed().await?;
        let call = match kind {
            JobKind::Start => {
                self.manager
                    .start_unit(unit.to_owned(), "replace".to_owned())
                    .await
            }
            JobKind::Stop => {
                self.manager
                    .stop_unit(unit.to_owned(), "replace".to_owned())
                    .await
            }
            JobKind::Restart => {
                self.manager
                    .restart_unit(unit.to_owned(), "replace".to_owned())
                    .await
            }
        };
        let job: OwnedObjectPath = call.map_err(|e| {
            Error::new(ExitKind::Session, format!("cannot {} {unit}", kind.verb()))
                .with_source(e)
                .hint(format!("look at 'journalctl --user -u {unit}'"))
        })?;
        while let Some(signal) = removed.next().await {
            let args = signal
                .args()
                .map_err(|e| bus_error("malformed JobRemoved signal", &e))?;
            if args.job().as_str() == job.as_str() {
                return Ok(JobResult::from(args.result().as_str()));
            }
        }
        Err(Error::failure(format!(
            "lost the connection to the user manager while waiting to {} {unit}",
            kind.verb()
        )))
    }

    /// The state of each of `units`, in the same order, in one
    /// `ListUnitsByNames` call. Units that were never loaded come back with
    /// `load_state` `not-found` and `active_state` `inactive`.
    ///
    /// # Errors
    /// When the call fails.
    pub async fn unit_states(&self, units: &[String]) -> Result<Vec<UnitState>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let list = self
            .manager
            .list_units_by_names(units.to_vec())
            .await
            .map_err(|e| bus_error("cannot list units", &e))?;
        Ok(list
            .into_iter()
            .map(|(name, _desc, load, active, sub, ..)| UnitState {
                name,
                load_state: load.into(),
                active_state: active.into(),
                sub_state: sub,
            })
            .collect())
    }

    /// The state of one unit (see [`UserManager::unit_states`]).
    ///
    /// # Errors
    /// When the call fails.
    pub async fn unit_state(&self, unit: &str) -> Result<UnitState> {
        self.unit_states(&[unit.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| Error::failure(format!("the user manager did not report {unit}")))
    }

    /// `ResetFailed` of one unit, so a failed session can be started again
    /// and leaves the `failed` list.
    ///
    /// # Errors
    /// When the call fails for a reason other than the unit not being loaded.
    pub async fn reset_failed(&self, unit: &str) -> Result<()> {
        match self.manager.reset_failed_unit(unit.to_owned()).await {
            Ok(()) => Ok(()),
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
            {
                Ok(())
            }
            Err(e) => Err(bus_error(
                &format!("cannot reset the failed state of {unit}"),
                &e,
            )),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum JobKind {
    Start,
    Stop,
    Restart,
}

impl JobKind {
    fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn job_results_round_trip() {
        for s in [
            "done",
            "canceled",
            "timeout",
            "failed",
            "dependency",
            "skipped",
            "weird",
        ] {
            assert_eq!(JobResult::from(s).as_str(), s);
        }
        assert_eq!(JobResult::from("done"), JobResult::Done);
    }

    #[test]
    fn only_done_is_not_an_error() {
        assert!(JobResult::Done.done_or_error("stopping x").is_ok());
        let e = JobResult::from("timeout")
            .done_or_error("stopping x")
            .unwrap_err();
        assert_eq!(e.kind(), ExitKind::Session);
        assert_eq!(e.message(), "stopping x ended with job result timeout");
    }

    #[test]
    fn up_states() {
        let st = |a: &str| UnitState::example("x.service", "loaded", a);
        assert!(st("active").is_up());
        assert!(st("activating").is_up());
        assert!(!st("inactive").is_up());
        assert!(!st("failed").is_up());
        assert!(!st("deactivating").is_up());
    }
}
