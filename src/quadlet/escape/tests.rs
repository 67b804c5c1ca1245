//! Tests of the escaping rules, each against systemd's and Podman's
//! documented behaviour.

#![allow(clippy::unwrap_used)]

use super::*;

/// Characters the brief names as hostile, one per string.
const NASTY: [&str; 24] = [
    "a\nb",
    "50%",
    "%n",
    "%%",
    "say \"hi\"",
    "it's",
    "back\\slash",
    "$HOME",
    "${HOME}",
    "$$",
    "two words",
    "a;b",
    "-rf",
    "--flag=x",
    "héllo wörld",
    "日本語",
    "tab\there",
    "cr\rlf",
    "bell\u{7}",
    "del\u{7f}",
    "nel\u{85}",
    "#hash",
    "[Section]",
    "\u{1f600}",
];

fn is_char_err(e: &EscapeError, want: char) -> bool {
    matches!(e, EscapeError::Char { ch, .. } if *ch == want)
}

#[test]
fn exec_arg_quotes_and_doubles() {
    for (value, quoted) in [
        ("plain", "\"plain\""),
        ("a b", "\"a b\""),
        ("50%", "\"50%%\""),
        ("$HOME", "\"$$HOME\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("it's", "\"it's\""),
        ("a\\b", "\"a\\\\b\""),
        ("a\nb\tc\rd", "\"a\\nb\\tc\\rd\""),
        ("\u{1}\u{7f}\u{1b}", "\"\\x01\\x7f\\x1b\""),
        ("\u{7}\u{8}\u{b}\u{c}", "\"\\a\\b\\v\\f\""),
        ("-rf", "\"-rf\""),
        ("a;b", "\"a;b\""),
        ("日本\u{85}", "\"日本\u{85}\""),
    ] {
        assert_eq!(exec_arg("f", value).unwrap(), quoted, "{value:?}");
    }
}

#[test]
fn exec_arg_never_breaks_the_line() {
    for s in NASTY {
        let w = exec_arg("f", s).unwrap();
        assert!(!w.contains(['\n', '\r', '\0']), "{w:?}");
        assert!(w.starts_with('"') && w.ends_with('"'));
        // Every '%' and '$' comes in pairs.
        assert_eq!(w.matches('%').count() % 2, 0);
        assert_eq!(w.matches('$').count() % 2, 0);
    }
}

#[test]
fn exec_arg_refusals() {
    let e = exec_arg("agent arg", "").unwrap_err();
    assert!(matches!(e, EscapeError::Value { .. }));
    assert!(e.to_string().starts_with("agent arg: value \"\""), "{e}");
    assert!(exec_arg("f", ";").is_err());
    assert!(exec_arg("f", " ; ").is_ok());
    let e = exec_arg("agent arg", "a\0b").unwrap_err();
    assert!(is_char_err(&e, '\0'));
    assert!(e.to_string().contains("'\\0' (U+0000) at byte 1"), "{e}");
    let e = exec_arg("f", "x\u{80}").unwrap_err();
    assert!(e.to_string().contains("U+0080"), "{e}");
    assert!(exec_arg("f", "\u{81}\u{9f}").is_ok());
    for nc in [
        '\u{fdd0}',
        '\u{fdef}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{1fffe}',
        '\u{10ffff}',
    ] {
        let e = exec_arg("f", &format!("a{nc}")).unwrap_err();
        assert!(is_char_err(&e, nc), "{e}");
        assert!(e.to_string().contains("noncharacter"), "{e}");
        assert!(label("f", "k", &nc.to_string()).is_err());
        assert!(service_env("f", "K", &nc.to_string()).is_err());
        assert!(verbatim_arg("f", &format!("a{nc}b")).is_err());
        assert!(bind_mount("f", &format!("/a{nc}"), "/w", &[]).is_err());
    }
    assert!(exec_arg("f", "\u{fdcf}\u{fdf0}\u{fffd}\u{1fffd}").is_ok());
    assert!(exec_arg("f", &"x".repeat(MAX_VALUE_LEN)).is_ok());
    assert!(exec_arg("f", &"x".repeat(MAX_VALUE_LEN + 1)).is_err());
}

