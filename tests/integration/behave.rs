//! What today's ccy does that must keep working, and the configuration
//! that drives it: the Claude token as a Podman secret, SSH keys in the
//! session's ssh-agent, `~/.gitconfig` read-only, extra mounts and
//! environment, resource limits, the network, `session.max_running`, the
//! project's own image, the project's shared conversation history, and the
//! configuration layers (files, `CCY_*` variables, flags).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::unitparse::{self, Specifiers};

use crate::support::{
    Repo, TEST_IMAGE, Term, eventually, exclusive, first_session_output, home, inspect, marker, q,
    quadlet_dir, sh, sh_ok, shared, ssh_port,
};

/// Runs `ccy ARGS` in `dir` without a terminal, with extra environment;
/// returns the exit code and standard error.
fn ccy_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(crate::support::ccy_bin());
    cmd.current_dir(dir).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Commands typed into a pane print their markers as `MARK''-ER`, so that
// waiting for `MARK-ER` never matches the typed command line itself.

/// Appends `text` to the repository's project configuration.
fn add_config(repo: &Repo, text: &str) {
    let f = repo.dir.join(".claude/ccy/config.toml");
    let mut cfg = std::fs::read_to_string(&f).unwrap();
    cfg.push_str(text);
    std::fs::write(f, cfg).unwrap();
}

/// Starts `ccy ARGS` in a terminal in `repo` and waits for the agent's
/// shell; returns the terminal and the session name.
fn start(repo: &Repo, cmd: &str) -> (Term, String) {
    let term = Term::spawn(&repo.dir, cmd);
    term.wait_for("root@", 180);
    let names = repo.session_names();
    assert_eq!(names.len(), 1, "{names:?}");
    (term, names[0].clone())
}

/// Stops and removes a session's units, files and state volume (what `ccy
/// rm` will do), so the next `ccy` in its worktree creates a new one.
fn remove_session(name: &str) {
    sh(&format!(
        "systemctl --user stop {n}.service {n}-volume.service; \
         rm -f {dir}/{n}.container {dir}/{n}.volume; podman volume rm -f {n}-state; \
         systemctl --user daemon-reload",
        n = q(name),
        dir = q(quadlet_dir().to_str().unwrap())
    ));
}

/// The text of the service Quadlet generated for `name`.
fn generated_service(name: &str) -> String {
    sh_ok(&format!(
        "systemctl --user cat {}",
        q(&format!("{name}.service"))
    ))
}

/// The mount of `container` at `dest` in `podman inspect`.
fn mount_at(c: &serde_json::Value, dest: &str) -> serde_json::Value {
    c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == dest)
        .unwrap_or_else(|| panic!("no mount at {dest}: {}", c["Mounts"]))
        .clone()
}

/// The token directory, with its files removed on drop (the test user's
/// tokens are the tests' own).
struct Tokens {
    dir: PathBuf,
}

