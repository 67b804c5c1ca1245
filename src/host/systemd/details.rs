//! What `ccy status` and `ccy timer status` show of a unit: its
//! properties (org.freedesktop.systemd1(5)), read with `LoadUnit` and the
//! unit's, timer's and service's property interfaces.

use zbus_systemd::systemd1::{ServiceProxy, TimerProxy, UnitProxy};
use zbus_systemd::zbus;

use crate::error::Result;
use crate::host::systemd::{ActiveState, LoadState, UserManager, bus_error};

/// What `ccy status` shows of one unit, read from its
/// `org.freedesktop.systemd1.Unit` properties (org.freedesktop.systemd1(5)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitDetails {
    /// `LoadState`.
    pub load_state: LoadState,
    /// `ActiveState`.
    pub active_state: ActiveState,
    /// `SubState`.
    pub sub_state: String,
    /// `ActiveEnterTimestamp`: when the unit last became active, µs since
    /// the Unix epoch; 0 when it never did.
    pub active_enter_usec: u64,
    /// `FragmentPath`: the unit file systemd loaded (for a Quadlet unit, the
    /// generator's output); empty when not loaded.
    pub fragment_path: String,
    /// `SourcePath`: the file the unit was generated from (the
    /// `.container` file); empty when none.
    pub source_path: String,
}

impl UserManager {
    /// The [`UnitDetails`] of `unit`: `LoadUnit` (loads it if needed, as
    /// `systemctl show` does) and one property read per field, without
    /// caching or signal subscriptions.
    ///
    /// # Errors
    /// When a call fails.
    pub async fn unit_details(&self, unit: &str) -> Result<UnitDetails> {
        let err = |e: zbus::Error| bus_error(&format!("cannot read the properties of {unit}"), &e);
        let path = self.manager.load_unit(unit.to_owned()).await.map_err(err)?;
        let proxy = UnitProxy::builder(self.manager.inner().connection())
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(err)?;
        Ok(UnitDetails {
            load_state: proxy.load_state().await.map_err(err)?.into(),
            active_state: proxy.active_state().await.map_err(err)?.into(),
            sub_state: proxy.sub_state().await.map_err(err)?,
            active_enter_usec: proxy.active_enter_timestamp().await.map_err(err)?,
            fragment_path: proxy.fragment_path().await.map_err(err)?,
            source_path: proxy.source_path().await.map_err(err)?,
        })
    }
}

/// What `ccy timer status` shows of a timer and the service it starts
/// (properties of `org.freedesktop.systemd1.Unit`, `.Timer` and
/// `.Service`, org.freedesktop.systemd1(5)). Timestamps are µs since the
/// Unix epoch, 0 when it never happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimerDetails {
    /// The timer's `LoadState` (`not-found` when there is no unit file).
    pub load_state: LoadState,
    /// The timer's `UnitFileState` (`enabled`, `disabled`, …).
    pub unit_file_state: String,
    /// The timer's `ActiveState` (`active` while it waits to elapse).
    pub active_state: ActiveState,
    /// `TimersCalendar`: the `OnCalendar=` expressions, normalised.
    pub calendar: Vec<String>,
    /// `NextElapseUSecRealtime`.
    pub next_elapse_usec: u64,
    /// `LastTriggerUSec`.
    pub last_trigger_usec: u64,
    /// The service's `ActiveState`.
    pub service_active_state: ActiveState,
    /// The service's `Result` (`success`, `exit-code`, …) of its last run.
    pub service_result: String,
    /// The service's `ExecMainStartTimestamp`: when its last run began.
    pub service_start_usec: u64,
    /// The service's `ExecMainExitTimestamp`: when its last command ended.
    pub service_exit_usec: u64,
    /// The service's `ExecMainStatus`: the last command's exit status.
    pub service_exit_status: i32,
}

impl UserManager {
    /// The [`TimerDetails`] of `timer` and `service`, loading them as
    /// `systemctl show` does; a unit without a file reads as `not-found`
    /// with the rest empty.
    ///
    /// # Errors
    /// When a call fails.
    pub async fn timer_details(&self, timer: &str, service: &str) -> Result<TimerDetails> {
        let err = |e: zbus::Error| bus_error(&format!("cannot read the properties of {timer}"), &e);
        let conn = self.manager.inner().connection();
        let timer_path = self
            .manager
            .load_unit(timer.to_owned())
            .await
            .map_err(err)?;
        let unit = UnitProxy::builder(conn)
            .path(timer_path.clone())
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(err)?;
        let mut d = TimerDetails {
            load_state: unit.load_state().await.map_err(err)?.into(),
            unit_file_state: unit.unit_file_state().await.map_err(err)?,
            active_state: unit.active_state().await.map_err(err)?.into(),
            ..TimerDetails::default()
        };
        if d.load_state == LoadState::Loaded {
            let t = TimerProxy::builder(conn)
                .path(timer_path)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
                .map_err(err)?;
            d.calendar = t
                .timers_calendar()
                .await
                .map_err(err)?
                .into_iter()
                .map(|(_, expr, _)| expr)
                .collect();
            d.next_elapse_usec = t.next_elapse_u_sec_realtime().await.map_err(err)?;
            d.last_trigger_usec = t.last_trigger_u_sec().await.map_err(err)?;
        }
        let service_path = self
            .manager
            .load_unit(service.to_owned())
            .await
            .map_err(err)?;
        let su = UnitProxy::builder(conn)
            .path(service_path.clone())
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(err)?;
        d.service_active_state = su.active_state().await.map_err(err)?.into();
        if LoadState::from(su.load_state().await.map_err(err)?) == LoadState::Loaded {
            let sv = ServiceProxy::builder(conn)
                .path(service_path)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
                .map_err(err)?;
            d.service_result = sv.result().await.map_err(err)?;
            d.service_start_usec = sv.exec_main_start_timestamp().await.map_err(err)?;
            d.service_exit_usec = sv.exec_main_exit_timestamp().await.map_err(err)?;
            d.service_exit_status = sv.exec_main_status().await.map_err(err)?;
        }
        Ok(d)
    }
}
