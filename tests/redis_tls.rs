//! `rediss://`: the Redis store over TLS, against a private redis-server
//! with a certificate from a throw-away CA. The CA reaches randchat the way
//! an operator's would: through the system trust store, here pointed at
//! with `SSL_CERT_FILE` (read by rustls-native-certs).
//!
//! Needs `openssl` and a redis-server built with TLS (Debian's is); the
//! test says so and fails if either is missing.

use randchat::engine::Record;
use randchat::store::{Backend, Batch, RedisStore};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn run(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is needed to make test certificates");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A CA and a certificate for 127.0.0.1 signed by it.
fn certificates(dir: &Path) {
    run(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=randchat test CA",
        ],
    );
    run(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TLS-only redis-server on a free port, serving `dir`'s certificate.
fn tls_server(dir: &Path, port: u16) -> Server {
    let path = |name: &str| dir.join(name);
    Server(
        Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(path("server.crt"))
            .arg("--tls-key-file")
            .arg(path("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(path("ca.crt"))
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server"),
    )
}

/// The store over TLS, once the server answers. A port taken between
/// choosing it and redis-server binding it makes redis-server exit; then
/// another port is tried.
async fn connect_over_tls(dir: &Path) -> (Server, std::sync::Arc<RedisStore>) {
    for _ in 0..5 {
        let port = free_port();
        let mut server = tls_server(dir, port);
        let url = format!("rediss://127.0.0.1:{port}/0");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if server
                .0
                .try_wait()
                .expect("wait for redis-server")
                .is_some()
            {
                break; // it could not listen: try another port
            }
            match RedisStore::open(&url, "tls:").await {
                Ok(store) => return (server, store),
                Err(e) => assert!(Instant::now() < deadline, "no TLS connection: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("redis-server never listened on a free port for TLS");
}

#[tokio::test]
async fn the_store_works_over_tls_with_a_trusted_certificate() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    // The only TLS client in this test binary reads this.
    std::env::set_var("SSL_CERT_FILE", dir.path().join("ca.crt"));
    let (_server, store) = connect_over_tls(dir.path()).await;
    let batch = Batch {
        records: vec![Record::Maintenance { on: true }],
        last_update_id: Some(7),
        ..Batch::default()
    };
    store.clone().commit(batch).await.unwrap();
    let snapshot = store.load().await.unwrap();
    assert!(snapshot.maintenance);
    assert_eq!(snapshot.last_update_id, Some(7));
}