impl Tokens {
    fn new() -> Self {
        let dir = home().join(".claude-tokens/ccy/tokens");
        std::fs::create_dir_all(&dir).unwrap();
        for d in [
            home().join(".claude-tokens"),
            home().join(".claude-tokens/ccy"),
            dir.clone(),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Self { dir }
    }

    /// Writes `NAME.DATE.token` holding `value` (mode 0600).
    fn add(&self, file: &str, value: &str) {
        let p = self.dir.join(file);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

impl Drop for Tokens {
    fn drop(&mut self) {
        std::fs::remove_dir_all(home().join(".claude-tokens")).ok();
        sh(
            "podman secret ls --format '{{.Name}}' | grep '^ccy-token-' | xargs -r podman secret rm",
        );
    }
}

/// A value shaped like a Claude token, unique to this run.
fn fake_token(tag: &str) -> String {
    format!("sk-ant-oat01-{}", marker(tag).replace('-', "x"))
}

/// The newest token becomes the secret `ccy-token-NAME`, reaches the agent
/// as `CLAUDE_CODE_OAUTH_TOKEN`, and is nowhere else: not in the unit file,
/// the generated service, `podman inspect` or the unit's journal.
/// `--token NAME` picks that token; `ccy tokens` lists names and dates.
#[test]
fn token_is_a_secret_that_only_the_agent_sees() {
    // The token directory is the user's: no other test runs meanwhile.
    let _g = exclusive();
    first_session_output();
    let tokens = Tokens::new();
    let older = fake_token("older");
    let newer = fake_token("newer");
    tokens.add("older.2099-01-01.token", &older);
    tokens.add("newer.2099-06-01.token", &newer);
    tokens.add("gone.2000-01-01.token", &fake_token("gone"));

    let repo = Repo::new("tok-newest");
    let (term, name) = start(&repo, "ccy");
    term.line("echo \"tok=$CLAUDE_CODE_OAUTH_TOKEN\"");
    term.wait_for(&format!("tok={newer}"), 10);

    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    assert!(
        unit.contains("Secret=\"ccy-token-newer,type=env,target=CLAUDE_CODE_OAUTH_TOKEN\""),
        "{unit}"
    );
    let service = generated_service(&name);
    let c = inspect("container", &name).unwrap();
    let journal = sh_ok(&format!(
        "journalctl --user --no-pager -o cat -u {}",
        q(&format!("{name}.service"))
    ));
    for (what, text) in [
        ("unit file", unit.as_str()),
        ("generated service", service.as_str()),
        ("podman inspect", &c.to_string()),
        ("journal", journal.as_str()),
    ] {
        for t in [&older, &newer] {
            assert!(!text.contains(t.as_str()), "token in the {what}: {text}");
        }
        assert!(!text.contains("sk-ant-"), "token-like text in the {what}");
    }
    let env = c["Config"]["Env"].as_array().unwrap();
    assert!(
        !env.iter()
            .any(|e| e.as_str().unwrap().starts_with("CLAUDE_CODE_OAUTH_TOKEN")),
        "{env:?}"
    );
    let secret = sh_ok(
        "podman secret inspect --format '{{.Spec.Name}} {{index .Spec.Labels \"ccy.token\"}}' ccy-token-newer",
    );
    assert_eq!(secret, "ccy-token-newer newer");
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(!screen.contains("no Claude token"), "{screen}");

    // --token NAME.
    let repo2 = Repo::new("tok-named");
    let (term2, name2) = start(&repo2, "ccy --token older");
    term2.line("echo \"tok=$CLAUDE_CODE_OAUTH_TOKEN\"");
    term2.wait_for(&format!("tok={older}"), 10);
    let unit2 = std::fs::read_to_string(quadlet_dir().join(format!("{name2}.container"))).unwrap();
    assert!(unit2.contains("ccy-token-older,type=env"), "{unit2}");

    // ccy tokens: names, dates, which one is the default; no contents.
    let out = Command::new(crate::support::ccy_bin())
        .arg("tokens")
        .current_dir(&repo.dir)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listing}");
    assert!(!listing.contains("sk-ant-"), "{listing}");
    let rows: Vec<&str> = listing.lines().collect();
    assert!(
        rows[0].starts_with("NAME") && rows[0].contains("EXPIRES"),
        "{listing}"
    );
    assert!(
        rows[1].starts_with("newer") && rows[1].contains("2099-06-01") && rows[1].contains('*'),
        "{listing}"
    );
    assert!(
        rows[2].starts_with("older") && !rows[2].contains('*'),
        "{listing}"
    );
    assert!(
        rows[3].starts_with("gone") && rows[3].contains("expired"),
        "{listing}"
    );

    // An unknown name is refused before anything is made.
    let repo3 = Repo::new("tok-bad");
    let (code, err) = ccy_in(&repo3.dir, &["--token", "nope"], &[]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("no Claude token named nope"), "{err}");
    assert!(err.contains("gone, newer, older"), "{err}");
    assert!(err.contains("hint: list tokens with 'ccy tokens'"), "{err}");
    // A directory others can read is refused, with the fix.
    std::fs::set_permissions(&tokens.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, err) = ccy_in(&repo3.dir, &[], &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("is not private") && err.contains("chmod 700"),
        "{err}"
    );
    assert!(!err.contains("sk-ant-"), "{err}");
    assert!(repo3.session_names().is_empty());
    std::fs::set_permissions(&tokens.dir, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A renewed token reaches a session started again.
    let renewed = fake_token("renewed");
    std::fs::remove_file(tokens.dir.join("newer.2099-06-01.token")).unwrap();
    tokens.add("newer.2099-09-01.token", &renewed);
    drop(term);
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{name}.service"))
    ));
    let again = Term::spawn(&repo.dir, "ccy");
    again.wait_for("root@", 60);
    again.line("echo \"tok=$CLAUDE_CODE_OAUTH_TOKEN\"");
    again.wait_for(&format!("tok={renewed}"), 10);
}

/// Without a token the session starts; ccy says so in one line.
#[test]
fn no_token_still_starts_and_says_so() {
    let _g = shared();
    first_session_output();
    // The token test owns ~/.claude-tokens while it runs (exclusive) and
    // removes it afterwards.
    let repo = Repo::new("tok-none");
    let (term, name) = start(&repo, "ccy");
    term.line("echo \"tok=[$CLAUDE_CODE_OAUTH_TOKEN]\"");
    term.wait_for("tok=[]", 10);
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    assert!(!unit.contains("Secret="), "{unit}");
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    let lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("Claude token"))
        .collect();
    assert_eq!(lines.len(), 1, "{screen}");
    assert!(
        lines[0].starts_with(
            "ccy: no Claude token in ~/.claude-tokens/ccy/tokens: Claude will ask you to log in"
        ),
        "{}",
        lines[0]
    );
}

