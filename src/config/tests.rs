//! Unit tests of `config`.

#![allow(clippy::unwrap_used)]
use super::*;

/// Environment variables as [`Loader::env`] takes them.
fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The error [`Loader::env`] gives for `var` set to `value`, as printed.
fn env_error(var: &str, value: &str) -> String {
    Loader::new()
        .env(vars(&[(var, value)]))
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_parse() {
    let loaded = Loader::new().finish().unwrap();
    assert_eq!(loaded.config.image.name, "localhost/ccy:latest");
    assert_eq!(
        loaded.config.agent.command,
        ["claude", "--dangerously-skip-permissions"]
    );
    assert!(loaded.sources.values().all(|s| *s == Source::Default));
}

#[test]
fn layers_override_key_by_key_and_remember_sources() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(&user, "[image]\nbase = \"localhost/b\"\n").unwrap();
    let loaded = Loader::new()
        .file(&user)
        .unwrap()
        .env(vars(&[
            ("CCY_AGENT_COMMAND", r#"["bash", "-l"]"#),
            ("CCY_IMAGE_NAME", "localhost/x:1"),
            ("UNRELATED", "1"),
        ]))
        .unwrap()
        .flag(
            "session.autostart",
            toml::Value::Boolean(false),
            "--no-autostart",
        )
        .unwrap()
        .finish()
        .unwrap();
    let c = &loaded.config;
    assert_eq!(c.image.base, "localhost/b");
    assert_eq!(c.image.name, "localhost/x:1");
    assert_eq!(c.agent.command, ["bash", "-l"]);
    assert!(!c.session.autostart);
    assert_eq!(loaded.sources["image.base"], Source::File(user.clone()));
    assert_eq!(
        loaded.sources["image.name"],
        Source::Env("CCY_IMAGE_NAME".into())
    );
    assert_eq!(loaded.sources["image.agent_install"], Source::Default);
    assert_eq!(
        loaded.sources["session.autostart"],
        Source::Flag("--no-autostart".into())
    );
}

#[test]
fn unknown_key_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("config.toml");
    std::fs::write(&f, "[image]\nnmae = \"typo\"\n").unwrap();
    let err = Loader::new().file(&f).unwrap_err().to_string();
    assert!(err.contains(&f.display().to_string()), "{err}");
    assert!(err.contains("nmae"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn wrong_type_from_env_is_refused() {
    let err = env_error("CCY_SESSION_AUTOSTART", "maybe");
    assert!(err.contains("CCY_SESSION_AUTOSTART"), "{err}");
}

#[test]
fn missing_file_is_fine() {
    assert!(
        Loader::new()
            .file(Path::new("/nonexistent/ccy.toml"))
            .is_ok()
    );
}

#[test]
fn unknown_key_names_the_section_key_and_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("config.toml");
    std::fs::write(&f, "[session]\nmemroy = \"8g\"\n").unwrap();
    let err = Loader::new().file(&f).unwrap_err();
    assert_eq!(err.kind(), crate::error::ExitKind::Usage);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "unknown configuration key session.memroy in {}",
            f.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("keys of [session]: session.autostart"),
        "{text}"
    );
    std::fs::write(&f, "[sesion]\nmemory = \"8g\"\n").unwrap();
    let text = Loader::new().file(&f).unwrap_err().to_string();
    assert!(
        text.contains("unknown configuration key sesion.memory"),
        "{text}"
    );
    assert!(
        text.contains("[agent], [hosts], [idle], [image], [notify], [prune], [session]"),
        "{text}"
    );
}

#[test]
fn unknown_variable_of_a_known_section_is_an_error() {
    let err = env_error("CCY_SESSION_MEMROY", "8g");
    assert!(
        err.starts_with(
            "unknown configuration key session.memroy from environment variable CCY_SESSION_MEMROY"
        ),
        "{err}"
    );
    // Not configuration: set in containers, or by the test harness.
    Loader::new()
        .env(vars(&[
            ("CCY_SESSION", "x"),
            ("CCY_AGENT", "bash"),
            ("CCY_TEST_SSH_PORT", "2222"),
        ]))
        .unwrap();
}

#[test]
fn env_values_for_lists_and_numbers() {
    let loaded = Loader::new()
        .env(vars(&[
            ("CCY_SESSION_SSH_KEYS", "~/.ssh/id"),
            ("CCY_SESSION_ENV", r#"["A=1", "B"]"#),
            ("CCY_SESSION_MEMORY", "8g"),
            ("CCY_SESSION_CPUS", "2"),
            ("CCY_SESSION_PIDS", "512"),
            ("CCY_SESSION_NETWORK", "none"),
        ]))
        .unwrap()
        .finish()
        .unwrap();
    let s = &loaded.config.session;
    assert_eq!(s.ssh_keys, ["~/.ssh/id"]);
    assert_eq!(s.env, ["A=1", "B"]);
    assert_eq!(s.memory, "8g");
    assert!((s.cpus - 2.0).abs() < f64::EPSILON);
    assert_eq!(s.pids, 512);
    assert_eq!(s.network, "none");
    assert_eq!(
        loaded.sources["session.memory"],
        Source::Env("CCY_SESSION_MEMORY".into())
    );
    let err = env_error("CCY_SESSION_PIDS", "-1");
    assert!(err.contains("CCY_SESSION_PIDS"), "{err}");
}

#[test]
fn flag_append_adds_to_the_configured_list() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("config.toml");
    std::fs::write(&f, "[session]\nmounts = [\"/a:/a\"]\n").unwrap();
    let loaded = Loader::new()
        .file(&f)
        .unwrap()
        .flag_append("session.mounts", &["/b:/b".to_owned()], "--mount")
        .unwrap()
        .flag_append("session.env", &[], "--env")
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(loaded.config.session.mounts, ["/a:/a", "/b:/b"]);
    assert_eq!(
        loaded.sources["session.mounts"],
        Source::Flag("--mount".into())
    );
    assert_eq!(loaded.sources["session.env"], Source::Default);
    assert!(
        Loader::new()
            .flag_append("session.memory", &["x".to_owned()], "--memory")
            .is_err()
    );
}

#[test]
fn every_default_key_is_documented_and_in_the_readme() {
    let mut pending_comment = false;
    for line in DEFAULTS.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            pending_comment = true;
        } else if line.contains(" = ") {
            assert!(pending_comment, "undocumented key: {line}");
            pending_comment = false;
        } else if line.is_empty() {
            pending_comment = false;
        }
    }
    let doc = include_str!("../../docs/configuration.md");
    assert!(
        doc.contains(DEFAULTS.trim()),
        "docs/configuration.md must hold config::DEFAULTS verbatim (section Layers)"
    );
}

