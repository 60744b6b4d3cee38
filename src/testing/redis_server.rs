//! A private `redis-server` for one test: started on a Unix socket in its
//! own temporary directory (never the system server on 6379), waited for
//! until it answers PING, and killed when dropped.
//!
//! [`RedisServer::start`] runs without persistence (`--save "" --appendonly
//! no`), which is all most tests need. [`RedisServer::start_persistent`]
//! writes an append-only file with `appendfsync always` in the same
//! directory, so [`RedisServer::restart`] (kill -9, start again on the same
//! socket and files) tests what survives a server restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The binary; `REDIS_SERVER` overrides the one on `PATH`.
fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

/// A running private redis-server.
pub struct RedisServer {
    dir: TempDir,
    child: Option<Child>,
    persistent: bool,
}

impl RedisServer {
    /// A server without persistence.
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// A server that writes every change to an append-only file before it
    /// answers, so it keeps its data across [`RedisServer::restart`].
    pub fn start_persistent() -> Self {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("redis-")
            .tempdir()
            .expect("temp dir for redis-server");
        let mut server = RedisServer {
            dir,
            child: None,
            persistent,
        };
        server.spawn();
        server
    }

    /// The URL to give randchat (`REDIS_URL`).
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the server is running (as far as this handle knows).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: the server vanishes mid-conversation, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Kills the server and starts it again on the same socket and files.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Starts the server again after [`RedisServer::kill`].
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        self.spawn();
    }

    fn spawn(&mut self) {
        let socket = self.socket();
        let mut command = Command::new(binary());
        command
            .arg("--port")
            .arg("0")
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--unixsocketperm")
            .arg("700")
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--save")
            .arg("")
            .arg("--daemonize")
            .arg("no")
            .arg("--loglevel")
            .arg("warning")
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"));
        if self.persistent {
            command
                .args(["--appendonly", "yes"])
                .args(["--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); install redis-server (apt-get install redis-server)",
                    binary()
                )
            });
        self.child = Some(child);
        self.wait_for_ping();
    }

    /// Waits until the server answers PING on its socket.
    fn wait_for_ping(&mut self) {
        use std::io::{Read, Write};
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut stream) = std::os::unix::net::UnixStream::connect(self.socket()) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut reply = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server exited with {status}:\n{}",
                    std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server never answered PING"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