/// Removes the lines holding `.1` from the file `.0` on drop.
struct Unauthorize(PathBuf, String);

impl Drop for Unauthorize {
    fn drop(&mut self) {
        let text = std::fs::read_to_string(&self.0).unwrap_or_default();
        let mut kept = String::new();
        for l in text.lines().filter(|l| !l.contains(&self.1)) {
            kept.push_str(l);
            kept.push('\n');
        }
        std::fs::write(&self.0, kept).ok();
    }
}

/// `--ssh-key` mounts the key read-only, the session's ssh-agent holds it
/// (`ssh-add -l` in the pane) and git over SSH uses it: with the host's
/// network (`--network host`) the pane reaches the sandbox's sshd, where
/// the key is authorized, and `git ls-remote` over SSH lists a repository.
#[test]
fn ssh_key_is_mounted_read_only_and_used_by_git() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("ssh-keys");
    let keys = tempfile::tempdir_in(home()).unwrap();
    let key = keys.path().join("id_ccytest");
    let comment = marker("ccy-key");
    sh_ok(&format!(
        "ssh-keygen -q -t ed25519 -N '' -C {} -f {}",
        q(&comment),
        q(key.to_str().unwrap())
    ));
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let auth = home().join(".ssh/authorized_keys");
    sh_ok(&format!(
        "printf '%s' {} >> {}",
        q(&pubkey),
        q(auth.to_str().unwrap())
    ));
    let _unauth = Unauthorize(auth, comment.clone());
    let remote = repo.dir.parent().unwrap().join("remote.git");
    sh_ok(&format!(
        "git clone -q --bare {} {}",
        q(repo.dir.to_str().unwrap()),
        q(remote.to_str().unwrap())
    ));

    let (term, name) = start(
        &repo,
        &format!("ccy --network host --ssh-key {}", q(key.to_str().unwrap())),
    );
    let c = inspect("container", &name).unwrap();
    let m = mount_at(&c, "/root/.ssh/ccy-keys/id_ccytest");
    assert_eq!(m["RW"], false, "{m}");
    assert_eq!(m["Source"], key.to_str().unwrap());
    assert!(
        c["Config"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "SSH_AUTH_SOCK=/tmp/ccy-ssh-agent.sock"),
        "{}",
        c["Config"]["Env"]
    );
    term.line("ssh-add -l; echo x >> /root/.ssh/ccy-keys/id_ccytest || echo KEY-IS''-RO");
    term.wait_for(&comment, 10);
    term.wait_for("KEY-IS-RO", 10);
    let head = sh_ok(&format!(
        "git -C {} rev-parse HEAD",
        q(repo.dir.to_str().unwrap())
    ));
    term.line(&format!(
        "GIT_SSH_COMMAND='ssh -p {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes' \
         git ls-remote dev@127.0.0.1:{} && echo LS-REMOTE''-OK",
        ssh_port(),
        q(remote.to_str().unwrap())
    ));
    let screen = term.wait_for("LS-REMOTE-OK", 30);
    assert!(screen.contains(&head), "{screen}");
}