#[test]
fn env_names() {
    assert_eq!(env_name("image.agent_install"), "CCY_IMAGE_AGENT_INSTALL");
}

#[test]
fn hosts_are_named_tables_of_known_keys_from_the_users_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("config.toml");
    std::fs::write(
        &f,
        "[hosts]\ntimeout = 1.5\n[hosts.lab1]\nssh = \"dev@lab1\"\noptions = [\"-p\", \"2222\"]\n[hosts.lab2]\n",
    )
    .unwrap();
    let loaded = Loader::new().file(&f).unwrap().finish().unwrap();
    let hosts = &loaded.config.hosts;
    assert!((hosts.timeout - 1.5).abs() < f64::EPSILON);
    assert_eq!(hosts.named.len(), 2);
    assert_eq!(hosts.named["lab1"].ssh, "dev@lab1");
    assert_eq!(hosts.named["lab1"].options, ["-p", "2222"]);
    assert_eq!(hosts.named["lab2"].ccy, "ccy");
    assert_eq!(loaded.sources["hosts.lab1.ssh"], Source::File(f.clone()));
    // Defaults: no host, 3 s.
    let d = Loader::new().finish().unwrap().config.hosts;
    assert!(d.named.is_empty());
    assert!((d.timeout - 3.0).abs() < f64::EPSILON);
    // An unknown key of a host is an error naming it.
    std::fs::write(&f, "[hosts.lab1]\nport = 22\n").unwrap();
    let text = Loader::new().file(&f).unwrap_err().to_string();
    assert!(text.contains("hosts.lab1.port"), "{text}");
    // A project file may not name hosts (their commands run outside the
    // session's container).
    let wt = dir.path().join("wt");
    std::fs::create_dir_all(wt.join(".claude/ccy")).unwrap();
    std::fs::write(project_file(&wt), "[hosts.lab1]\nccy = \"rm -rf ~\"\n").unwrap();
    let err = Loader::new().project_file(&project_file(&wt)).unwrap_err();
    assert_eq!(err.kind(), crate::error::ExitKind::Usage);
    assert!(err.to_string().contains("[hosts]"), "{err}");
}
