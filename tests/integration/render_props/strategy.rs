//! proptest strategies for [`super::Case`]: every input of a session spec,
//! drawn from character classes heavy in what the three layers between ccy
//! and Podman interpret (see `src/quadlet/escape.rs`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::Case;
use crate::support::TEST_IMAGE;

/// Pieces every position may carry (some only in some positions): the
/// characters and sequences Quadlet, systemd or Podman give a meaning, plus
/// attempts to inject a key, a section, a command or an option.
const CARRIED: &[&str] = &[
    "\n",
    "\r",
    "\t",
    "\r\n",
    "%",
    "%n",
    "%%",
    "%h",
    "%t",
    "%Z",
    "$",
    "$HOME",
    "${HOME}",
    "$$",
    "$1",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    "\\n",
    "\\x41",
    "\\\\",
    "\\\n",
    " ",
    "  ",
    ";",
    " ; ",
    ":",
    ",",
    "=",
    "#",
    "-",
    "--",
    "[",
    "]",
    "[Service]",
    "\n[Service]\nExecStartPre=/bin/false\n",
    "\nExecStart=/bin/evil",
    "\nLabel=x=y",
    "\nEnvironment=X=1",
    "\" --privileged \"",
    "é",
    "日本",
    "😀",
    "\u{81}",
    "\u{9f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{200b}",
    "\u{7f}",
    "\u{1b}",
    "\u{7}",
    "\u{b}",
    ".",
    "..",
    "/",
    "//",
    "type=bind",
    "source=/etc",
    ",destination=/x",
    "--privileged",
    "-v",
    "/:/host",
    "\"\"",
    "''",
    "*",
    "~",
    "`id`",
    "&&",
    "|",
    "!",
    "@",
    "+",
    ".volume",
    ".image",
    ".build",
];

/// Pieces no position can carry (NUL, U+0080, noncharacters).
const REFUSED: &[&str] = &[
    "\0",
    "\u{80}",
    "\u{fdd0}",
    "\u{fdef}",
    "\u{fffe}",
    "\u{1ffff}",
];

/// Pieces for path components: no `/`, no control characters (refused in
/// paths, see `escape::check_path`), so that most generated paths are
/// accepted and reach the generator.
const PATH_PIECES: &[&str] = &[
    " ",
    "%",
    "%n",
    "%%",
    "$",
    "$HOME",
    "${X}",
    "$$",
    "\"",
    "'",
    "\\",
    ";",
    ":",
    ",",
    "=",
    "#",
    "-",
    "--",
    "{",
    "}",
    "[",
    "]",
    "[Service]",
    "type=bind",
    "source=",
    "é",
    "日本",
    "😀",
    "\u{81}",
    "\u{9f}",
    "\u{a0}",
    "\u{2028}",
    "\u{feff}",
    "\u{200b}",
    "*",
    "~",
    "@",
    "!",
    "+",
    "\"\"",
    ".volume",
    "`id`",
];

/// One piece of a text value.
fn piece() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        8 => "[a-zA-Z0-9_.]{1,6}",
        8 => select(CARRIED).prop_map(str::to_owned),
        1 => select(REFUSED).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Edges of a value: leading `-`, leading/trailing white space, a trailing