#[test]
fn exec_args_joins_and_names_index() {
    assert_eq!(exec_args("cmd", &["a", "b c"]).unwrap(), "\"a\" \"b c\"");
    assert_eq!(exec_args::<&str>("cmd", &[]).unwrap(), "");
    let e = exec_args("cmd", &["ok", ";"]).unwrap_err();
    assert_eq!(e.field(), "cmd[1]");
}

#[test]
fn label_and_env_items() {
    assert_eq!(
        label("l", "ccy.worktree", "/a b").unwrap(),
        "\"ccy.worktree=/a b\""
    );
    assert_eq!(label("l", "k", "").unwrap(), "\"k=\"");
    assert_eq!(label("l", "k", "x=y").unwrap(), "\"k=x=y\"");
    assert_eq!(label("l", "k", ";").unwrap(), "\"k=;\"");
    assert_eq!(label("l", "k", "%n$X\n").unwrap(), "\"k=%%n$$X\\n\"");
    assert_eq!(
        label("l", "com.example/a-b_c", "v").unwrap(),
        "\"com.example/a-b_c=v\""
    );
    for s in NASTY {
        assert!(label("l", "k", s).is_ok(), "{s:?}");
        assert!(container_env("e", "K", s).is_ok(), "{s:?}");
    }
    assert!(is_char_err(&label("l", "a=b", "v").unwrap_err(), '='));
    assert!(is_char_err(&label("l", "a b", "v").unwrap_err(), ' '));
    assert!(is_char_err(&label("l", ".a", "v").unwrap_err(), '.'));
    assert!(label("l", "", "v").is_err());
    assert!(is_char_err(&label("l", "k", "\0").unwrap_err(), '\0'));
    assert!(is_char_err(
        &label("l", "k", "\u{80}").unwrap_err(),
        '\u{80}'
    ));
    assert_eq!(container_env("e", "_A1", "v v").unwrap(), "\"_A1=v v\"");
    assert!(is_char_err(
        &container_env("e", "1A", "v").unwrap_err(),
        '1'
    ));
    assert!(is_char_err(
        &container_env("e", "A-B", "v").unwrap_err(),
        '-'
    ));
    assert!(container_env("e", "", "v").is_err());
    // Found by the rendering property test (real containers): Podman's
    // --env makes \r\n a \n.
    let e = container_env("agent command", "CCY_AGENT", "a '\r\n'").unwrap_err();
    assert!(is_char_err(&e, '\r'), "{e}");
    assert!(e.to_string().contains("at byte 3"), "{e}");
    assert!(container_env("e", "K", "a\rb\n\n\r").is_ok());
}

#[test]
fn service_env_keeps_dollar() {
    assert_eq!(service_env("e", "A", "$x %n").unwrap(), "\"A=$x %%n\"");
    assert_eq!(
        service_env("e", "A", "a\"b\\c\nd").unwrap(),
        "\"A=a\\\"b\\\\c\\nd\""
    );
    assert_eq!(service_env("e", "A", "\u{80}").unwrap(), "\"A=\u{80}\"");
    assert!(service_env("e", "A", "a\0").is_err());
    assert!(service_env("e", "A B", "v").is_err());
}

#[test]
fn unit_text_rules() {
    assert_eq!(
        unit_text("d", "ccy: 50% \"done\" $x ;#").unwrap(),
        "ccy: 50%% \"done\" $x ;#"
    );
    assert!(unit_text("d", "").is_err());
    assert!(is_char_err(
        &unit_text("d", "a\u{fdd7}").unwrap_err(),
        '\u{fdd7}'
    ));
    assert!(is_char_err(&unit_text("d", "a\nb").unwrap_err(), '\n'));
    assert!(is_char_err(&unit_text("d", "a\tb").unwrap_err(), '\t'));
    assert!(is_char_err(&unit_text("d", " a").unwrap_err(), ' '));
    assert!(is_char_err(
        &unit_text("d", "a\u{a0}").unwrap_err(),
        '\u{a0}'
    ));
    assert!(is_char_err(
        &unit_text("d", "a\u{2028}").unwrap_err(),
        '\u{2028}'
    ));
    assert_eq!(unit_text("d", "\u{a0}a").unwrap(), "\u{a0}a");
    assert!(is_char_err(&unit_text("d", "a\\").unwrap_err(), '\\'));
    assert_eq!(unit_text("d", "a\\b").unwrap(), "a\\b");
    assert!(is_char_err(
        &unit_text("d", "a\u{85}b").unwrap_err(),
        '\u{85}'
    ));
}

