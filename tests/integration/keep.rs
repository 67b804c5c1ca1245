//! Nothing is lost on any stop (issue 11 §2): what a session writes
//! outside its volumes (its home, installed packages and tools, shell
//! history) is kept in its image `localhost/ccy-kept:NAME` by the unit's
//! `ExecStop=ccy keep-layer`, on `ccy stop`, `systemctl --user stop` and an
//! idle stop; the layer chain stays bounded over many stops; `attach
//! --fresh` drops the kept layer saying so; `rm` refuses to drop it
//! without `--force` and then removes the image and every volume. A new
//! session has no tag and runs its clean image until a stop keeps a
//! change (then its image file names the kept image); a hand-written
//! image file is refused; units from before image files still work.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::time::{Duration, Instant};

use crate::support::{
    Repo, TEST_IMAGE, Term, active_state, assert_runs_clean, ccy, eventually, inspect,
    kept_image_file, new_session, q, quadlet_dir, sh, sh_ok, shared,
};

/// The most kept layers a session's image may have (ccy's
/// `MAX_KEPT_LAYERS`, 10, plus the commit that triggers the rebase).
const MAX_LAYERS: usize = 11;

fn kept_image(name: &str) -> String {
    format!("localhost/ccy-kept:{name}")
}

/// The number of layers of `image`.
fn layers(image: &str) -> usize {
    sh_ok(&format!(
        "podman image inspect --format '{{{{len .RootFS.Layers}}}}' {}",
        q(image)
    ))
    .trim()
    .parse()
    .unwrap()
}

/// The kept layers of session `name`: layers of its image above the clean
/// image it records (label `ccy.kept.base`); 0 without the label or
/// without the image (a session that never kept a change has none).
fn kept_layers(name: &str) -> usize {
    if !has_kept_image(name) {
        return 0;
    }
    let base = sh_ok(&format!(
        "podman image inspect --format '{{{{index .Labels \"ccy.kept.base\"}}}}' {}",
        q(&kept_image(name))
    ));
    let base = base.trim();
    if base.is_empty() || base == "<no value>" {
        return 0;
    }
    layers(&kept_image(name)) - layers(base)
}

/// Whether `localhost/ccy-kept:NAME` exists.
fn has_kept_image(name: &str) -> bool {
    sh(&format!("podman image exists {}", q(&kept_image(name))))
        .status
        .success()
}

