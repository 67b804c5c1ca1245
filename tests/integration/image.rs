//! `ccy image build`: the agent image and the project image, built ahead
//! of time with the code a new session uses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{Repo, base_image, ccy_bin, q, sh, sh_ok, shared};

fn ccy(dir: &Path, args: &[&str]) -> Output {
    Command::new(ccy_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs ccy, asserts exit status `code`, returns (stdout, stderr).
fn ccy_code(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = ccy(dir, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "ccy {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or_default()
}

fn label(image: &str, key: &str) -> String {
    sh_ok(&format!(
        "podman image inspect --format '{{{{index .Labels \"{key}\"}}}}' {}",
        q(image)
    ))
}

fn image_id(image: &str) -> String {
    sh_ok(&format!(
        "podman image inspect --format '{{{{.Id}}}}' {}",
        q(image)
    ))
}

fn write_config(repo: &Repo, image: &str, agent_install: &str) {
    std::fs::write(
        repo.dir.join(".claude/ccy/config.toml"),
        format!(
            "[image]\nname = \"{image}\"\nbase = \"{}\"\nagent_install = \"{agent_install}\"\n\n[agent]\ncommand = [\"bash\", \"-l\"]\n",
            base_image()
        ),
    )
    .unwrap();
}

/// `ccy image build` builds `image.name` from ccy's Containerfile with the
/// assets label; `--if-needed` leaves a current image alone and rebuilds
/// one built from other settings; `ccy doctor` then finds it current.
#[test]
fn image_build_builds_the_agent_image() {
    let _g = shared();
    let repo = Repo::new("img-build");
    // Its own name: other tests build and run the shared test image.
    let image = format!("localhost/ccy-it-image-build-{}:latest", std::process::id());
    sh(&format!("podman rmi -f {}", q(&image)));
    write_config(&repo, &image, "");

    let (out, err) = ccy_code(&repo.dir, &["image", "build"], 0);
    assert_eq!(last_line(&out), format!("built {image}"), "{out}");
    assert!(
        err.contains(&format!("ccy: building the image {image}…")),
        "{err}"
    );
    let hash = label(&image, "ccy.image.assets");
    assert_eq!(hash.len(), 16, "{hash}");
    assert_eq!(
        sh_ok(&format!(
            "podman image inspect --format '{{{{json .Config.Cmd}}}}' {}",
            q(&image)
        )),
        r#"["/etc/ccy/start"]"#
    );
    let id = image_id(&image);

    // Current: --if-needed builds nothing.
    let (out, err) = ccy_code(&repo.dir, &["image", "build", "--if-needed"], 0);
    assert_eq!(last_line(&out), format!("{image} is up to date"), "{out}");
    assert!(!err.contains("building"), "{err}");
    assert_eq!(image_id(&image), id);

    // The doctor agrees.
    let doctor = ccy(&repo.dir, &["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "image")
        .unwrap()
        .clone();
    assert_eq!(check["level"], "ok", "{check}");

    // Other [image] settings: --if-needed rebuilds, as a new session would.
    write_config(&repo, &image, "touch /etc/ccy-it-agent-installed");
    let (out, err) = ccy_code(&repo.dir, &["image", "build", "--if-needed"], 0);
    assert_eq!(last_line(&out), format!("built {image}"), "{out}");
    assert!(err.contains("ccy: rebuilding the image"), "{err}");
    let hash2 = label(&image, "ccy.image.assets");
    assert_ne!(hash2, hash);
    sh_ok(&format!(
        "podman run --rm {} test -f /etc/ccy-it-agent-installed",
        q(&image)
    ));

    // Without --if-needed it always builds.
    let (out, _) = ccy_code(&repo.dir, &["image", "build"], 0);
    assert_eq!(last_line(&out), format!("built {image}"), "{out}");
    assert_eq!(label(&image, "ccy.image.assets"), hash2);

    // A failing build is exit 4 with Podman's reason.
    write_config(&repo, &image, "exit 7");
    let (_, err) = ccy_code(&repo.dir, &["image", "build"], 4);
    assert!(
        err.contains(&format!("building the image {image} failed")),
        "{err}"
    );
    sh(&format!("podman rmi -f {}", q(&image)));
}

/// `ccy image build --project` builds the worktree's project image from
/// `.claude/ccy/Dockerfile` FROM the agent image (built first when
/// missing); without a Dockerfile it is exit 5, outside a worktree exit 3.
#[test]
fn image_build_project_builds_the_project_image() {
    let _g = shared();
    let repo = Repo::new("img-proj");
    let image = format!("localhost/ccy-it-image-proj-{}:latest", std::process::id());
    let tag = "localhost/ccy-project-img-proj:latest";
    sh(&format!("podman rmi -f {} {tag}", q(&image)));
    write_config(&repo, &image, "");

    let (_, err) = ccy_code(&repo.dir, &["image", "build", "--project"], 5);
    assert!(
        err.contains("this worktree has no .claude/ccy/Dockerfile"),
        "{err}"
    );
    // Refused before building anything.
    assert!(!err.contains("building"), "{err}");
    assert!(
        sh(&format!("podman image exists {}", q(&image)))
            .status
            .code()
            == Some(1)
    );
    let (_, err) = ccy_code(&crate::support::home(), &["image", "build", "--project"], 3);
    assert!(err.contains("git"), "{err}");

    std::fs::write(
        repo.dir.join(".claude/ccy/Dockerfile"),
        "ARG CCY_IMAGE\nFROM ${CCY_IMAGE}\nRUN echo proj > /etc/ccy-it-project\n",
    )
    .unwrap();
    let (out, err) = ccy_code(&repo.dir, &["image", "build", "--project"], 0);
    assert_eq!(last_line(&out), format!("built {tag}"), "{out}");
    // The agent image was missing: built first, as for a new session.
    assert!(
        err.contains(&format!("ccy: building the image {image} (first use)")),
        "{err}"
    );
    assert_eq!(label(tag, "ccy.image.project-hash").len(), 16);
    assert_eq!(
        sh_ok(&format!("podman run --rm {tag} cat /etc/ccy-it-project")),
        "proj"
    );
    // Built FROM the agent image.
    sh_ok(&format!("podman run --rm {tag} test -x /etc/ccy/start"));

    let (out, err) = ccy_code(
        &repo.dir,
        &["image", "build", "--project", "--if-needed"],
        0,
    );
    assert_eq!(last_line(&out), format!("{tag} is up to date"), "{out}");
    assert!(!err.contains("building"), "{err}");

    std::fs::write(
        repo.dir.join(".claude/ccy/Dockerfile"),
        "ARG CCY_IMAGE\nFROM ${CCY_IMAGE}\nRUN exit 3\n",
    )
    .unwrap();
    let (_, err) = ccy_code(&repo.dir, &["image", "build", "--project"], 4);
    assert!(
        err.contains(&format!("building the image {tag} failed")),
        "{err}"
    );
    sh(&format!("podman rmi -f {tag} {}", q(&image)));
}
