//! Secrets stay secret: with a Claude token in `~/.claude-tokens/ccy/tokens/`
//! and an SSH key given, neither the token nor the private key's material
//! appears in a unit file (ccy's or the generator's), in `podman inspect`,
//! in the arguments of the Podman commands ccy runs, in ccy's output or in
//! the journal, while the token still reaches the agent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{assert_secret_nowhere, secret_places};

use crate::support::{Repo, exclusive, first_session_output, home, marker, q, sh, sh_ok};

/// Removes the test's token directory and token secrets on drop.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        std::fs::remove_dir_all(home().join(".claude-tokens")).ok();
        sh(
            "podman secret ls --format '{{.Name}}' | grep '^ccy-token-' | xargs -r podman secret rm",
        );
    }
}

#[test]
fn token_and_ssh_key_never_leak() {
    // The token directory is the user's own: no other test runs meanwhile.
    let _g = exclusive();
    first_session_output();
    let _c = Cleanup;
    let since = sh_ok("date +%s");

    // The token, as `claude setup-token` output would be stored.
    let token = format!("sk-ant-oat01-{}", marker("leak").replace('-', "Q"));
    let tdir = home().join(".claude-tokens/ccy/tokens");
    std::fs::create_dir_all(&tdir).unwrap();
    for d in [
        home().join(".claude-tokens"),
        home().join(".claude-tokens/ccy"),
        tdir.clone(),
    ] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let tfile = tdir.join("leaktest.2099-01-01.token");
    std::fs::write(&tfile, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&tfile, std::fs::Permissions::from_mode(0o600)).unwrap();

    // An SSH key; its material is the base64 body of the private key file.
    let keys = tempfile::tempdir_in(home()).unwrap();
    let key = keys.path().join("id_leaktest");
    sh_ok(&format!(
        "ssh-keygen -q -t ed25519 -N '' -C leaktest -f {}",
        q(key.to_str().unwrap())
    ));
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_lines: Vec<String> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 20)
        .map(str::to_owned)
        .collect();
    assert!(!key_lines.is_empty());

    // A `podman` first on PATH that logs its arguments, then runs Podman:
    // the commands ccy itself runs (the units run /usr/bin/podman).
    let shim = tempfile::tempdir().unwrap();
    let argv_log = shim.path().join("argv.log");
    std::fs::write(
        shim.path().join("podman"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> {}\nexec /usr/bin/podman \"$@\"\n",
            q(argv_log.to_str().unwrap())
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        shim.path().join("podman"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        shim.path().display(),
        std::env::var("PATH").unwrap()
    );
    let run = |dir: &Path, args: &[&str]| {
        let o = Command::new(crate::support::ccy_bin())
            .current_dir(dir)
            .args(args)
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "ccy {args:?}: {text}");
        text
    };

    let repo = Repo::new("leak");
    let out = run(
        &repo.dir,
        &["new", "-d", "--ssh-key", key.to_str().unwrap()],
    );
    let name = repo.session_names().pop().unwrap();
    let mut outputs = out;
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["status", name.as_str()],
        vec!["tokens"],
        vec!["config", "show"],
    ] {
        outputs.push_str(&run(&repo.dir, &args));
    }
    // Started again: the secret is refreshed from the token file.
    outputs.push_str(&run(&repo.dir, &["stop", &name]));
    outputs.push_str(&run(&repo.dir, &[]));

    // The token reaches the agent: in the container's environment (what
    // `podman exec` and the agent's tmux get).
    let seen = sh_ok(&format!(
        "podman exec {} printenv CLAUDE_CODE_OAUTH_TOKEN",
        q(&name)
    ));
    assert_eq!(seen, token);
    // The key reaches the session's ssh-agent.
    let added = sh_ok(&format!(
        "podman exec {} sh -c 'SSH_AUTH_SOCK=/tmp/ccy-ssh-agent.sock ssh-add -l'",
        q(&name)
    ));
    assert!(added.contains("leaktest"), "{added}");

    let mut places = secret_places(&name, &since);
    places.push((
        "podman secret inspect".to_owned(),
        sh_ok("podman secret inspect ccy-token-leaktest"),
    ));
    places.push(("ccy's output".to_owned(), outputs));
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    assert!(argv.contains("secret create"), "ccy ran podman: {argv}");
    places.push(("ccy's podman arguments".to_owned(), argv));

    assert_secret_nowhere(&places, &token);
    for (what, text) in &places {
        for l in &key_lines {
            assert!(!text.contains(l.as_str()), "SSH key material is in {what}");
        }
    }
}