/// backslash.
fn edge() -> impl Strategy<Value = String> + Clone {
    select(
        &[
            "", "-", "--", " ", "  ", "\t", "\u{a0}", "\u{2028}", "\\", "\"", "'", "\n", "%", "$",
            ";",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// `len` bytes (about) of `pattern` repeated, cut at a character boundary.
fn long(pattern: &str, len: usize) -> String {
    let pattern = if pattern.is_empty() { "x" } else { pattern };
    let mut s = pattern.repeat(len / pattern.len() + 1);
    let mut cut = len.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// A text value: empty, short and hostile, edged, or long (around
/// `MAX_VALUE_LEN`, 16 KiB, on both sides).
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(String::new()),
        20 => vec(piece(), 1..10).prop_map(|v| v.concat()),
        4 => (edge(), vec(piece(), 0..6), edge()).prop_map(|(a, m, b)| format!("{a}{}{b}", m.concat())),
        1 => (vec(piece(), 1..4), 1000_usize..20_000).prop_map(|(p, n)| long(&p.concat(), n)),
    ]
    .boxed()
}

/// A path component: never empty, `.` or `..`, no `/`.
fn component() -> impl Strategy<Value = String> + Clone {
    vec(
        prop_oneof![
            3 => "[a-zA-Z0-9_.-]{1,8}",
            3 => select(PATH_PIECES).prop_map(str::to_owned),
            // Rarely something a path cannot carry (control characters, ...).
            1 => piece(),
        ],
        1..5,
    )
    .prop_map(|v| {
        let c = v.concat().replace('/', "_");
        if c.is_empty() || c == "." || c == ".." {
            format!("{c}x")
        } else {
            c
        }
    })
}

/// A host path: mostly absolute and normalised; sometimes `/`, relative,
/// not normalised, ending in a backslash, too long, or not UTF-8.
pub fn path() -> BoxedStrategy<PathBuf> {
    prop_oneof![
        24 => vec(component(), 1..5).prop_map(|c| PathBuf::from(format!("/{}", c.join("/")))),
        1 => Just(PathBuf::from("/")),
        1 => text().prop_map(PathBuf::from),
        1 => (vec(component(), 1..3), select(&["//", "/./", "/../", "/"][..]))
            .prop_map(|(c, sep)| PathBuf::from(format!("/{}{sep}{}", c[0], c[1..].join("/")))),
        1 => vec(component(), 1..3).prop_map(|c| PathBuf::from(format!("/{}\\", c.join("/")))),
        1 => (component(), 17_000_usize..18_000).prop_map(|(c, n)| PathBuf::from(format!("/{}", long(&c, n)))),
        1 => (vec(component(), 1..3), proptest::num::u8::ANY.prop_filter("not ASCII", |b| *b >= 0x80))
            .prop_map(|(c, b)| {
                let mut bytes = format!("/{}/", c.join("/")).into_bytes();
                bytes.push(b);
                PathBuf::from(OsString::from_vec(bytes))
            }),
    ]
    .boxed()
}

/// A session name: mostly valid, sometimes breaking one rule of
/// `SessionName::parse` (characters, first character, length, `-volume`).
pub fn name() -> BoxedStrategy<String> {
    prop_oneof![
        12 => "[a-zA-Z0-9][a-zA-Z0-9_-]{0,30}",
        1 => text(),
        1 => "[a-zA-Z0-9][a-zA-Z0-9_-]{0,10}-volume",
        1 => "[a-z]{60,70}",
        1 => "[-_.][a-z]{0,5}",
        1 => "[a-z]{1,5}[.@:/ ][a-z]{0,5}",
    ]
    .boxed()
}

/// An image reference: mostly the test image or plausible references,
/// sometimes with Quadlet's unit suffixes, option-like or hostile text.
pub fn image() -> BoxedStrategy<String> {
    prop_oneof![
        6 => Just(TEST_IMAGE.to_owned()),
        2 => "[a-z0-9][a-z0-9._/-]{0,20}(:[a-z0-9._-]{1,10})?(@sha256:[0-9a-f]{8})?",
        1 => ("[a-z0-9][a-z0-9/-]{0,10}", select(&[".image", ".build", ".volume", ".container", ".network", ".kube", ".pod"][..]))
            .prop_map(|(a, b)| format!("{a}{b}")),
        1 => select(&["--privileged", "-v", "a b", "a\nb", "%n", "$x", "a;b", "localhost/x:y "][..]).prop_map(str::to_owned),
        1 => text(),
    ]
    .boxed()
}

/// A creation time: mostly RFC 3339, sometimes anything.
fn created() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z",
        1 => text(),
    ]
    .boxed()
}

/// A whole case.
pub fn case() -> BoxedStrategy<Case> {
    (
        (name(), text(), path(), text(), created()),
        (
            image(),
            vec(text(), 0..6),
            any::<bool>(),
            option::weighted(0.7, path()),
            path(),
        ),
    )
        .prop_map(
            |(
                (name, project, worktree, branch, created),
                (image, agent, autostart, gitconfig, state_dir),
            )| Case {
                name,
                project,
                worktree,
                branch,
                created,
                image,
                agent,
                autostart,
                gitconfig,
                state_dir,
            },
        )
        .boxed()
}
