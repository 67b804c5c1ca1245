//! The man pages as a user gets them: installed by the README's install
//! line after `cargo install`, found by `man` with no `MANPATH`, and
//! rendered without a warning, on a UTF-8 and on an ASCII terminal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use crate::support::ccy_bin;

/// The pages the test installs and reads, with a line of each page's NAME
/// section as `man` renders it.
const PAGES: [(&str, &str, &str); 2] = [
    (
        "ccy.1",
        include_str!("../../man/ccy.1"),
        "ccy - Persistent, resumable Podman Quadlet sessions",
    ),
    (
        "ccy-new.1",
        include_str!("../../man/ccy-new.1"),
        "ccy-new - Start another session for this worktree",
    ),
];

/// The line of the README's install block that installs the man pages
/// (`install … man/*.1`), as a user would paste it.
fn readme_man_install_line() -> &'static str {
    include_str!("../../README.md")
        .lines()
        .find(|l| l.starts_with("install ") && l.contains("man/*.1"))
        .expect("README.md has an `install … man/*.1` line in its install block")
}

/// Runs `cmd` through `sh -c` in `dir` as a fresh login would after
/// installing Rust with rustup: `HOME` is `home`, `PATH` is
/// `~/.cargo/bin` (rustup's) and the system's, no `MANPATH`; `env` adds to
/// that.
fn user_sh(dir: &Path, home: &Path, path: &str, env: &[(&str, &str)], cmd: &str) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .env_clear()
        .env("HOME", home)
        .env("PATH", path)
        .env("LANG", "C.UTF-8");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn man_finds_and_renders_the_pages_the_readme_installs() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let checkout = scratch.path().join("ccy");
    // What `cargo install --path .` leaves: ccy in ~/.cargo/bin.
    std::fs::create_dir_all(home.join(".cargo/bin")).unwrap();
    std::fs::copy(ccy_bin(), home.join(".cargo/bin/ccy")).unwrap();
    // The checkout's man/ directory.
    std::fs::create_dir_all(checkout.join("man")).unwrap();
    for (file, page, _) in PAGES {
        std::fs::write(checkout.join("man").join(file), page).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", home.join(".cargo/bin").display());

    let line = readme_man_install_line();
    let out = user_sh(&checkout, &home, &path, &[], line);
    assert!(
        out.status.success(),
        "the README's `{line}` failed: {}",
        text(&out.stderr)
    );
    let out = user_sh(&checkout, &home, &path, &[], "command -v ccy");
    assert_eq!(
        text(&out.stdout).trim(),
        home.join(".cargo/bin/ccy").display().to_string()
    );

    for (file, _, name_line) in PAGES {
        let page = file.trim_end_matches(".1");
        // `man -w` names the file it would show: the installed one, found
        // through PATH (no MANPATH is set).
        let out = user_sh(&home, &home, &path, &[], &format!("man -w {page}"));
        assert!(
            out.status.success(),
            "`man -w {page}` after `{line}`: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let found = text(&out.stdout);
        assert!(
            found.trim().starts_with(&home.display().to_string()),
            "`man -w {page}` found {found}, not the page the README installed under {}",
            home.display()
        );
        // The page renders, in a UTF-8 and in the C locale, with no
        // warning from man or groff.
        for locale in ["C.UTF-8", "C"] {
            let out = user_sh(
                &home,
                &home,
                &path,
                &[("LC_ALL", locale), ("MANPAGER", "cat"), ("MANWIDTH", "80")],
                &format!("man {page}"),
            );
            // groff may set `\-` as a Unicode minus or hyphen.
            let shown = text(&out.stdout).replace(['\u{2212}', '\u{2010}'], "-");
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "`man {page}` (LC_ALL={locale}) failed or warned ({}): {}",
                out.status,
                text(&out.stderr)
            );
            assert!(
                shown.contains(name_line) && shown.contains("EXIT STATUS"),
                "`man {page}` (LC_ALL={locale}) shows no page of ccy:\n{shown}"
            );
        }
    }

    // The control: without ~/.cargo/bin on PATH, man does not look there.
    let out = user_sh(&home, &home, "/usr/bin:/bin", &[], "man -w ccy-new");
    assert!(
        !text(&out.stdout).contains(&home.display().to_string()),
        "man found the page without ~/.cargo/bin on PATH: is MANPATH set somewhere? {}",
        text(&out.stdout)
    );
}
