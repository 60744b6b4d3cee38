//! deploy/randchat.service passes systemd's own checks, and those checks
//! would catch a broken unit. Runs `.ci/verify-systemd.sh`; skipped (with a
//! note) where systemd-analyze is not installed (`apt-get install systemd`).

use std::path::Path;
use std::process::{Command, Output};

fn verify(unit: Option<&Path>) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("bash");
    command
        .arg(root.join(".ci/verify-systemd.sh"))
        .arg(env!("CARGO_BIN_EXE_randchat"));
    if let Some(unit) = unit {
        command.env("UNIT", unit);
    }
    command.output().expect("run .ci/verify-systemd.sh")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_systemd_unit_verifies_and_a_broken_one_does_not() {
    let found = Command::new("systemd-analyze").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: systemd-analyze is not installed (apt-get install -y systemd)");
        return;
    }
    let good = verify(None);
    assert!(good.status.success(), "{}", text(&good));
    assert!(text(&good).contains("verify: clean"), "{}", text(&good));

    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/randchat.service");
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("randchat.service");
    let original = std::fs::read_to_string(unit).unwrap();
    let typo = original.replace("ProtectSystem=strict", "ProtectSystem=strcit");
    std::fs::write(&broken, typo).unwrap();
    let bad = verify(Some(&broken));
    assert!(
        !bad.status.success(),
        "a typo went unnoticed: {}",
        text(&bad)
    );
    assert!(text(&bad).contains("strcit"), "{}", text(&bad));

    let weak = original
        .replace("\nProtectSystem=strict", "\nProtectSystem=no")
        .replace("\nSystemCallFilter=", "\n#SystemCallFilter=");
    let weak = weak
        .lines()
        .filter(|l| !l.starts_with("Protect") && !l.starts_with("Private"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&broken, weak).unwrap();
    let bad = verify(Some(&broken));
    assert!(
        !bad.status.success(),
        "weak hardening passed: {}",
        text(&bad)
    );
    assert!(text(&bad).contains("hardening regressed"), "{}", text(&bad));
}
