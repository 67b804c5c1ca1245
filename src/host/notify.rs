//! Desktop notifications: `org.freedesktop.Notifications.Notify` on the
//! user's session bus (the Desktop Notifications Specification), with
//! zbus. The bus is the one the user manager's `dbus.socket` serves,
//! `$XDG_RUNTIME_DIR/bus` ([`crate::paths::Paths::user_bus_address`]);
//! each call connects anew, so a notification server (or a bus) that
//! appears later is found.

use std::collections::HashMap;

use zbus_systemd::zbus::{self, Variant};

/// The well-known bus name of a notification server.
pub const NAME: &str = "org.freedesktop.Notifications";
/// Its object path.
const PATH: &str = "/org/freedesktop/Notifications";

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The one-line summary.
    pub summary: String,
    /// The body (may be empty).
    pub body: String,
    /// Critical urgency (2) instead of normal (1).
    pub critical: bool,
}

/// What [`send`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The server took it; its id.
    Shown(u32),
    /// No notification server: the name has no owner and none is
    /// activatable, or there is no session bus.
    NoServer,
}

/// Sends `n` to the notification server on the bus at `address`.
///
/// # Errors
/// The server's error reply, or a broken connection, as text (the
/// caller falls back as when there is no server).
pub async fn send(address: &str, n: &Notification) -> Result<Sent, String> {
    let Ok(conn) = zbus::connection::Builder::address(address).build().await else {
        return Ok(Sent::NoServer);
    };
    let dbus = zbus::fdo::DBusProxy::new(&conn)
        .await
        .map_err(|e| e.to_string())?;
    let name = zbus::names::BusName::try_from(NAME).map_err(|e| e.to_string())?;
    let owned = dbus.name_has_owner(name).await.map_err(|e| e.to_string())?;
    if !owned {
        let activatable = dbus
            .list_activatable_names()
            .await
            .map_err(|e| e.to_string())?;
        if !activatable.iter().any(|a| a.as_str() == NAME) {
            return Ok(Sent::NoServer);
        }
    }
    let mut hints: HashMap<&str, Variant<'_>> = HashMap::new();
    hints.insert("urgency", Variant::U8(if n.critical { 2 } else { 1 }));
    hints.insert("desktop-entry", Variant::from("ccy"));
    let actions: Vec<&str> = Vec::new();
    let reply = conn
        .call_method(
            Some(NAME),
            PATH,
            Some(NAME),
            "Notify",
            &(
                "ccy",
                0u32,
                "",
                n.summary.as_str(),
                n.body.as_str(),
                actions,
                hints,
                -1i32,
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    let id: u32 = reply.body().deserialize().map_err(|e| e.to_string())?;
    Ok(Sent::Shown(id))
}
