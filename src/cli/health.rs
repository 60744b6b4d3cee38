//! `randchat healthcheck`: a probe for container health checks.
//!
//! Why a subcommand rather than `curl`: slim runtime images have no HTTP
//! client, and installing one only for this adds a package to patch. The
//! binary already knows `ADMIN_LISTEN`, so it asks its own server. It speaks
//! just enough HTTP/1.0 for `GET /healthz`, with std only.
//!
//! Exit codes follow Docker's HEALTHCHECK: 0 healthy, 1 unhealthy. Docker
//! reserves 2, so even a configuration error exits 1 here (see `main`).

use super::{failed, Outcome};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

/// GETs `/healthz` (or `/readyz` with `ready`) from `addr`, or from
/// `ADMIN_LISTEN` with an unspecified address (0.0.0.0, ::) read as loopback.
pub fn healthcheck(
    admin_listen: Option<SocketAddr>,
    addr: Option<SocketAddr>,
    ready: bool,
) -> Outcome {
    let addr = match addr.or(admin_listen) {
        None => return Err(failed(
            "ADMIN_LISTEN is off, so there is nothing to check; pass --addr or set ADMIN_LISTEN",
        )),
        Some(addr) if addr.port() == 0 => return Err(failed(
            "ADMIN_LISTEN uses port 0 (any free port); pass --addr with the port the bot logged",
        )),
        Some(addr) => loopback_if_unspecified(addr),
    };
    let path = if ready { "/readyz" } else { "/healthz" };
    let (status, body) =
        get(addr, path).map_err(|e| failed(format!("http://{addr}{path} is unreachable: {e}")))?;
    if status == 200 {
        println!("{}", body.trim());
        Ok(())
    } else {
        Err(failed(format!(
            "http://{addr}{path} answered {status}: {}",
            body.trim()
        )))
    }
}

fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// A minimal GET: status code and body.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        let v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(loopback_if_unspecified(v4).to_string(), "127.0.0.1:8080");
        let v6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(loopback_if_unspecified(v6).to_string(), "[::1]:8080");
        let fixed: SocketAddr = "10.0.0.5:8080".parse().unwrap();
        assert_eq!(loopback_if_unspecified(fixed), fixed);
    }

    #[test]
    fn off_and_port_zero_are_explained() {
        let e = healthcheck(None, None, false).unwrap_err();
        assert!(e.message.contains("ADMIN_LISTEN is off"), "{e:?}");
        let zero = Some("127.0.0.1:0".parse().unwrap());
        let e = healthcheck(zero, None, false).unwrap_err();
        assert!(e.message.contains("port 0"), "{e:?}");
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let e = healthcheck(Some(addr), None, false).unwrap_err();
        assert_eq!(e.code, 1);
        assert!(e.message.contains("unreachable"), "{e:?}");
    }
}
