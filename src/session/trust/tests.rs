#![allow(clippy::unwrap_used)]
use super::*;
use crate::config::Loader;

fn approval(scope: &str, sha: &str) -> Approval {
    Approval {
        scope: scope.into(),
        file: format!("{scope}/f").into(),
        sha256: sha.into(),
        keys: vec!["session.mounts".into()],
        approved: "2026-12-05T08:00:00Z".into(),
    }
}

#[test]
fn sha256_is_the_standard_digest() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn approvals_are_kept_private_replaced_and_revoked() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("state/trusted.json");
    let locks = dir.path().join("run");
    assert!(load(&store).unwrap().is_empty(), "no file: no approvals");
    approve(&store, &locks, approval("/r/.git", "aa")).unwrap();
    approve(&store, &locks, approval("/r/.git", "bb")).unwrap();
    approve(&store, &locks, approval("/r/.git", "aa")).unwrap();
    approve(&store, &locks, approval("/other/.git", "aa")).unwrap();
    let all = load(&store).unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(is_approved(&all, Path::new("/r/.git"), "aa"));
    assert!(is_approved(&all, Path::new("/r/.git"), "bb"));
    assert!(
        !is_approved(&all, Path::new("/r/.git"), "cc"),
        "other content"
    );
    assert!(
        !is_approved(&all, Path::new("/x/.git"), "aa"),
        "other scope"
    );
    let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let gone = revoke(&store, &locks, Path::new("/r/.git")).unwrap();
    assert_eq!(gone.len(), 2);
    let all = load(&store).unwrap();
    assert_eq!(all, [approval("/other/.git", "aa")]);
    std::fs::write(&store, "not json").unwrap();
    let err = load(&store).unwrap_err().to_string();
    assert!(err.contains("not ccy's approvals file") && err.contains("hint:"));
}

/// A git repository with `config` as its project file.
fn repo(config: &str) -> (tempfile::TempDir, Worktree) {
    let dir = tempfile::tempdir().unwrap();
    crate::host::git::testing::git(dir.path(), &["init", "-q"]);
    std::fs::create_dir_all(dir.path().join(".claude/ccy")).unwrap();
    std::fs::write(dir.path().join(".claude/ccy/config.toml"), config).unwrap();
    let wt = Worktree::discover(dir.path()).unwrap();
    (dir, wt)
}

fn paths(dir: &Path) -> Paths {
    Paths::new(
        1000,
        dir.join("home"),
        Some(dir.join("run")),
        Some(dir.join("config")),
        Some(dir.join("state")),
    )
}

fn loaded(wt: &Worktree, flags: &[(&str, &str)]) -> Loaded {
    let mut l = Loader::new()
        .project_file(&crate::config::project_file(&wt.root))
        .unwrap();
    for (k, v) in flags {
        l = l
            .flag(k, toml::Value::String((*v).into()), "--flag")
            .unwrap();
    }
    l.finish().unwrap()
}

/// Records the user's approval of the project file `l` loaded, as it is
/// now (`ccy trust`'s effect).
fn approve_project_file(p: &Paths, l: &Loaded, wt: &Worktree) {
    let project = l.project.clone().unwrap();
    approve(
        &store_path(p),
        &p.lock_dir(),
        Approval {
            scope: project_scope(wt),
            file: project.path.clone(),
            sha256: sha256_hex(&project.bytes),
            keys: vec![],
            approved: String::new(),
        },
    )
    .unwrap();
}

#[test]
fn a_project_file_that_widens_needs_an_approval_of_its_content() {
    let (_d, wt) = repo("[session]\nmounts = [\"~:/h\"]\nenv = [\"A=1\", \"SSH_AUTH_SOCK\"]\n");
    let tmp = tempfile::tempdir().unwrap();
    let p = paths(tmp.path());
    let l = loaded(&wt, &[]);
    let err = check_project(&p, &l, &wt).unwrap_err();
    assert_eq!(err.kind(), ExitKind::Usage);
    let text = err.to_string();
    assert!(text.contains("session.mounts, session.env"), "{text}");
    assert!(text.contains("session.mounts = [\"~:/h\"]"), "{text}");
    assert!(text.contains("session.env = [\"SSH_AUTH_SOCK\"]"), "{text}");
    assert!(
        !text.contains("A=1"),
        "a set value needs no approval: {text}"
    );
    assert!(text.contains("was not approved"), "{text}");
    assert!(text.contains(&trust_command(&wt.root)), "{text}");
    approve_project_file(&p, &l, &wt);
    check_project(&p, &l, &wt).unwrap();
    // One byte more: the approval no longer holds.
    std::fs::write(
        &l.project.as_ref().unwrap().path,
        "[session]\nmounts = [\"~:/h\"]\nenv = [\"A=1\", \"SSH_AUTH_SOCK\"]\n\n",
    )
    .unwrap();
    let err = check_project(&p, &loaded(&wt, &[]), &wt).unwrap_err();
    assert!(
        err.to_string().contains("changed since you approved"),
        "{err}"
    );
}