#[test]
fn verbatim_arg_rules() {
    assert_eq!(verbatim_arg("w", "/a b/%h/$X").unwrap(), "/a b/%%h/$$X");
    assert_eq!(verbatim_arg("w", "a\"b").unwrap(), "a\"b");
    assert!(verbatim_arg("w", "\"a\"").is_err());
    assert!(is_char_err(&verbatim_arg("w", "\"a").unwrap_err(), '"'));
    assert!(is_char_err(&verbatim_arg("w", "a\"").unwrap_err(), '"'));
    assert!(verbatim_arg("w", "\"").is_err());
    assert!(verbatim_arg("w", "").is_err());
    assert!(verbatim_arg("w", ";").is_err());
    assert!(verbatim_arg("w", "a\\").is_err());
    assert!(verbatim_arg("w", "a ").is_err());
    assert!(verbatim_arg("w", "a\u{80}").is_err());
    assert_eq!(working_dir("w", "/x y").unwrap(), "/x y");
    assert!(working_dir("w", "x").is_err());
}

#[test]
fn names_images_units() {
    assert_eq!(resource_name("n", "ccy-main_1.2").unwrap(), "ccy-main_1.2");
    assert_eq!(
        resource_name("n", "ccy-home.volume").unwrap(),
        "ccy-home.volume"
    );
    assert!(is_char_err(&resource_name("n", "-x").unwrap_err(), '-'));
    assert!(is_char_err(&resource_name("n", "a b").unwrap_err(), ' '));
    assert!(is_char_err(&resource_name("n", "a%b").unwrap_err(), '%'));
    assert!(resource_name("n", "").is_err());
    assert!(resource_name("n", &"a".repeat(254)).is_err());
    for ok in ["localhost/ccy:latest", "r.io/a/b@sha256:00ff"] {
        assert_eq!(image("i", ok).unwrap(), ok);
    }
    assert!(is_char_err(&image("i", "--privileged").unwrap_err(), '-'));
    // Quadlet reads these as .image/.build unit names and drops the unit.
    for r in ["localhost/foo.image", "foo.build", "r.io/a/b.build"] {
        let e = image("image", r).unwrap_err();
        assert!(e.to_string().contains(".image or .build"), "{e}");
    }
    assert!(image("i", "localhost/foo.image:latest").is_ok());
    assert!(image("i", "localhost/foo.images").is_ok());
    assert!(is_char_err(&image("i", "a b").unwrap_err(), ' '));
    assert_eq!(unit_name("u", "default.target").unwrap(), "default.target");
    assert_eq!(unit_name("u", "a@b.service").unwrap(), "a@b.service");
    assert!(unit_name("u", "default").is_err());
    assert!(unit_name("u", ".target").is_err());
    assert!(is_char_err(
        &unit_name("u", "a\\x2d.target").unwrap_err(),
        '\\'
    ));
    assert!(is_char_err(&unit_name("u", "a b.target").unwrap_err(), ' '));
}