/// The host's `~/.gitconfig` is the agent's, read-only.
#[test]
fn gitconfig_is_visible_read_only() {
    let _g = shared();
    first_session_output();
    let gc = home().join(".gitconfig");
    if !gc.exists() {
        // Written once; other tests do not mind it.
        std::fs::write(
            &gc,
            "[user]\n\tname = CCY Tester\n\temail = t@example.invalid\n",
        )
        .ok();
    }
    let want = sh_ok("git config --global user.name");
    let repo = Repo::new("gitconfig");
    let (term, name) = start(&repo, "ccy");
    term.line("echo \"name=[$(git config --global user.name)]\"; echo x >> /root/.gitconfig || echo GC-IS''-RO");
    term.wait_for(&format!("name=[{want}]"), 10);
    term.wait_for("GC-IS-RO", 10);
    let c = inspect("container", &name).unwrap();
    assert_eq!(mount_at(&c, "/root/.gitconfig")["RW"], false);
}

/// `session.mounts` and `--mount` bind host directories (read-only with
/// `:ro`; `~` expands; `:` and spaces in the host path are carried);
/// `session.env` passes ccy's value of a bare `NAME` and sets `NAME=VALUE`.
#[test]
fn extra_mounts_and_environment_reach_the_pane() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("mounts-env");
    let data = tempfile::Builder::new()
        .prefix("data dir:a,b ")
        .tempdir_in(home())
        .unwrap();
    std::fs::write(data.path().join("file.txt"), "from-the-host\n").unwrap();
    let rel = data
        .path()
        .strip_prefix(home())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let rw = tempfile::tempdir_in(home()).unwrap();
    add_config(
        &repo,
        &format!(
            "\n[session]\nmounts = [{}]\nenv = [\"FROM_CCY\", \"SET_HERE=a b $HOME 100%\"]\n",
            toml_str(&format!("~/{rel}:/data:ro"))
        ),
    );
    // The project file mounts a host path and passes a variable: it needs
    // the user's approval first.
    let (code, err) = ccy_in(&repo.dir, &["trust"], &[]);
    assert_eq!(code, 0, "{err}");
    let (term, name) = start(
        &repo,
        &format!(
            "FROM_CCY=passed-through ccy --mount {}",
            q(&format!("{}:/scratch", rw.path().display()))
        ),
    );
    term.line("cat /data/file.txt; echo \"env=[$FROM_CCY|$SET_HERE]\"; echo y > /data/new || echo DATA-IS''-RO; echo w > /scratch/written");
    term.wait_for("from-the-host", 10);
    term.wait_for("env=[passed-through|a b $HOME 100%]", 10);
    term.wait_for("DATA-IS-RO", 10);
    eventually(10, "write through the rw mount", || {
        std::fs::read_to_string(rw.path().join("written")).is_ok_and(|s| s == "w\n")
    });
    let c = inspect("container", &name).unwrap();
    let d = mount_at(&c, "/data");
    assert_eq!(d["RW"], false);
    assert_eq!(d["Source"], data.path().to_str().unwrap());
    assert_eq!(mount_at(&c, "/scratch")["RW"], true);
    let env: Vec<&str> = c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(env.contains(&"FROM_CCY=passed-through"), "{env:?}");
    assert!(env.contains(&"SET_HERE=a b $HOME 100%"), "{env:?}");

    // A host path that does not exist is refused before anything is made.
    let repo2 = Repo::new("mounts-missing");
    let (code, err) = ccy_in(&repo2.dir, &["--mount", "~/no-such-dir:/x"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no-such-dir") && err.contains("hint: "),
        "{err}"
    );
    assert!(repo2.session_names().is_empty());
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// `--no-network`: the container has only the loopback interface.
/// `--network NAME` of a network that does not exist is refused.
#[test]
fn no_network_leaves_only_loopback() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("no-net");
    let (term, name) = start(&repo, "ccy --no-network");
    let c = inspect("container", &name).unwrap();
    assert_eq!(c["HostConfig"]["NetworkMode"], "none");
    term.line(
        "echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ,)",
    );
    term.wait_for("ifaces=lo,", 10);
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    assert!(unit.contains("\nNetwork=none\n"), "{unit}");

    let repo2 = Repo::new("bad-net");
    let (code, err) = ccy_in(&repo2.dir, &["--network", "ccy-no-such-net"], &[]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("there is no Podman network ccy-no-such-net"),
        "{err}"
    );
    assert!(
        err.contains("hint: list networks with 'podman network ls'"),
        "{err}"
    );
    assert!(repo2.session_names().is_empty());
}

