//! Every unit ccy's tests render is accepted by the real Quadlet generator
//! and by `systemd-analyze --user verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{q, sh};

/// The renders of `ccy::quadlet::render::examples()` (the unit tests' snapshots)
/// through `quadlet -dryrun -user`: no unit dropped, and the generated
/// services verify.
#[test]
fn rendered_examples_pass_the_generator_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for (label, spec) in ccy::quadlet::render::examples() {
        let units = ccy::quadlet::render::session(&spec).unwrap_or_else(|e| panic!("{label}: {e}"));
        std::fs::write(
            dir.path().join(spec.name.container_file()),
            &units.container,
        )
        .unwrap();
        std::fs::write(dir.path().join(spec.name.volume_file()), &units.volume).unwrap();
        names.push(spec.name);
    }
    let out = sh(&format!(
        "QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user",
        q(dir.path().to_str().unwrap())
    ));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "generator failed: {stderr}");
    let services = ccy::quadlet::dryrun::split(&stdout).unwrap();
    let generated: Vec<&str> = services.iter().map(|(n, _)| n.as_str()).collect();
    for name in &names {
        assert!(
            generated.contains(&name.service_unit().as_str()),
            "{name} dropped: {stderr}"
        );
        assert!(
            generated.contains(&name.volume_unit().as_str()),
            "{name} volume dropped: {stderr}"
        );
    }

    // Issue 11 §2 rests on this: ccy's ExecStop= (keep-layer) comes out
    // before Quadlet's own `podman rm`, so it runs while the container runs.
    for (label, spec) in ccy::quadlet::render::examples() {
        let Some(keep) = &spec.keep_layer else {
            continue;
        };
        let text = &services
            .iter()
            .find(|(n, _)| *n == spec.name.service_unit())
            .unwrap()
            .1;
        let stops: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ExecStop="))
            .collect();
        assert_eq!(stops.len(), 2, "{label}: {text}");
        assert!(
            stops[0].contains("keep-layer") && stops[0].contains(keep.ccy.to_str().unwrap()),
            "{label}: {stops:?}"
        );
        assert!(stops[1].contains(" rm "), "{label}: {stops:?}");
        let start = text.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
        match &keep.image_file {
            // The image is chosen at each start: `${CCY_IMAGE}` reaches
            // ExecStart= unchanged (systemd expands it to one argument),
            // set in [Service] and overridden by the image file; Quadlet
            // takes `localhost/...` as fully qualified, so it does not warn.
            Some(file) => {
                assert!(
                    start.contains(" localhost/${CCY_IMAGE} "),
                    "{label}: {start}"
                );
                assert!(
                    text.contains("\nEnvironment=\"CCY_IMAGE=ccy:latest\"\n"),
                    "{label}: {text}"
                );
                let escaped = file.to_str().unwrap().replace('%', "%%");
                let line = format!("\nEnvironmentFile=-{escaped}\n");
                assert!(text.contains(&line), "{label}: {text}");
                // Only the metadata comment names the kept image.
                assert!(
                    !text
                        .lines()
                        .any(|l| !l.starts_with('#') && l.contains(&keep.image)),
                    "{label}: {text}"
                );
            }
            None => assert!(start.contains(&keep.image), "{label}: {start}"),
        }
    }
    assert!(
        !stderr.contains("fully qualified") && !stderr.contains("short-name"),
        "the generator warned about an image name: {stderr}"
    );

    let out_dir = tempfile::tempdir().unwrap();
    for (unit, text) in &services {
        std::fs::write(out_dir.path().join(unit), text).unwrap();
    }
    for (unit, _) in &services {
        let v = sh(&format!(
            "cd {} && systemd-analyze --user verify ./{} 2>&1",
            q(out_dir.path().to_str().unwrap()),
            q(unit)
        ));
        let text = String::from_utf8_lossy(&v.stdout);
        assert!(v.status.success(), "{unit} does not verify:\n{text}");
    }
}

