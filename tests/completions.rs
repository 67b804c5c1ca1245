//! `ccy completions bash|zsh|fish`: the scripts load in their shells and
//! complete ccy's verbs and options. Runs the real `ccy` binary and the real
//! shells (bash, zsh, fish must be installed: `tests/run` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

/// `ccy completions SHELL`'s standard output; the command must succeed
/// with an empty environment (no HOME, no XDG variables).
fn script(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ccy"))
        .args(["completions", shell])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ccy completions {shell} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `shell args…` with HOME and XDG directories in `home` (the shells
/// write history and caches there); fails clearly when the shell is missing.
fn run_shell(shell: &str, args: &[&str], home: &Path) -> Output {
    let out = Command::new(shell)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .current_dir(home)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {shell} ({e}): install it to test its completions \
                 (Debian: apt-get install {shell}; tests/run does)"
            )
        });
    assert!(
        out.status.success(),
        "{shell} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What bash's completion function for `ccy` puts in COMPREPLY for the
/// words `line` with the cursor at the end of the last one.
fn bash_complete(script_file: &Path, home: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    // The function `complete -p ccy` names is called as bash calls it:
    // COMP_WORDS/COMP_CWORD set, and $1 $2 $3 = command, word, previous word.
    let program = format!(
        r#"set -e
source "$1"
spec=$(complete -p ccy)
func=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$func" ccy "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        words = quoted.join(" ")
    );
    let out = run_shell(
        "bash",
        &[
            "--norc",
            "--noprofile",
            "-c",
            &program,
            "bash",
            script_file.to_str().unwrap(),
        ],
        home,
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_verbs_options_and_values() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("ccy.bash");
    std::fs::write(&file, script("bash")).unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["ccy", "att"], &["attach"]),
        (&["ccy", "s"], &["shell", "status", "stop"]),
        (&["ccy", "logs", "--fo"], &["--follow"]),
        (&["ccy", "completions", "z"], &["zsh"]),
        (&["ccy", "stop", "--a"], &["--all"]),
    ];
    for (words, want) in cases {
        let mut got = bash_complete(&file, home.path(), words);
        got.sort();
        assert_eq!(&got, want, "bash completion of {words:?}");
    }
}

#[test]
fn zsh_script_parses_and_defines_the_verbs() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("_ccy");
    let text = script("zsh");
    std::fs::write(&file, &text).unwrap();
    assert!(text.starts_with("#compdef ccy"), "{text:.200}");
    run_shell("zsh", &["-f", "-n", file.to_str().unwrap()], home.path());
    // The verbs are in the _ccy_commands list as 'verb:summary'.
    for verb in ["attach", "new", "logs", "completions"] {
        assert!(
            text.contains(&format!("'{verb}:")),
            "zsh script lacks {verb}"
        );
    }
}

#[test]
fn fish_completes_verbs_and_options() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("ccy.fish");
    std::fs::write(&file, script("fish")).unwrap();
    let path = file.to_str().unwrap();
    run_shell("fish", &["--no-config", "-n", path], home.path());
    let out = run_shell(
        "fish",
        &[
            "--no-config",
            "--private",
            "-c",
            "source $argv[1]; complete -C'ccy att'; complete -C'ccy logs --fo'",
            path,
        ],
        home.path(),
    );
    let words: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(words, ["attach", "--follow"], "fish completions");
}