#[test]
fn bind_volume_rules() {
    assert_eq!(
        bind_volume("wt", "/src/a b", "/w", &[]).unwrap(),
        "/src/a b:/w"
    );
    assert_eq!(
        bind_volume("wt", "/a%b$c", "/w", &["ro", "z"]).unwrap(),
        "/a%%b$$c:/w:ro,z"
    );
    assert_eq!(bind_volume("wt", "/a\\b", "/w", &[]).unwrap(), "/a\\b:/w");
    let e = bind_volume("worktree path", "/a:b", "/w", &[]).unwrap_err();
    assert!(is_char_err(&e, ':'));
    assert!(
        e.to_string().starts_with("worktree path: character ':'"),
        "{e}"
    );
    assert!(bind_volume("wt", "/a", "/w:x", &[]).is_err());
    assert!(bind_volume("wt", "rel", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a/../b", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a/", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a//b", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a\\", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a\nb", "/w", &[]).is_err());
    assert!(bind_volume("wt", "/a", "/w ", &[]).is_err());
    assert!(bind_volume("wt", "/a", "/w", &["r o"]).is_err());
    assert!(bind_volume("wt", "/a", "/w", &[""]).is_err());
    assert_eq!(bind_volume("wt", "/", "/host", &[]).unwrap(), "/:/host");
    assert_eq!(
        named_volume("v", "ccy-home.volume", "/home/u", &["U"]).unwrap(),
        "ccy-home.volume:/home/u:U"
    );
    assert!(named_volume("v", "/abs", "/x", &[]).is_err());
}

#[test]
fn bind_mount_carries_colon_and_comma() {
    assert_eq!(
        bind_mount("wt", "/a:b", "/w", &[]).unwrap(),
        "\"type=bind,source=/a:b,destination=/w\""
    );
    assert_eq!(
        bind_mount("wt", "/a,b \"q\"", "/w", &["ro"]).unwrap(),
        "\"type=bind,\\\"source=/a,b \\\"\\\"q\\\"\\\"\\\",destination=/w,ro\""
    );
    assert_eq!(
        bind_mount("wt", "/%$\\x", "/w", &[]).unwrap(),
        "\"type=bind,source=/%%$$\\\\x,destination=/w\""
    );
    assert!(bind_mount("wt", "/a\\", "/w", &[]).is_err());
    // Found by the rendering property test: an escaped (even) trailing
    // run of backslashes does not continue RequiresMountsFor=.
    assert!(bind_mount("wt", "/a\\\\", "/w", &[]).is_ok());
    assert!(bind_mount("wt", "/a\\\\\\", "/w", &[]).is_err());
    // Found by the rendering property test: control characters other
    // than line breaks reach Podman unchanged (C escapes in the word).
    assert_eq!(
        bind_mount("wt", "/a\tb\u{1b}\u{7f}\u{85}", "/w", &[]).unwrap(),
        "\"type=bind,source=/a\\tb\\x1b\\x7f\u{85},destination=/w\""
    );
    for bad in ["/a\nb", "/a\rb", "/a\0b"] {
        let e = bind_mount("wt", bad, "/w", &[]).unwrap_err();
        assert!(e.to_string().contains("(U+000"), "{e}");
    }
    assert!(bind_mount("wt", "/a\u{80}", "/w", &[]).is_err());
    assert!(bind_mount("wt", "/a", "w", &[]).is_err());
    assert!(bind_mount("wt", "/a", "/w", &["a,b"]).is_err());
}

#[test]
fn add_device_rules() {
    assert_eq!(add_device("d", "/dev/fuse").unwrap(), "/dev/fuse");
    assert_eq!(add_device("d", "/dev/a b%").unwrap(), "\"/dev/a b%%\"");
    assert!(add_device("d", "-/dev/x").is_err());
    assert!(add_device("d", "/dev/a:b").is_err());
    assert!(add_device("d", "/dev/a\"b").is_err());
    assert!(add_device("d", "/dev/a\\b").is_err());
}

#[test]
fn error_display_names_field_char_and_reason() {
    let e = label("label ccy.branch", "ccy.branch", "x\u{80}").unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with("label ccy.branch: character '\\u{80}' (U+0080) at byte 1"),
        "{s}"
    );
    assert!(s.contains("Label=/Environment="), "{s}");
}

#[test]
fn env_file_is_absolute_with_specifiers_doubled() {
    assert_eq!(env_file("f", "/a b/50%/x.env").unwrap(), "-/a b/50%%/x.env");
    assert!(env_file("f", "rel/x.env").is_err());
    assert!(env_file("f", "/a\nb").is_err());
    assert!(env_file("f", "/a\\").is_err());
    assert!(env_file("f", "/a ").is_err());
}
