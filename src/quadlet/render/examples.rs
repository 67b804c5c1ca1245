//! The example sessions behind the snapshot tests and the integration
//! suite's `quadlet -dryrun` checks.

use crate::names::SessionName;
use crate::quadlet::runopts::{BindMount, Limits, Memory, RunOptions};
use crate::quadlet::spec::SessionSpec;

/// Example sessions covering the template's branches: the snapshot tests
/// render them, and the integration suite feeds the same renders to the
/// real Quadlet generator (`quadlet -dryrun`). Returns `(label, spec)`.
///
/// # Panics
/// Never: the names are valid (checked by the unit tests).
#[must_use]
pub fn examples() -> Vec<(&'static str, SessionSpec)> {
    #[expect(clippy::expect_used, reason = "constant names, covered by tests")]
    let name = |n: &str| crate::names::SessionName::parse(n).expect("valid example name");
    let base = SessionSpec {
        name: name("ccy-app-0123abcd"),
        project: "app".into(),
        worktree: "/home/dev/src/app".into(),
        branch: "main".into(),
        created: "2026-11-21T05:00:00Z".into(),
        image: "localhost/ccy:latest".into(),
        agent: vec!["claude".into(), "--dangerously-skip-permissions".into()],
        autostart: true,
        gitconfig: Some("/home/dev/.gitconfig".into()),
        state_dir: "/home/dev/.local/state/ccy/sessions/ccy-app-0123abcd".into(),
        created_worktree: None,
        run: RunOptions::default(),
        token_secret: Some("ccy-token-work".into()),
        history_volume: Some("ccy-history-app".into()),
        keep: false,
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: "localhost/ccy-kept:ccy-app-0123abcd".into(),
            ccy: "/home/dev/.local/bin/ccy".into(),
            image_file: Some("/home/dev/.local/state/ccy/kept/ccy-app-0123abcd.env".into()),
        }),
    };
    let odd = SessionSpec {
        name: name("odd_one"),
        project: "my-app".into(),
        worktree: "/home/dev/My Projects/50% \"done\", $HOME: 'x'\\y/é".into(),
        branch: "feat/über-$x;%n".into(),
        agent: vec![
            "claude".into(),
            "--append-system-prompt".into(),
            "Use 100% of \"$PATH\";\nthen stop".into(),
        ],
        autostart: false,
        gitconfig: None,
        state_dir: "/home/dev/.local/state/ccy/sessions/odd_one".into(),
        run: RunOptions {
            network: Some("my net%$x".into()),
            mounts: vec![BindMount {
                source: "/home/dev/a:b, \"c\" 100%/$x".into(),
                dest: "/mnt/with space,comma".into(),
                read_only: false,
            }],
            env: vec![
                ("GREETING".into(), "hello \"world\" $HOME 100%\n;".into()),
                ("EMPTY".into(), String::new()),
            ],
            ssh_keys: vec![BindMount {
                source: "/home/dev/.ssh/id ed25519".into(),
                dest: "/root/.ssh/ccy-keys/id ed25519".into(),
                read_only: true,
            }],
            ..RunOptions::default()
        },
        token_secret: None,
        history_volume: None,
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: "localhost/ccy-kept:odd_one".into(),
            ccy: "/home/dev/my tools/ccy".into(),
            image_file: Some("/home/dev/state 100%/ccy/kept/odd_one.env".into()),
        }),
        ..base.clone()
    };
    let limited = SessionSpec {
        name: name("ccy-app-89abcdef"),
        state_dir: "/home/dev/.local/state/ccy/sessions/ccy-app-89abcdef".into(),
        run: RunOptions {
            network: Some("none".into()),
            limits: Limits {
                memory: Some(Memory {
                    text: "512m".into(),
                    bytes: 512 << 20,
                }),
                millicpus: Some(1500),
                pids: Some(300),
            },
            mounts: vec![BindMount {
                source: "/home/dev/data".into(),
                dest: "/data".into(),
                read_only: true,
            }],
            env: vec![("EDITOR".into(), "vi".into())],
            ssh_keys: vec![BindMount {
                source: "/home/dev/.ssh/github_work".into(),
                dest: "/root/.ssh/ccy-keys/github_work".into(),
                read_only: true,
            }],
            known_hosts: Some("/home/dev/.ssh/known_hosts".into()),
        },
        keep: true,
        keep_layer: None,
        ..base.clone()
    };
    vec![
        ("default", base.clone()),
        ("odd values, no autostart", odd),
        ("limits, no network, mounts, env, SSH key", limited),
        ("kept image named literally", tagged_example(&base)),
    ]
}

/// The example whose clean image is a registry's, so its unit names its
/// kept image literally (tagged when the session is made), like every
/// session made before image files.
fn tagged_example(base: &SessionSpec) -> SessionSpec {
    #[expect(clippy::expect_used, reason = "a constant name, covered by tests")]
    let name = SessionName::parse("ccy-app-fedcba98").expect("valid example name");
    SessionSpec {
        image: "quay.io/example/agent:1".into(),
        state_dir: format!("/home/dev/.local/state/ccy/sessions/{name}").into(),
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: name.kept_image(),
            ccy: "/home/dev/.local/bin/ccy".into(),
            image_file: None,
        }),
        name,
        ..base.clone()
    }
}