/// The cgroup controllers delegated to the user manager.
fn delegated_controllers() -> Vec<String> {
    let uid = sh_ok("id -u");
    std::fs::read_to_string(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
    ))
    .unwrap_or_default()
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// Limits are rendered (`PodmanArgs=--memory=… --cpus=…`, `PidsLimit=`),
/// and Podman reads them from the generated command as `podman inspect`
/// shows (`HostConfig.Memory`, `NanoCpus`, `PidsLimit`). The sandbox's
/// kernel cannot enforce them (its cgroup tree has no controllers; see
/// tests/sandbox/README.md), where crun refuses to start such a container:
/// so the generated `podman run` is replayed as `podman create`, which
/// parses every option without starting anything. `ccy --memory` itself
/// refuses up front there, naming the missing controller; on a host that
/// delegates them the session runs with the limits.
#[test]
fn limits_reach_podman() {
    let _g = shared();
    first_session_output();
    let work = tempfile::tempdir_in(home()).unwrap();
    let wt = work.path().join("wt");
    let state = work.path().join("state");
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let name =
        ccy::names::SessionName::parse(&format!("ccy-limits-{}", std::process::id())).unwrap();
    let spec = ccy::quadlet::spec::SessionSpec {
        name: name.clone(),
        project: "limits".into(),
        worktree: wt.clone(),
        branch: "main".into(),
        created: "2026-01-01T00:00:00Z".into(),
        image: TEST_IMAGE.into(),
        agent: vec!["bash".into()],
        autostart: false,
        gitconfig: None,
        state_dir: state.clone(),
        run: ccy::quadlet::runopts::RunOptions {
            network: Some("none".into()),
            limits: ccy::quadlet::runopts::Limits {
                memory: ccy::quadlet::runopts::parse_memory("512m").unwrap(),
                millicpus: ccy::quadlet::runopts::parse_cpus(1.5).unwrap(),
                pids: Some(300),
            },
            ..Default::default()
        },
        token_secret: None,
        history_volume: None,
        keep: false,
        keep_layer: None,
        created_worktree: None,
    };
    let units = ccy::quadlet::render::session(&spec).unwrap();
    assert!(
        units.container.contains("\nPidsLimit=300\n"),
        "{}",
        units.container
    );
    assert!(
        units
            .container
            .contains("\nPodmanArgs=\"--memory=512m\" \"--cpus=1.5\"\n"),
        "{}",
        units.container
    );
    let qdir = work.path().join("quadlet");
    std::fs::create_dir(&qdir).unwrap();
    std::fs::write(qdir.join(name.container_file()), &units.container).unwrap();
    std::fs::write(qdir.join(name.volume_file()), &units.volume).unwrap();
    let out = sh_ok(&format!(
        "QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user",
        q(qdir.to_str().unwrap())
    ));
    let services = ccy::quadlet::dryrun::split(&out).unwrap();
    let (unit, text) = services
        .iter()
        .find(|(n, _)| *n == name.service_unit())
        .unwrap();
    let file = unitparse::UnitFile::parse(text).unwrap();
    let exec = file.last("Service", "ExecStart").unwrap();
    let specs = Specifiers::quadlet_user(
        unit,
        std::env::var("XDG_RUNTIME_DIR").unwrap().as_str(),
        home().to_str().unwrap(),
    );
    let argv = unitparse::parse_exec(exec, &specs).unwrap()[0]
        .exec_argv()
        .unwrap();
    assert_eq!(argv[1], "run", "{argv:?}");
    for want in ["--memory=512m", "--cpus=1.5"] {
        assert!(argv.iter().any(|a| a == want), "{want} in {argv:?}");
    }
    let pids = argv.iter().position(|a| a == "--pids-limit").unwrap();
    assert_eq!(argv[pids + 1], "300");
    // Replay as `podman create`: same options, nothing started.
    let create: Vec<String> = argv
        .iter()
        .enumerate()
        .filter(|(i, a)| *i != 0 && !(a.starts_with("--cidfile") || *a == "-d" || *a == "--rm"))
        .map(|(i, a)| {
            if i == 1 {
                "create".to_owned()
            } else {
                a.clone()
            }
        })
        .collect();
    let created = Command::new("podman").args(&create).output().unwrap();
    assert!(
        created.status.success(),
        "podman {create:?}: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let c = inspect("container", name.as_str()).unwrap();
    sh(&format!(
        "podman rm -f {n}; podman volume rm -f {n}-state",
        n = q(name.as_str())
    ));
    assert_eq!(c["HostConfig"]["Memory"], 512 * 1024 * 1024);
    assert_eq!(c["HostConfig"]["NanoCpus"], 1_500_000_000_u64);
    assert_eq!(c["HostConfig"]["PidsLimit"], 300);
    assert_eq!(c["HostConfig"]["NetworkMode"], "none");

    // ccy itself, with the limits as flags.
    let repo = Repo::new("limits");
    let have = delegated_controllers();
    if ["memory", "cpu", "pids"]
        .iter()
        .all(|c| have.iter().any(|h| h == c))
    {
        let (_term, name) = start(&repo, "ccy --memory 512m --cpus 1.5 --pids 300");
        let c = inspect("container", &name).unwrap();
        assert_eq!(c["HostConfig"]["Memory"], 512 * 1024 * 1024);
        assert_eq!(c["HostConfig"]["NanoCpus"], 1_500_000_000_u64);
        assert_eq!(c["HostConfig"]["PidsLimit"], 300);
    } else {
        let (code, err) = ccy_in(
            &repo.dir,
            &["--memory", "512m", "--cpus", "1.5", "--pids", "300"],
            &[],
        );
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("the memory limit 512m"), "{err}");
        assert!(err.contains("has no 'memory' controller"), "{err}");
        assert!(err.contains("hint: delegate it"), "{err}");
        assert!(repo.session_names().is_empty());
    }
}

