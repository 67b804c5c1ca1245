//! The Markdown documentation: the README stays a front door (at most
//! [`README_MAX_LINES`] lines; the reference is in `docs/` and the man
//! pages), and every relative link in it, in `docs/` and in the other
//! Markdown files of the repository resolves: the file exists and a
//! `#fragment` names one of its headings (as GitHub makes anchors of them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The README's budget, in lines.
const README_MAX_LINES: usize = 300;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files checked: the top level's, `docs/`'s and those under
/// `tests/`.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["", "docs", "tests", "tests/sandbox", "tests/bench"] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The lines of `text` outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// `line` without its code spans (a link inside backticks is not a link).
fn without_code_spans(line: &str) -> String {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, part)| part)
        .collect()
}

/// The targets of the inline links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            targets.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lowercased, punctuation dropped (but not
/// `-` and `_`), spaces turned into `-`; code spans keep their text.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of the headings of `text`, a repeated one numbered as
/// GitHub numbers it (`name`, `name-1`, …).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose_lines(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = anchor(heading);
        let mut name = base.clone();
        let mut n = 0;
        while seen.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        seen.insert(name);
    }
    seen
}

#[test]
fn readme_is_a_front_door() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move reference text to docs/ \
         (or a verb's help, which becomes its man page)"
    );
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    let files = markdown_files();
    assert!(
        files.iter().any(|f| f.ends_with("docs/commands.md")),
        "docs/ was not found: {files:?}"
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(repo()).unwrap().display();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !linked.exists() {
                broken.push(format!("{shown}: ({target}): no file {}", linked.display()));
                continue;
            }
            let Some(fragment) = fragment else { continue };
            if linked.is_dir() {
                broken.push(format!("{shown}: ({target}): a directory has no headings"));
                continue;
            }
            let linked_text = std::fs::read_to_string(&linked).unwrap();
            if !anchors(&linked_text).contains(fragment) {
                broken.push(format!(
                    "{shown}: ({target}): no heading with anchor #{fragment}"
                ));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" ccy export / ccy import"), "ccy-export--ccy-import");
    assert_eq!(anchor(" What `tests/run` does"), "what-testsrun-does");
    assert_eq!(anchor(" From source (cargo)"), "from-source-cargo");
    let text = "# A\n```sh\n# not a heading\n```\n## A\n";
    assert_eq!(
        anchors(text),
        BTreeSet::from(["a".to_owned(), "a-1".to_owned()])
    );
    assert_eq!(
        link_targets("see [x](a.md#b) and `[y](c.md)`\n```\n[z](d.md)\n```\n"),
        ["a.md#b"]
    );
}