/// The name of the image session `name`'s container runs.
fn runs_image(name: &str) -> String {
    inspect("container", name).unwrap()["ImageName"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `podman exec NAME sh -c SCRIPT`, asserting success; returns stdout.
fn in_container(name: &str, script: &str) -> String {
    sh_ok(&format!("podman exec {} sh -c {}", q(name), q(script)))
}

/// Writes, in the running session `name`, the things issue 11 lists with
/// `tag` in them: a file in `~/.config` (like `gh auth login`), a tool in
/// `/usr/local/bin`, a Debian package installed with dpkg (built on the
/// spot: no network), and a line of shell history typed into the agent's
/// shell (bash writes its history when tmux ends it at the stop).
fn write_everywhere(name: &str, tag: &str) {
    in_container(
        name,
        &format!(
            "set -e; mkdir -p /root/.config/gh; echo 'token: {tag}' > /root/.config/gh/hosts-{tag}.yml; \
             printf '#!/bin/sh\\necho tool-{tag}\\n' > /usr/local/bin/ktool-{tag}; \
             chmod +x /usr/local/bin/ktool-{tag}; \
             d=$(mktemp -d); mkdir -p $d/DEBIAN $d/usr/share/kpkg; \
             printf 'Package: kpkg-{tag}\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: t <t@example.invalid>\\nDescription: test\\n' > $d/DEBIAN/control; \
             echo {tag} > $d/usr/share/kpkg/{tag}; \
             dpkg-deb -b $d /tmp/kpkg.deb >/dev/null; dpkg -i /tmp/kpkg.deb >/dev/null; rm -rf $d /tmp/kpkg.deb"
        ),
    );
    sh_ok(&format!(
        "podman exec {} tmux send-keys -t main {} Enter",
        q(name),
        q(&format!("echo history-{tag}"))
    ));
    eventually(10, "the history line ran", || {
        sh(&format!(
            "podman exec {} tmux capture-pane -p -t main",
            q(name)
        ))
        .stdout
        .windows(tag.len() + 8)
        .filter(|w| *w == format!("history-{tag}").as_bytes())
        .count()
            >= 2
    });
}

/// Asserts that everything [`write_everywhere`] wrote with `tag` is in
/// the running session `name`.
fn assert_kept(name: &str, tag: &str, how: &str) {
    let out = in_container(
        name,
        &format!(
            "cat /root/.config/gh/hosts-{tag}.yml; ktool-{tag}; dpkg-query -W -f '${{Status}}\\n' kpkg-{tag}; \
             cat /usr/share/kpkg/{tag}; grep -c 'echo history-{tag}' /root/.bash_history || true"
        ),
    );
    assert!(
        out.contains(&format!("token: {tag}")),
        "{how}: ~/.config lost:\n{out}"
    );
    assert!(
        out.contains(&format!("tool-{tag}")),
        "{how}: tool lost:\n{out}"
    );
    assert!(
        out.contains("install ok installed"),
        "{how}: package lost:\n{out}"
    );
    let history = out.lines().last().unwrap_or_default();
    assert_ne!(history, "0", "{how}: shell history lost:\n{out}");
}

/// The three ways a session stops without ccy's own verb being the only
/// one: `ccy stop`, `systemctl --user stop` (as at shutdown) and `ccy
/// idle` (idle stop). After each, starting the session again (`ccy`
/// without a terminal) finds the file in `~/.config`, the tool, the
/// package and the history line of that round and of the rounds before.
/// `status --json` and `list --json` show the kept layer's size; `rm`
/// refuses without `--force` because of it, and `rm --force --volumes`
/// removes the image with every volume, the earlier `--reset` one too.
#[test]
fn nothing_is_lost_on_ccy_stop_systemctl_stop_or_idle_stop() {
    let _g = shared();
    let repo = Repo::new("keep");
    let config = repo.dir.join(".claude/ccy/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[idle]\nstop = \"2s\"\nwarn = \"off\"\n");
    std::fs::write(&config, text).unwrap();
    // A clean worktree: only the kept layer stands in the way of `rm`.
    sh_ok(&format!(
        "cd {} && git -c user.name=t -c user.email=t@example.invalid commit -qam idle",
        q(repo.dir.to_str().unwrap())
    ));
    let name = new_session(&repo.dir, &[]);
    let unit = format!("{name}.service");
    let unit_file =
        std::fs::read_to_string(crate::support::quadlet_dir().join(format!("{name}.container")))
            .unwrap();
    assert!(
        unit_file.contains("\nImage=localhost/${CCY_IMAGE}\n"),
        "{unit_file}"
    );
    assert!(unit_file.contains("\nExecStop=-"), "{unit_file}");

    let start = |how: &str| {
        let out = ccy(&repo.dir, &[]);
        assert_eq!(
            out.code, 0,
            "start after {how}: {}{}",
            out.stdout, out.stderr
        );
        assert_eq!(active_state(&unit), "active");
    };
    let mut tags = Vec::new();
    for how in ["ccy stop", "systemctl --user stop", "idle stop"] {
        let tag = format!("t{}", tags.len());
        write_everywhere(&name, &tag);
        match how {
            "ccy stop" => {
                let out = ccy(&repo.dir, &["stop", &name]);
                assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
            }
            "systemctl --user stop" => {
                sh_ok(&format!("systemctl --user stop {}", q(&unit)));
            }
            _ => {
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    // The status file the idle check reads is refreshed
                    // every 10 s; refresh it now.
                    sh(&format!("podman exec {} /etc/ccy/status", q(&name)));
                    let out = ccy(&repo.dir, &["idle"]);
                    if out.stdout.contains(&format!("{name}: stop: idle for")) {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "never stopped: {}{}",
                        out.stdout,
                        out.stderr
                    );
                    std::thread::sleep(Duration::from_millis(700));
                }
            }
        }
        assert_eq!(active_state(&unit), "inactive", "{how}");
        // journald takes the ExecStop= command's output from a stream: it
        // can show up after the stop job is done.
        let kept_line = format!("{name}: kept the container's changes in");
        let journal = || {
            sh_ok(&format!(
                "journalctl --user -o cat --no-pager -u {}",
                q(&unit)
            ))
        };
        let mut seen = String::new();
        let found = (0..100).any(|_| {
            seen = journal();
            seen.contains(&kept_line) || {
                std::thread::sleep(Duration::from_millis(100));
                false
            }
        });
        assert!(found, "{how}: after 10 s: {seen}");
        tags.push(tag);
        start(how);
        for t in &tags {
            assert_kept(&name, t, how);
        }
    }

    // The kept layer's size, in bytes and for people.
    let status: serde_json::Value =
        serde_json::from_str(&ccy(&repo.dir, &["status", "--json", &name]).stdout).unwrap();
    let bytes = status["kept_layer_bytes"].as_u64().unwrap();
    assert!(bytes > 1000, "{status}");
    let list: serde_json::Value =
        serde_json::from_str(&ccy(&repo.dir, &["list", "--json"]).stdout).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name.as_str())
        .unwrap();
    assert_eq!(entry["kept_layer_bytes"].as_u64(), Some(bytes), "{entry}");
    let text = ccy(&repo.dir, &["status", &name]).stdout;
    assert!(
        text.lines()
            .any(|l| l.starts_with("kept layer:") && l.contains("B (what it wrote")),
        "{text}"
    );

    // An earlier volume from --reset.
    let term = Term::spawn(&repo.dir, &format!("ccy attach --reset {name}"));
    term.wait_for("root@", 60);
    term.detach();
    term.wait_for("[exited 0]", 30);
    drop(term);
    let reset_volume = format!("{name}-state-2");
    sh_ok(&format!("podman volume exists {}", q(&reset_volume)));
    // --reset keeps the layer.
    assert_kept(&name, "t0", "attach --reset");

    // rm refuses: the stopped session's kept layer would go.
    sh_ok(&format!("systemctl --user stop {}", q(&unit)));
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 6, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("a kept layer of"), "{}", out.stderr);
    sh_ok(&format!("podman image exists {}", q(&kept_image(&name))));
    let out = ccy(&repo.dir, &["rm", "--force", "--volumes", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("removed the kept layer of {name}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("removed earlier volume {name}-state ")),
        "{}",
        out.stdout
    );
    assert_ne!(
        sh(&format!("podman image exists {}", q(&kept_image(&name))))
            .status
            .code(),
        Some(0),
        "the session's image is still there"
    );
    for v in [format!("{name}-state"), reset_volume] {
        assert_ne!(
            sh(&format!("podman volume exists {}", q(&v))).status.code(),
            Some(0),
            "volume {v} is still there"
        );
    }
    let left = sh_ok(&format!(
        "podman images -a -q --filter label=ccy.kept.session={}",
        q(&name)
    ));
    assert!(left.trim().is_empty(), "kept images left: {left}");
}

/// `ccy attach --fresh` is the way back to the clean image: it says that
/// it drops the kept layer and how big it was, and the file written before
/// is gone; the session's image is its clean image again.
#[test]
fn attach_fresh_drops_the_kept_layer_and_says_so() {
    let _g = shared();
    let repo = Repo::new("fresh");
    let name = new_session(&repo.dir, &[]);
    in_container(
        &name,
        "head -c 3000000 /dev/urandom > /root/big && echo x > /opt/fresh-marker",
    );
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{name}.service"))
    ));
    assert_eq!(kept_layers(&name), 1);
    let term = Term::spawn(&repo.dir, &format!("ccy attach --fresh {name}"));
    term.wait_for("root@", 60);
    term.detach();
    // Back from tmux's screen, the terminal shows what ccy printed.
    let screen = term.wait_for("[exited 0]", 30);
    drop(term);
    assert!(
        screen.contains(&format!(
            "ccy: dropped the kept layer of session {name}: 2.9 MiB"
        )),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("MiB in {}", kept_image(&name))),
        "{screen}"
    );
    let out = sh(&format!(
        "podman exec {} test -e /opt/fresh-marker",
        q(&name)
    ));
    assert_ne!(out.status.code(), Some(0), "the kept file survived --fresh");
    assert_eq!(kept_layers(&name), 0);
    // Back to the clean image itself: no image file, no tag.
    assert_runs_clean(&inspect("container", &name).unwrap(), &name, TEST_IMAGE);
}