/// `session.max_running`: creating or starting a session when that many
/// run is refused, listing them, with the command that stops one.
#[test]
fn max_running_refuses_with_the_list() {
    // Counts every session of the user: no other test runs meanwhile.
    let _g = exclusive();
    first_session_output();
    let one = Repo::new("cap-one");
    add_config(&one, "\n[session]\nmax_running = 1\n");
    let (_t1, first) = start(&one, "ccy");

    let two = Repo::new("cap-two");
    let (code, err) = ccy_in(&two.dir, &[], &[("CCY_SESSION_MAX_RUNNING", "1")]);
    assert_eq!(code, 6, "{err}");
    assert!(
        err.contains("refusing to start another session: 1 running, session.max_running allows 1:"),
        "{err}"
    );
    assert!(
        err.contains(&format!("    {first}  cap-one  {}", one.dir.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("hint: stop one with 'ccy stop {first}'")),
        "{err}"
    );
    assert!(two.session_names().is_empty(), "nothing made");

    // Starting a stopped session counts too.
    let (_t2, second) = start(&two, "ccy");
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{first}.service"))
    ));
    let (code, err) = ccy_in(&one.dir, &[], &[]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains(&format!("ccy stop {second}")), "{err}");
    assert_eq!(
        crate::support::active_state(&format!("{first}.service")),
        "inactive"
    );
}

