#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn shell_argv_with_and_without_a_terminal() {
    let strs = |v: Vec<OsString>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    };
    let env = vec![("TERM".to_owned(), "xterm".to_owned())];
    let shell = strs(shell_argv("s1", &[], true, &env));
    assert_eq!(
        shell,
        [
            "podman",
            "exec",
            "-i",
            "-t",
            "--detach-keys=",
            "-w",
            "/workspace",
            "-e",
            "TERM=xterm",
            "s1",
            "sh",
            "-c",
            "command -v bash >/dev/null 2>&1 && exec bash -l || exec sh -l"
        ]
    );
    let cmd = strs(shell_argv(
        "s1",
        &["cat".into(), "/etc/hostname".into()],
        false,
        &[],
    ));
    assert_eq!(
        cmd,
        [
            "podman",
            "exec",
            "-i",
            "--detach-keys=",
            "-w",
            "/workspace",
            "s1",
            "cat",
            "/etc/hostname"
        ]
    );
}

#[test]
fn attach_argv_plain_and_waiting() {
    let env = vec![("TERM".to_owned(), "xterm-256color".to_owned())];
    let plain: Vec<String> = attach_argv("s1", AttachMode::default(), &env)
        .into_iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        plain,
        [
            "podman",
            "exec",
            "-it",
            "--detach-keys=",
            "-e",
            "TERM=xterm-256color",
            "s1",
            "tmux",
            "-u",
            "set-option",
            "-u",
            "-t",
            "main",
            "prefix2",
            ";",
            "set-option",
            "-u",
            "-t",
            "main",
            "@ccy_nested",
            ";",
            "attach",
            "-t",
            "main"
        ]
    );
    let ro: Vec<String> = attach_argv(
        "s1",
        AttachMode {
            read_only: true,
            exclusive: true,
            nested: false,
        },
        &[],
    )
    .into_iter()
    .map(|s| s.to_string_lossy().into_owned())
    .collect();
    assert_eq!(ro[4..7], ["s1", "tmux", "-u"]);
    assert_eq!(ro[ro.len() - 5..], ["attach", "-t", "main", "-r", "-d"]);
}

#[test]
fn running_facts_are_the_image_then_the_mounts() {
    let f = parse_running_facts("abc123\n/workspace\n/run/ccy\n\n");
    assert_eq!(f.image.as_deref(), Some("abc123"));
    assert_eq!(f.mounts, ["/workspace", "/run/ccy"]);
    assert_eq!(parse_running_facts(""), RunningFacts::default());
}