#[test]
fn a_project_file_without_widening_keys_needs_nothing() {
    let (_d, wt) = repo(
        "[agent]\ncommand = [\"sh\"]\n[image]\nname = \"x\"\n[session]\nnetwork = \"none\"\nenv = [\"A=1\"]\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    check_project(&paths(tmp.path()), &loaded(&wt, &[]), &wt).unwrap();
}

#[test]
fn privileged_networks_never_come_from_a_project_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = paths(tmp.path());
    for net in [
        "host",
        "container:db",
        "ns:/proc/1/ns/net",
        "pasta:--map-gw",
    ] {
        let (_d, wt) = repo(&format!("[session]\nnetwork = \"{net}\"\n"));
        let l = loaded(&wt, &[]);
        let err = check_project(&p, &l, &wt).unwrap_err().to_string();
        assert!(
            err.contains("never takes that from a project file"),
            "{err}"
        );
        // Even approved.
        approve_project_file(&p, &l, &wt);
        assert!(check_project(&p, &l, &wt).is_err());
        // The user's own flag overrides the file's value: no refusal
        // for the network (the flag is theirs).
        let l = loaded(&wt, &[("session.network", "host")]);
        check_project(&p, &l, &wt).unwrap();
    }
    // A named network from a project file needs an approval.
    let (_d, wt) = repo("[session]\nnetwork = \"backend\"\n");
    let err = check_project(&p, &loaded(&wt, &[]), &wt).unwrap_err();
    assert!(err.to_string().contains("session.network"), "{err}");
    assert!(privileged_network("host") && privileged_network("container:x"));
    assert!(!privileged_network("") && !privileged_network("none"));
    assert!(!privileged_network("backend") && !privileged_network("pasta"));
}

#[test]
fn trust_resolves_a_worktree_its_file_or_an_archive() {
    let (dir, wt) = repo("[session]\nssh_keys = [\"~/.ssh/id\"]\n");
    let sub = wt.root.join("src");
    std::fs::create_dir(&sub).unwrap();
    let file = crate::config::project_file(&wt.root);
    for (cwd, path) in [
        (sub.as_path(), None),
        (Path::new("/"), Some(wt.root.as_path())),
        (sub.as_path(), Some(Path::new("../.claude/ccy/config.toml"))),
    ] {
        let found = target(cwd, path).unwrap();
        assert_eq!(found.scope, project_scope(&wt));
        assert_eq!(found.file, std::fs::canonicalize(&file).unwrap());
        assert_eq!(found.bytes, std::fs::read(&file).unwrap());
        assert_eq!(found.widening[0].key, "session.ssh_keys");
    }
    let err = target(dir.path(), Some(Path::new("missing"))).unwrap_err();
    assert_eq!(err.kind(), ExitKind::NotFound);
    std::fs::remove_file(&file).unwrap();
    let err = target(&sub, None).unwrap_err();
    assert_eq!(err.kind(), ExitKind::NotFound, "{err}");

    // An archive: its manifest, scoped to the archive file.
    let mut opts = options();
    opts.mounts = vec!["/:/host:rw".into()];
    opts.network = "host".into();
    let manifest = serde_json::json!({
        "format": 1, "ccy_version": "0.1.0", "exported": "x",
        "session": {"name": "s", "project": "p", "worktree": "/w", "branch": "main",
                    "created": "x", "image": "i", "options": opts},
        "state_volume": "s-state", "live": false,
    });
    let text = serde_json::to_vec(&manifest).unwrap();
    let archive = dir.path().join("a.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_cksum();
    builder
        .append_data(&mut header, "manifest.json", &text[..])
        .unwrap();
    builder.into_inner().unwrap();
    let found = target(dir.path(), Some(Path::new("a.tar"))).unwrap();
    assert_eq!(found.scope, std::fs::canonicalize(&archive).unwrap());
    assert_eq!(found.bytes, text);
    assert_eq!(found.refused_network.as_deref(), Some("host"));
    assert_eq!(found.command.unwrap(), ["claude"]);
    let approval = Approval {
        scope: found.scope.clone(),
        file: found.file.clone(),
        sha256: sha256_hex(&found.bytes),
        keys: vec![],
        approved: String::new(),
    };
    assert_eq!(still_matches(&approval), Some(true));
    std::fs::remove_file(&archive).unwrap();
    assert_eq!(still_matches(&approval), None);
}

fn options() -> SessionOptions {
    SessionOptions {
        agent: vec!["claude".into()],
        autostart: true,
        network: String::new(),
        memory: String::new(),
        cpus: String::new(),
        pids: 0,
        mounts: vec![],
        env: vec!["A=1".into()],
        ssh_keys: vec![],
    }
}

#[test]
fn archive_options_keep_to_ssh_and_the_users_network() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(home.join(".claude-tokens/ccy/tokens")).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "k").unwrap();
    std::fs::write(
        home.join(".claude-tokens/ccy/tokens/me.2026-01-01.token"),
        "t",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        home.join(".claude-tokens/ccy/tokens/me.2026-01-01.token"),
        home.join(".ssh/sneaky"),
    )
    .unwrap();
    let a = Path::new("a.tar");
    let mut o = options();
    o.ssh_keys = vec!["~/.ssh/id_ed25519".into()];
    check_archive_options(a, &o, home, None).unwrap();
    for bad in [
        "~/.claude-tokens/ccy/tokens/me.2026-01-01.token",
        "~/.ssh/sneaky",
        "~/.ssh/../.bashrc",
        "/etc/shadow",
        "relative/key",
    ] {
        o.ssh_keys = vec![bad.into()];
        let e = check_archive_options(a, &o, home, None).unwrap_err();
        assert_eq!(e.kind(), ExitKind::Usage);
        assert!(
            e.to_string().contains("not a key file under ~/.ssh"),
            "{bad}: {e}"
        );
    }
    let mut o = options();
    o.env = vec!["SSH_AUTH_SOCK".into()];
    assert!(check_archive_options(a, &o, home, None).is_err());
    let mut o = options();
    o.network = "host".into();
    let e = check_archive_options(a, &o, home, None).unwrap_err();
    assert!(
        e.to_string().contains("never takes that from an archive"),
        "{e}"
    );
    check_archive_options(a, &o, home, Some("none")).unwrap();
    o.mounts = vec!["/:/host:rw".into()];
    let keys: Vec<String> = archive_widening(&o).into_iter().map(|w| w.key).collect();
    assert_eq!(keys, ["session.mounts", "session.network"]);
}
