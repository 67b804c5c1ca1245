//! Where ccy reads and writes on the host.
//!
//! Locations follow the XDG Base Directory specification and the search
//! paths documented in podman-systemd.unit(5) ("rootless" Quadlet directory
//! `$XDG_CONFIG_HOME/containers/systemd/`). ccy works from an SSH login where
//! `XDG_RUNTIME_DIR` may be unset: the runtime directory then falls back to
//! `/run/user/UID`, the path `pam_systemd` / logind create for every user
//! (`pam_systemd(8)`).

use std::env;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `path` with `.` and `..` resolved lexically, as written: no symlink is
/// followed (the container sees a mount path as written, and a
/// repository's paths are checked before anything on disk is trusted).
/// `..` at the root stays at the root.
#[must_use]
pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The host locations ccy uses, resolved once per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The numeric user id of the caller.
    pub uid: u32,
    /// `$HOME`.
    pub home: PathBuf,
    /// `$XDG_RUNTIME_DIR`, or `/run/user/UID` when unset.
    pub runtime_dir: PathBuf,
    /// Rootless Quadlet directory: `$XDG_CONFIG_HOME/containers/systemd`.
    pub quadlet_dir: PathBuf,
    /// ccy's configuration directory: `$XDG_CONFIG_HOME/ccy`.
    pub config_dir: PathBuf,
    /// ccy's state directory: `$XDG_STATE_HOME/ccy`.
    pub state_dir: PathBuf,
}

impl Paths {
    /// Resolves the paths from the process environment.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Environment`] when no home directory can be
    /// found (neither `$HOME` nor the password database).
    pub fn from_env() -> Result<Self> {
        let uid = nix::unistd::getuid().as_raw();
        let home = match env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(h) => PathBuf::from(h),
            None => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|u| u.dir)
                .ok_or_else(|| {
                    Error::environment("cannot find your home directory")
                        .hint("set HOME to your home directory")
                })?,
        };
        Ok(Self::new(
            uid,
            home,
            env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
            env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
            env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        ))
    }

    /// Builds the paths from explicit values (empty or relative XDG values
    /// are ignored, as the XDG spec requires).
    #[must_use]
    pub fn new(
        uid: u32,
        home: PathBuf,
        runtime_dir: Option<PathBuf>,
        config_home: Option<PathBuf>,
        state_home: Option<PathBuf>,
    ) -> Self {
        let absolute = |p: Option<PathBuf>| p.filter(|p| p.is_absolute());
        let runtime_dir =
            absolute(runtime_dir).unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}")));
        let config_home = absolute(config_home).unwrap_or_else(|| home.join(".config"));
        let state_home = absolute(state_home).unwrap_or_else(|| home.join(".local/state"));
        Self {
            uid,
            runtime_dir,
            quadlet_dir: config_home.join("containers/systemd"),
            config_dir: config_home.join("ccy"),
            state_dir: state_home.join("ccy"),
            home,
        }
    }

    /// The user manager's private D-Bus socket address,
    /// `unix:path=RUNTIME_DIR/bus` (dbus-user-session / systemd `dbus.socket`).
    #[must_use]
    pub fn user_bus_address(&self) -> String {
        format!("unix:path={}", self.runtime_dir.join("bus").display())
    }

    /// The rootless Podman API socket, `RUNTIME_DIR/podman/podman.sock`
    /// (podman-system-service(1), unit `podman.socket`).
    #[must_use]
    pub fn podman_socket(&self) -> PathBuf {
        self.runtime_dir.join("podman/podman.sock")
    }

    /// The user configuration file, `CONFIG_DIR/config.toml`.
    #[must_use]
    pub fn user_config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The per-session state directory on the host (status written by the
    /// session's tmux, saved panes), `STATE_DIR/sessions/NAME`.
    #[must_use]
    pub fn session_state_dir(&self, name: &str) -> PathBuf {
        self.state_dir.join("sessions").join(name)
    }

    /// The directory of the sessions' image files, `STATE_DIR/kept`
    /// (mode 0700). It is mounted into no container (only
    /// `STATE_DIR/sessions/NAME` is, at `/run/ccy`), so no agent can
    /// choose the image its session's unit runs next.
    #[must_use]
    pub fn kept_image_dir(&self) -> PathBuf {
        self.state_dir.join("kept")
    }

    /// Session `name`'s image file, `STATE_DIR/kept/NAME.env`: the unit's
    /// `EnvironmentFile=`, which names the session's kept image once a
    /// stop kept a change ([`crate::contract::KEPT_IMAGE_VAR`]). Absent:
    /// the session runs its clean image.
    #[must_use]
    pub fn kept_image_file(&self, name: &str) -> PathBuf {
        self.kept_image_dir().join(format!("{name}.env"))
    }

    /// The user's systemd unit directory, `$XDG_CONFIG_HOME/systemd/user`
    /// (systemd.unit(5) "User Unit Search Path"), where `ccy timer` writes
    /// its units.
    #[must_use]
    pub fn systemd_user_dir(&self) -> PathBuf {
        // config_dir is CONFIG_HOME/ccy.
        self.config_dir.with_file_name("systemd").join("user")
    }

    /// The directory holding the lock files that serialise lookup-or-create.
    #[must_use]
    pub fn lock_dir(&self) -> PathBuf {
        self.runtime_dir.join("ccy")
    }
}

/// Returns `path` with a leading `~/` shown for paths under `home`, for
/// messages only.
#[must_use]
pub fn display_home(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_resolves_dots_as_written() {
        let n = |p: &str| normalise(Path::new(p));
        assert_eq!(n("/a/./b/../c"), PathBuf::from("/a/c"));
        assert_eq!(n("/../x"), PathBuf::from("/x"));
        assert_eq!(n("a/b/.."), PathBuf::from("a"));
        assert_eq!(n("/a//b/"), PathBuf::from("/a/b"));
    }

    #[test]
    fn defaults_follow_xdg_and_logind() {
        let p = Paths::new(1000, "/home/dev".into(), None, None, None);
        assert_eq!(p.runtime_dir, PathBuf::from("/run/user/1000"));
        assert_eq!(
            p.quadlet_dir,
            PathBuf::from("/home/dev/.config/containers/systemd")
        );
        assert_eq!(p.config_dir, PathBuf::from("/home/dev/.config/ccy"));
        assert_eq!(p.state_dir, PathBuf::from("/home/dev/.local/state/ccy"));
        assert_eq!(p.user_bus_address(), "unix:path=/run/user/1000/bus");
        assert_eq!(
            p.systemd_user_dir(),
            PathBuf::from("/home/dev/.config/systemd/user")
        );
        assert_eq!(
            p.podman_socket(),
            PathBuf::from("/run/user/1000/podman/podman.sock")
        );
    }

    #[test]
    fn relative_xdg_values_are_ignored() {
        let p = Paths::new(
            7,
            "/h".into(),
            Some("rel".into()),
            Some("/cfg".into()),
            Some(String::new().into()),
        );
        assert_eq!(p.runtime_dir, PathBuf::from("/run/user/7"));
        assert_eq!(p.quadlet_dir, PathBuf::from("/cfg/containers/systemd"));
        assert_eq!(p.state_dir, PathBuf::from("/h/.local/state/ccy"));
    }

    #[test]
    fn display_home_abbreviates() {
        let home = Path::new("/home/dev");
        assert_eq!(display_home(Path::new("/home/dev/x/y"), home), "~/x/y");
        assert_eq!(display_home(Path::new("/home/dev"), home), "~");
        assert_eq!(display_home(Path::new("/srv/x"), home), "/srv/x");
    }
}
