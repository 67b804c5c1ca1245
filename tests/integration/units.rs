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
        assert!(text.contains(&keep.image), "{label}: {text}");
    }

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