/// `.claude/ccy/Dockerfile` builds `localhost/ccy-project-PROJECT:latest`
/// from the ccy image (`FROM ${CCY_IMAGE}`), which new sessions run; an
/// edited Dockerfile is rebuilt; a failing build falls back to the base
/// image with a warning, as today's ccy does.
#[test]
fn project_dockerfile_builds_the_project_image() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("proj-image");
    let tag = "localhost/ccy-project-proj-image:latest";
    sh(&format!("podman rmi -f {tag}"));
    let dockerfile = repo.dir.join(".claude/ccy/Dockerfile");
    let write = |v: &str| {
        std::fs::write(
            &dockerfile,
            format!("ARG CCY_IMAGE\nFROM ${{CCY_IMAGE}}\nRUN echo {v} > /etc/ccy-project-marker\n"),
        )
        .unwrap();
    };
    write("marker-v1");
    let (term, name) = start(&repo, "ccy");
    term.line("cat /etc/ccy-project-marker");
    term.wait_for("marker-v1", 10);
    let c = inspect("container", &name).unwrap();
    crate::support::assert_runs_clean(&c, &name, tag);
    let label = |t: &str| {
        sh_ok(&format!(
            "podman image inspect --format '{{{{index .Labels \"ccy.image.project-hash\"}}}}' {t}"
        ))
    };
    let h1 = label(tag);
    assert_eq!(h1.len(), 16, "{h1}");
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(
        screen.contains(&format!(
            "ccy: building the project image {tag} from .claude/ccy/Dockerfile (first use)"
        )),
        "{screen}"
    );

    // Edited: rebuilt for the next session.
    remove_session(&name);
    write("marker-v2");
    let (term, name) = start(&repo, "ccy");
    term.line("cat /etc/ccy-project-marker");
    term.wait_for("marker-v2", 10);
    assert_ne!(label(tag), h1);
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(
        screen.contains("(the Dockerfile or the base image changed)"),
        "{screen}"
    );

    // Unchanged: not rebuilt.
    remove_session(&name);
    let (term, name) = start(&repo, "ccy");
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(!screen.contains("building the project image"), "{screen}");

    // Broken: the base image, with a warning.
    remove_session(&name);
    std::fs::write(
        &dockerfile,
        "ARG CCY_IMAGE\nFROM ${CCY_IMAGE}\nRUN exit 3\n",
    )
    .unwrap();
    let (term, name) = start(&repo, "ccy");
    crate::support::assert_runs_clean(&inspect("container", &name).unwrap(), &name, TEST_IMAGE);
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(
        screen.contains(&format!("ccy: warning: building the image {tag} failed"))
            && screen.contains(&format!(
                "this session runs the base image {TEST_IMAGE} instead"
            )),
        "{screen}"
    );
    remove_session(&name);
    sh(&format!("podman rmi -f {tag}"));
}

