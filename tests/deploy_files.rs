//! The deployment files stay in step with the project they deploy.
//!
//! No Docker engine runs in CI, so the image is never built there; these
//! checks catch the usual ways the Dockerfile silently goes stale: a new
//! target that its dependency-caching stub stage does not know about, or a
//! source directory that `.dockerignore` keeps out of the build context.
//! They also check that `pm2.config.js` at least parses (when Node.js is
//! installed) and that the container keeps the settings the docs promise.

use std::path::Path;
use std::process::Command;

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `name = "…"` of every `[[section]]` table in Cargo.toml.
fn target_names(manifest: &str, section: &str) -> Vec<String> {
    let header = format!("[[{section}]]");
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
        } else if inside {
            if let Some(value) = line.strip_prefix("name = ") {
                names.push(value.trim_matches('"').to_owned());
            }
        }
    }
    names
}

#[test]
fn the_dockerfile_stubs_every_target_and_copies_every_source_dir() {
    let manifest = read("Cargo.toml");
    let dockerfile = read("Dockerfile");
    let ignore = read(".dockerignore");
    for bench in target_names(&manifest, "bench") {
        let stub = format!("> benches/{bench}.rs");
        assert!(
            dockerfile.contains(&stub),
            "Cargo.toml declares bench {bench:?}; the Dockerfile's stub stage must create benches/{bench}.rs"
        );
    }
    for section in ["example", "test"] {
        let names = target_names(&manifest, section);
        assert!(
            names.is_empty(),
            "Cargo.toml declares [[{section}]] {names:?}: check that the Dockerfile still builds"
        );
    }
    for line in manifest.lines().map(str::trim) {
        if let Some(path) = line.strip_prefix("path = ") {
            let path = path.trim_matches('"');
            if path == "." {
                continue; // the crate's dev-dependency on itself
            }
            let dir = path.split('/').next().unwrap_or_default();
            assert!(
                ignore.contains(&format!("!{dir}/"))
                    && dockerfile.contains(&format!("COPY {dir} ")),
                "{path} is outside what the image copies (.dockerignore allow-list and COPY lines)"
            );
        }
    }
}

#[test]
fn the_builder_has_make_for_jemalloc() {
    let manifest = read("Cargo.toml");
    let dockerfile = read("Dockerfile");
    if !manifest.contains("tikv-jemallocator") {
        return;
    }
    let builder = dockerfile
        .split("FROM ${RUNTIME_IMAGE}")
        .next()
        .unwrap_or_default();
    assert!(
        builder.contains("apt-get install -y --no-install-recommends make"),
        "jemalloc builds with make, which the slim Rust image lacks: the builder stage must install it"
    );
}

#[test]
fn the_image_keeps_its_promises() {
    let dockerfile = read("Dockerfile");
    for promise in [
        "ENTRYPOINT [\"randchat\"]",
        "CMD [\"run\"]",
        "CMD [\"randchat\", \"healthcheck\"]",
        "DATA_DIR=/data",
        "ADMIN_LISTEN=0.0.0.0:8080",
        "VOLUME [\"/data\"]",
        "ARG APP_USER=10001:10001",
        "cargo build --release --locked",
    ] {
        assert!(
            dockerfile.contains(promise),
            "the Dockerfile lost {promise:?}"
        );
    }
    let compose = read("docker-compose.yml");
    for promise in [
        "profiles: [\"redis\"]",
        "stop_grace_period: 15s",
        "randchat-data:/data",
    ] {
        assert!(
            compose.contains(promise),
            "docker-compose.yml lost {promise:?}"
        );
    }
}

#[test]
fn the_pm2_config_parses_and_names_the_release_binary() {
    let config = read("pm2.config.js");
    assert!(config.contains("target/release/randchat"));
    assert!(config.contains("kill_timeout: 15000"));
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped the parse check: node is not installed (apt-get install -y nodejs)");
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pm2.config.js");
    let script = "const c = require(process.argv[1]); \
                  if (c.apps.length !== 1 || c.apps[0].instances !== 1) process.exit(3)";
    let output = Command::new("node")
        .args(["-e", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}