/// A new session has no `localhost/ccy-kept:NAME` tag and no image file:
/// it runs its clean image. The first stop that keeps a change tags the
/// kept image and writes the image file (0600, in a 0700 directory that
/// no container mounts), and the next start runs the kept image with the
/// change in it. An image file written by hand with anything else (an
/// option, another image) is refused by ccy with a clear error, and even
/// a start that bypasses ccy cannot pass an option to Podman (the
/// argument starts with `localhost/`). `rm` removes the tag and the file.
#[test]
fn a_session_runs_its_clean_image_until_a_stop_keeps_a_change() {
    use std::os::unix::fs::PermissionsExt;
    let _g = shared();
    let repo = Repo::new("notag");
    let name = new_session(&repo.dir, &[]);
    let unit = format!("{name}.service");
    let file = kept_image_file(&name);
    assert_runs_clean(&inspect("container", &name).unwrap(), &name, TEST_IMAGE);

    in_container(&name, "echo kept > /opt/notag-marker");
    let out = ccy(&repo.dir, &["stop", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(has_kept_image(&name), "no kept image after the stop");
    let line = format!("CCY_IMAGE=ccy-kept:{name}\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), line);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let out = ccy(&repo.dir, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(active_state(&unit), "active");
    assert_eq!(runs_image(&name), kept_image(&name));
    assert_eq!(in_container(&name, "cat /opt/notag-marker").trim(), "kept");
    assert_eq!(kept_layers(&name), 1);

    sh_ok(&format!("systemctl --user stop {}", q(&unit)));
    for hostile in ["CCY_IMAGE=--privileged\n", "CCY_IMAGE=ccy-test:latest\n"] {
        std::fs::write(&file, hostile).unwrap();
        let out = ccy(&repo.dir, &[]);
        assert_ne!(out.code, 0, "{hostile:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains(&format!("refusing to start session {name}"))
                && out.stderr.contains("does not name its own kept image"),
            "{hostile:?}: {}",
            out.stderr
        );
        assert_ne!(active_state(&unit), "active", "{hostile:?}");
    }
    // Started without ccy, `--privileged` is `localhost/--privileged`:
    // an image name Podman refuses, never an option.
    std::fs::write(&file, "CCY_IMAGE=--privileged\n").unwrap();
    let started = sh(&format!("systemctl --user start {}", q(&unit)));
    assert!(
        !started.status.success(),
        "started with a hostile image file"
    );
    sh(&format!("systemctl --user reset-failed {}", q(&unit)));

    std::fs::write(&file, &line).unwrap();
    let out = ccy(&repo.dir, &["rm", "--force", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!file.exists(), "the image file is left");
    assert!(!has_kept_image(&name), "the kept image is left");
}

/// A session made before image files has `Image=localhost/ccy-kept:NAME`
/// literally in its unit, `keep-layer` without an image file and the tag
/// made at its creation: it still starts, keeps its layer in the tag
/// (no image file appears) and is removed with it.
#[test]
fn a_unit_naming_its_kept_image_literally_still_works() {
    let _g = shared();
    let repo = Repo::new("oldunit");
    let name = new_session(&repo.dir, &[]);
    let unit = format!("{name}.service");
    let file = kept_image_file(&name);
    sh_ok(&format!("systemctl --user stop {}", q(&unit)));
    // The unit as ccy wrote it before image files.
    let path = quadlet_dir().join(format!("{name}.container"));
    let text = std::fs::read_to_string(&path).unwrap();
    let file_text = file.to_str().unwrap();
    let old = text
        .replace(
            "Image=localhost/${CCY_IMAGE}",
            &format!("Image={}", kept_image(&name)),
        )
        .replace(&format!(",\"image_file\":\"{file_text}\""), "")
        .replace(&format!(" \"{file_text}\""), "")
        .lines()
        .filter(|l| {
            !l.starts_with("Environment=\"CCY_IMAGE=") && !l.starts_with("EnvironmentFile=")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert!(
        !old.lines()
            .any(|l| !l.starts_with('#') && (l.contains("CCY_IMAGE") || l.contains(".env"))),
        "{old}"
    );
    std::fs::write(&path, &old).unwrap();
    sh_ok(&format!(
        "podman tag {} {} && systemctl --user daemon-reload",
        q(TEST_IMAGE),
        q(&kept_image(&name))
    ));

    let out = ccy(&repo.dir, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(active_state(&unit), "active");
    assert_eq!(runs_image(&name), kept_image(&name));
    in_container(&name, "echo old > /opt/oldunit-marker");
    let out = ccy(&repo.dir, &["stop", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(kept_layers(&name), 1);
    assert!(!file.exists(), "an image file for a literal unit");
    let out = ccy(&repo.dir, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(in_container(&name, "cat /opt/oldunit-marker").trim(), "old");

    let out = ccy(&repo.dir, &["rm", "--force", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("removed the kept layer of {name}")),
        "{}",
        out.stdout
    );
    assert!(!has_kept_image(&name), "the kept image is left");
    assert!(!path.exists(), "the unit file is left");
}

/// 150 stop/start cycles through the user manager, each with a change in
/// the container's layer (a new file, and a file changed every time): the
/// session's image never has more than [`MAX_LAYERS`] kept layers (ccy
/// rebases them into one above 10), the kept images of the session stay
/// few, and at the end every file and the last value are there.
#[test]
fn kept_layers_stay_bounded_over_150_stop_start_cycles() {
    let _g = shared();
    let repo = Repo::new("cycles");
    let name = new_session(&repo.dir, &[]);
    let unit = q(&format!("{name}.service"));
    let started = Instant::now();
    let mut most = 0;
    let mut rebased = 0;
    for i in 1..=150 {
        in_container(
            &name,
            &format!(
                "mkdir -p /root/cycles && echo {i} > /root/cycles/{i} && echo {i} > /root/counter && rm -f /root/cycles/gone-{prev} && touch /root/cycles/gone-{i}",
                prev = i - 1
            ),
        );
        sh_ok(&format!("systemctl --user stop {unit}"));
        let n = kept_layers(&name);
        if n < most {
            rebased += 1;
        }
        most = most.max(n);
        assert!(n <= MAX_LAYERS, "cycle {i}: {n} kept layers");
        // Faster than systemd's default start limit (5 in 10 s) allows:
        // reset it, as ccy does before it starts a unit.
        sh_ok(&format!(
            "systemctl --user reset-failed {unit}; systemctl --user start {unit}"
        ));
    }
    eprintln!(
        "150 cycles in {:?}; at most {most} kept layers; {rebased} rebases",
        started.elapsed()
    );
    assert!(rebased >= 10, "only {rebased} rebases");
    let out = in_container(
        &name,
        "cat /root/counter; ls /root/cycles | grep -c -v gone; ls /root/cycles | grep gone",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["150", "150", "gone-150"],
        "{out}"
    );
    for i in [1, 37, 99, 150] {
        assert_eq!(
            in_container(&name, &format!("cat /root/cycles/{i}")).trim(),
            i.to_string()
        );
    }
    let images = sh_ok(&format!(
        "podman images -a -q --filter label=ccy.kept.session={}",
        q(&name)
    ));
    let count = images.lines().count();
    assert!(count <= MAX_LAYERS + 2, "{count} kept images: {images}");
}