/// Conversations (`/root/.claude/projects`, what `claude --resume` lists)
/// live in the project's volume `ccy-history-PROJECT`: a new session of the
/// project, also in another worktree, finds those of earlier ones; the
/// rest of `/root/.claude` stays the session's own.
#[test]
fn history_is_shared_by_the_projects_sessions() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("hist-proj");
    sh("podman volume rm -f ccy-history-hist-proj");
    let (term, first) = start(&repo, "ccy");
    let m = marker("conv");
    term.line(&format!(
        "mkdir -p /root/.claude/projects/-workspace && echo {m} > /root/.claude/projects/-workspace/c.jsonl && echo own > /root/.claude/own.txt && echo wrote''-{m}"
    ));
    term.wait_for(&format!("wrote-{m}"), 10);
    drop(term);
    let v = inspect("volume", "ccy-history-hist-proj").unwrap();
    assert_eq!(v["Labels"]["ccy.history"], "hist-proj");
    remove_session(&first);

    let (term, second) = start(&repo, "ccy");
    assert_ne!(second, first);
    term.line(
        "cat /root/.claude/projects/-workspace/c.jsonl; cat /root/.claude/own.txt || echo NOT''-OWN",
    );
    term.wait_for(&m, 10);
    term.wait_for("NOT-OWN", 10);
    drop(term);

    // A linked worktree of the same project.
    let linked = repo.dir.parent().unwrap().join("hist-linked");
    sh_ok(&format!(
        "git -C {} worktree add -q -b side {}",
        q(repo.dir.to_str().unwrap()),
        q(linked.to_str().unwrap())
    ));
    let term = Term::spawn(&linked, "ccy");
    term.wait_for("root@", 120);
    term.line("cat /root/.claude/projects/-workspace/c.jsonl");
    term.wait_for(&m, 10);
    drop(term);
    // Repo's drop only knows its own worktree.
    let linked_repo_sessions: Vec<String> = std::fs::read_dir(quadlet_dir())
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let needle = serde_json::to_string(linked.canonicalize().ok()?.to_str()?).ok()?;
            let p = e.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "container" && text.contains(&needle)).then_some(stem)
        })
        .collect();
    for n in linked_repo_sessions {
        remove_session(&n);
    }
    remove_session(&second);
    sh("podman volume rm -f ccy-history-hist-proj");
}

/// An unknown key is refused naming the key and the file (or variable).
#[test]
fn unknown_config_key_names_key_and_file() {
    let repo = Repo::new("bad-key");
    add_config(&repo, "\n[session]\nmemroy = \"1g\"\n");
    let file = repo.dir.join(".claude/ccy/config.toml");
    let (code, err) = ccy_in(&repo.dir, &[], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "unknown configuration key session.memroy in {}",
            file.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    let repo2 = Repo::new("bad-var");
    let (code, err) = ccy_in(&repo2.dir, &[], &[("CCY_SESSION_MEMROY", "1g")]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "unknown configuration key session.memroy from environment variable CCY_SESSION_MEMROY"
        ),
        "{err}"
    );
    assert!(repo.session_names().is_empty() && repo2.session_names().is_empty());
}

/// `CCY_*` variables override the files; flags override the variables
/// (repeatable flags add to the list).
#[test]
fn environment_variables_and_flags_are_layers() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("layers");
    add_config(
        &repo,
        "\n[session]\nnetwork = \"ccy-no-such-net\"\nenv = [\"LAYER=file\"]\n",
    );
    let (term, name) = start(
        &repo,
        "CCY_SESSION_NETWORK=none CCY_SESSION_ENV='LAYER=env' ccy --env LAYER=flag --env OTHER=1",
    );
    let c = inspect("container", &name).unwrap();
    assert_eq!(c["HostConfig"]["NetworkMode"], "none", "env beats the file");
    let env: Vec<&str> = c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"LAYER=flag") && env.contains(&"OTHER=1"),
        "{env:?}"
    );
    term.line("echo \"layer=$LAYER\"");
    term.wait_for("layer=flag", 10);

    // A flag beats the variable: --no-network over a missing network.
    let repo2 = Repo::new("layers-flag");
    let (_t, name2) = start(
        &repo2,
        "CCY_SESSION_NETWORK=ccy-no-such-net ccy --no-network",
    );
    assert_eq!(
        inspect("container", &name2).unwrap()["HostConfig"]["NetworkMode"],
        "none"
    );

    // CCY_SESSION_MEMORY shows up; --memory beats it.
    if !delegated_controllers().iter().any(|c| c == "memory") {
        let repo3 = Repo::new("layers-mem");
        let (code, err) = ccy_in(&repo3.dir, &[], &[("CCY_SESSION_MEMORY", "700m")]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("the memory limit 700m"), "{err}");
        let (code, err) = ccy_in(
            &repo3.dir,
            &["--memory", "1g"],
            &[("CCY_SESSION_MEMORY", "700m")],
        );
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("the memory limit 1g"), "{err}");
        let (code, err) = ccy_in(&repo3.dir, &[], &[("CCY_SESSION_MEMORY", "lots")]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("invalid memory limit \"lots\""), "{err}");
    }
}
