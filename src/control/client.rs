//! The CLI's side of the control socket. Blocking: each command makes one
//! or two requests and has nothing else to do meanwhile.

use super::{socket_path, Reply, Request};
use crate::store::Stats;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the bot may take to answer one read or write. A backup of a
/// large database is streamed in many reads, each well within this.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// A bot that answered on the control socket.
#[derive(Debug)]
pub struct RunningBot {
    path: PathBuf,
    pub pid: u32,
    pub version: String,
}

/// Is a bot serving `data_dir`? `Ok(None)` when nothing listens (no socket
/// file, or one left by a bot that died); `Err` when something is there but
/// can't be talked to, e.g. the socket belongs to another user.
pub fn find(data_dir: &Path) -> Result<Option<RunningBot>, String> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        // No socket, a socket left by a bot that died, or a path too long
        // for a Unix socket (then no bot could have bound it either).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::InvalidInput
            ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(format!(
                "cannot reach the running bot through {}: {e} (run this as the bot's user or root)",
                path.display()
            ))
        }
    };
    let reply = exchange(stream, Request::Ping, &path)?.0;
    Ok(Some(RunningBot {
        path,
        pid: reply.pid.unwrap_or_default(),
        version: reply.version.unwrap_or_default(),
    }))
}

impl RunningBot {
    /// The socket this bot answers on.
    pub fn socket(&self) -> &Path {
        &self.path
    }

    /// Counts from the bot's store.
    pub fn stats(&self) -> Result<Stats, String> {
        let reply = self.request(Request::Stats)?.0;
        reply
            .stats
            .ok_or_else(|| "the bot's reply had no stats".to_owned())
    }

    /// Asks for a backup and writes the bytes to `out`. Returns the counts
    /// the bot reported for the snapshot and the number of bytes written.
    pub fn backup(&self, out: &mut impl Write) -> Result<(Stats, u64), String> {
        let (reply, mut reader) = self.request(Request::Backup)?;
        let bytes = reply
            .bytes
            .ok_or_else(|| "the bot's reply had no length".to_owned())?;
        let copied = std::io::copy(&mut (&mut reader).take(bytes), out)
            .map_err(|e| format!("receiving the backup failed: {e}"))?;
        if copied != bytes {
            return Err(format!(
                "the backup was cut short: {copied} of {bytes} bytes arrived"
            ));
        }
        Ok((reply.stats.unwrap_or_default(), copied))
    }

    fn request(&self, request: Request) -> Result<(Reply, BufReader<UnixStream>), String> {
        let stream = UnixStream::connect(&self.path)
            .map_err(|e| format!("cannot reach the bot at {}: {e}", self.path.display()))?;
        exchange(stream, request, &self.path)
    }
}

/// Sends one request and reads the reply line; the reader is left where the
/// reply's payload (if any) starts.
fn exchange(
    mut stream: UnixStream,
    request: Request,
    path: &Path,
) -> Result<(Reply, BufReader<UnixStream>), String> {
    let failed =
        |e: std::io::Error| format!("talking to the bot at {} failed: {e}", path.display());
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(failed)?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(failed)?;
    let mut line = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    line.push(b'\n');
    stream.write_all(&line).map_err(failed)?;
    let mut reader = BufReader::new(stream);
    let mut answer = String::new();
    reader.read_line(&mut answer).map_err(failed)?;
    if answer.is_empty() {
        return Err(format!(
            "the bot at {} closed the connection without answering",
            path.display()
        ));
    }
    let reply: Reply = serde_json::from_str(answer.trim())
        .map_err(|e| format!("the bot at {} answered gibberish: {e}", path.display()))?;
    if !reply.ok {
        let why = reply.error.unwrap_or_else(|| "no reason given".into());
        return Err(format!("the running bot refused: {why}"));
    }
    Ok((reply, reader))
}
