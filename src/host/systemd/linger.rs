//! Linger, through logind on the system bus
//! (`org.freedesktop.login1.Manager.SetUserLinger`, org.freedesktop.login1(5)):
//! with it, the user's manager starts at boot and outlives the last login,
//! and so do the sessions it runs.

use zbus_systemd::login1;
use zbus_systemd::zbus::{self};

use crate::error::{Error, Result};

/// What [`ensure_linger`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linger {
    /// Linger was already on.
    AlreadyOn,
    /// ccy turned it on.
    Enabled,
}

/// Whether linger is on for `uid` (`org.freedesktop.login1.User.Linger`,
/// loginctl(1)); only reads. A user logind does not know (no session, no
/// linger) has linger off.
///
/// # Errors
/// [`crate::error::ExitKind::Environment`] when the system bus or logind cannot be asked.
pub async fn linger(uid: u32) -> Result<bool> {
    let fail = |e: zbus::Error| {
        Error::environment("cannot ask logind whether linger is on").with_source(e)
    };
    let conn = zbus::connection::Builder::system()
        .build()
        .await
        .map_err(fail)?;
    let logind = login1::ManagerProxy::new(&conn).await.map_err(fail)?;
    let user_path = match logind.get_user(uid).await {
        Ok(p) => p,
        Err(zbus::Error::MethodError(name, _, _))
            if name.as_str() == "org.freedesktop.login1.NoSuchUser" =>
        {
            return Ok(false);
        }
        Err(e) => return Err(fail(e)),
    };
    let user = login1::UserProxy::builder(&conn)
        .path(user_path)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(fail)?;
    user.linger().await.map_err(fail)
}

/// Makes sure linger is on for `uid`, so the user manager (and sessions)
/// keep running after logout and start at boot (loginctl(1)
/// `enable-linger`). Reads `org.freedesktop.login1.User.Linger`; when off,
/// calls `SetUserLinger(uid, true, interactive=false)` on the system bus.
///
/// # Errors
/// [`crate::error::ExitKind::Environment`] when the system bus or logind is unreachable or
/// polkit refuses, with the `loginctl` command that fixes it.
pub async fn ensure_linger(uid: u32) -> Result<Linger> {
    let refuse = |what: &str, e: zbus::Error| {
        Error::environment(format!("cannot {what} linger through logind"))
            .with_source(e)
            .hint(format!(
                "run 'loginctl enable-linger' (or as root 'loginctl enable-linger {uid}') so sessions survive logout"
            ))
    };
    let conn = zbus::connection::Builder::system()
        .build()
        .await
        .map_err(|e| refuse("check", e))?;
    let logind = login1::ManagerProxy::new(&conn)
        .await
        .map_err(|e| refuse("check", e))?;
    let user_path = logind.get_user(uid).await.map_err(|e| refuse("check", e))?;
    let user = login1::UserProxy::builder(&conn)
        .path(user_path)
        .build()
        .await
        .map_err(|e| refuse("check", e))?;
    if user.linger().await.map_err(|e| refuse("check", e))? {
        return Ok(Linger::AlreadyOn);
    }
    logind
        .set_user_linger(uid, true, false)
        .await
        .map_err(|e| refuse("enable", e))?;
    Ok(Linger::Enabled)
}