/// The keep-layer `ExecStop=` (issue 11 §2) carries any ccy path, state
/// directory and image file a user can have to `ccy keep-layer NAME
/// STATE_DIR IMAGE_FILE` exactly, and `EnvironmentFile=` the image file,
/// as systemd parses it from what Quadlet generates (specifiers, quoting,
/// `$`), with the `-` prefix so a failed commit never fails the stop; a
/// ccy path with `$` (systemd does not unescape `$$` in the executable) is
/// refused with a hint instead of rendered wrong.
#[test]
fn keep_layer_exec_stop_carries_odd_paths_exactly() {
    use crate::unitparse::{self, Specifiers};
    use ccy::quadlet::render;

    let (_, base) = render::examples()
        .into_iter()
        .find(|(_, s)| s.keep_layer.is_some())
        .unwrap();
    let odd = [
        "/home/dev/my tools/ccy",
        "/opt/per%cent/%h/ccy",
        "/opt/semi;colon/ccy",
        "/opt/ünï cödé/ccy",
        "/opt/a=b,c:d/ccy",
    ];
    let state_dirs = [
        "/home/dev/.local/state/ccy/sessions/x",
        "/home/d ev/st'ate/%n/$HOME/$$/${X}",
        "/st\\ate/\"q\"/;/ü",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (i, ccy_path) in odd.iter().enumerate() {
        for (j, state) in state_dirs.iter().enumerate() {
            let name = ccy::names::SessionName::parse(&format!("keepodd{i}x{j}")).unwrap();
            let mut spec = base.clone();
            spec.name = name.clone();
            spec.state_dir = (*state).into();
            let keep = spec.keep_layer.as_mut().unwrap();
            keep.ccy = (*ccy_path).into();
            keep.image = format!("localhost/ccy-kept:{name}");
            keep.image_file = Some(format!("{state}/kept/{name}.env").into());
            let units =
                render::session(&spec).unwrap_or_else(|e| panic!("{ccy_path} {state}: {e}"));
            std::fs::write(dir.path().join(name.container_file()), &units.container).unwrap();
            std::fs::write(dir.path().join(name.volume_file()), &units.volume).unwrap();
            cases.push((name, *ccy_path, *state));
        }
    }
    // What systemd cannot take as an executable (`$`, which it does not
    // unescape there; a quote, backslash or control character, for which
    // it ignores the command): refused, with a hint, for the session's
    // ExecStop= and the timers' ExecStart= alike.
    for bad in [
        "/opt/$x/ccy",
        "/opt/q'uote/ccy",
        "/opt/q\"uote/ccy",
        "/opt/back\\slash/ccy",
        "/opt/tab\there/ccy",
    ] {
        let mut spec = base.clone();
        spec.keep_layer.as_mut().unwrap().ccy = bad.into();
        let err: ccy::error::Error = render::session(&spec).unwrap_err().into();
        assert!(!err.hints().is_empty(), "{bad}: {err}");
        let timer = render::TimerSpec {
            task: render::Task::Prune,
            ccy: bad.into(),
            schedule: "daily".into(),
            randomized_delay_secs: 0,
            accuracy_secs: 1,
            environment: Vec::new(),
        };
        assert!(render::task_timer(&timer).is_err(), "{bad}");
    }

    let out = sh(&format!(
        "QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user",
        q(dir.path().to_str().unwrap())
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let services = ccy::quadlet::dryrun::split(&String::from_utf8_lossy(&out.stdout)).unwrap();
    for (name, ccy_path, state) in cases {
        let unit = name.service_unit();
        let text = &services.iter().find(|(n, _)| *n == unit).unwrap().1;
        let file = unitparse::UnitFile::parse(text).unwrap();
        let stops = file.values("Service", "ExecStop");
        assert_eq!(stops.len(), 2, "{unit}: {stops:?}");
        let specs = Specifiers::quadlet_user(&unit, "/run/user/1000", "/home/dev");
        let cmd = &unitparse::parse_exec(stops[0], &specs).unwrap()[0];
        assert!(cmd.ignore_failure, "{unit}: {}", stops[0]);
        assert_eq!(cmd.path, ccy_path, "{unit}: {}", stops[0]);
        let image_file = format!("{state}/kept/{name}.env");
        assert_eq!(
            cmd.exec_argv().unwrap(),
            [ccy_path, "keep-layer", name.as_str(), state, &image_file],
            "{unit}: {}",
            stops[0]
        );
        let env_file = file.values("Service", "EnvironmentFile");
        assert_eq!(env_file.len(), 1, "{unit}: {env_file:?}");
        assert_eq!(
            specs.expand(env_file[0]).unwrap(),
            format!("-{image_file}"),
            "{unit}"
        );
    }
}
