//! The dashboard in a real browser: headless Chromium, driven over the
//! DevTools protocol, logs in through the form, checks that the three
//! charts rendered, bans a user and unbans them with the page's own forms,
//! and keeps a screenshot in `target/test-artifacts/dashboard.png`.
//!
//! Needs `chromium` on the PATH (`apt-get install -y chromium`; `.ci/run`
//! installs it). The DevTools client is a few lines over a websocket: each
//! call is a JSON message with an id, answered by a message with that id.

mod support;

use base64::Engine as _;
use randchat::i18n::Text;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{chatting, report_with_reason, spawn_app_with, Delivery, Inbox};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

const TOKEN: &str = "browser-test-token-0123456789";
const TARGET: i64 = 515_151;
const PATIENCE: Duration = Duration::from_secs(30);

/// Headless Chromium with its own profile; killed on drop.
struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
    page: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Chromium {
    fn launch() -> Chromium {
        let binary = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|name| Command::new(name).arg("--version").output().is_ok())
            .expect("the browser test needs Chromium: apt-get install -y chromium");
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--window-size=1100,1800",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let port = devtools_port(profile.path());
        let page = page_socket(port);
        Chromium {
            child,
            _profile: profile,
            page,
            next_id: 1,
        }
    }

    /// One DevTools call; its result, or the protocol's error.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"id": id, "method": method, "params": params});
        self.page.send(Message::text(request.to_string())).unwrap();
        loop {
            let Message::Text(text) = self.page.read().unwrap() else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == json!(id) {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
    }

    /// Evaluates `expression` in the page; `None` if it threw or the page
    /// was between documents.
    fn eval(&mut self, expression: &str) -> Option<Value> {
        let params = json!({"expression": expression, "returnByValue": true});
        let result = self.call("Runtime.evaluate", params).ok()?;
        if result.get("exceptionDetails").is_some() {
            return None;
        }
        Some(result["result"]["value"].clone())
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.eval(expression) != Some(json!(true)) {
            if Instant::now() > deadline {
                let html = self.eval("document.documentElement.outerHTML");
                panic!("the page never showed {what}; it is:\n{html:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).unwrap();
    }

    fn screenshot(&mut self, path: &Path) {
        let params = json!({"format": "png", "captureBeyondViewport": true});
        let shot = self.call("Page.captureScreenshot", params).unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port Chromium wrote to `DevToolsActivePort` in its profile.
fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if let Some(port) = text.lines().next().and_then(|l| l.trim().parse().ok()) {
            return port;
        }
        assert!(Instant::now() < deadline, "chromium never opened DevTools");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A websocket to the first page target.
fn page_socket(port: u16) -> WebSocket<MaybeTlsStream<TcpStream>> {
    let deadline = Instant::now() + PATIENCE;
    let url = loop {
        let targets = http_get_json(port, "/json/list");
        let page = targets
            .as_array()
            .and_then(|list| list.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_owned));
        if let Some(url) = page {
            break url;
        }
        assert!(Instant::now() < deadline, "chromium has no page: {targets}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let socket = tungstenite::connect(url).expect("connect to the page").0;
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        // A browser that stops answering fails the test instead of hanging it.
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
    }
    socket
}

/// A tiny blocking GET of DevTools' JSON endpoints. DevTools keeps the
/// connection open, so the body is read until it parses, with a timeout.
fn http_get_json(port: u16, path: &str) -> Value {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Value::Null;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n @ 1..) = stream.read(&mut chunk) {
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if let Ok(value) = serde_json::from_str(body) {
            return value;
        }
    }
    Value::Null
}

fn artifact() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap()
        .join("test-artifacts")
        .join("dashboard.png")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_logs_in_sees_the_charts_bans_and_unbans_in_chromium() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", TOKEN)]).await;
    let fake = app.fake.clone();
    // Something to chart and an open report to list.
    let (a, _b, mut to_a, _to_b) = chatting(&fake, 31, 32).await;
    report_with_reason(&a, &mut to_a, "report:scam").await;
    let target = fake.user(TARGET, "Target", None);
    let mut to_target = Inbox::new(&fake, TARGET);
    target.send_command("/start");
    to_target.expect_text(Text::Welcome).await;

    let base = app.admin_url();
    let mut browser = tokio::task::spawn_blocking(Chromium::launch).await.unwrap();
    let browser = tokio::task::spawn_blocking(move || {
        browser.navigate(&format!("{base}/"));
        browser.wait_for("the login form", "!!document.getElementById('token')");
        browser.eval(&format!(
            "document.getElementById('token').value = '{TOKEN}'; \
             document.querySelector('#login button').click(); true"
        ));
        browser.wait_for("the dashboard", "!!document.getElementById('chart-messages')");

        // Three charts, laid out by the browser with a real size, each with
        // a path of sampled points inside its box and the latest value's dot.
        let charts = browser
            .eval(
                "Array.from(document.querySelectorAll('svg[id^=chart-]')).map(svg => ({ \
                   id: svg.id, \
                   width: svg.getBoundingClientRect().width, \
                   d: svg.querySelector('path.series').getAttribute('d'), \
                   dot: svg.querySelector('circle.latest').getBBox().width }))",
            )
            .unwrap();
        let charts = charts.as_array().unwrap();
        assert_eq!(charts.len(), 3, "{charts:?}");
        for chart in charts {
            assert!(chart["width"].as_f64().unwrap() > 100.0, "{chart}");
            assert!(chart["dot"].as_f64().unwrap() > 0.0, "{chart}");
            let d = chart["d"].as_str().unwrap();
            let points: Vec<(f64, f64)> = d
                .split(['M', 'L'])
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    let (x, y) = p.trim().split_once(',').expect("x,y");
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            assert!(points.len() >= 2, "a sample and the latest value: {chart}");
            for (x, y) in points {
                assert!((0.0..=720.0).contains(&x) && (0.0..=140.0).contains(&y), "{chart}");
            }
        }
        let chats = browser.eval("document.getElementById('count-chats').textContent");
        assert_eq!(chats, Some(json!("1")));
        browser.wait_for("the open report", "!!document.getElementById('report-1')");

        // Ban through the form.
        browser.eval(&format!(
            "document.getElementById('ban-target').value = '{TARGET}'; \
             document.getElementById('ban-duration').value = '7d'; \
             document.getElementById('ban-reason').value = 'flooding strangers'; \
             document.getElementById('ban-submit').click(); true"
        ));
        browser.wait_for(
            "the ban in the list",
            &format!("!!document.getElementById('ban-{TARGET}') && document.getElementById('notice').textContent.includes('banned')"),
        );
        browser.screenshot(&artifact());
        browser
    })
    .await
    .unwrap();
    to_target
        .expect(
            "the ban notice",
            |d| matches!(d, Delivery::Text { text, .. } if text.contains("flooding strangers")),
        )
        .await;

    let mut browser = browser;
    tokio::task::spawn_blocking(move || {
        browser.eval(&format!("document.getElementById('unban-{TARGET}').click(); true"));
        browser.wait_for(
            "the ban gone",
            "!!document.getElementById('no-bans') && document.getElementById('notice').textContent.includes('lifted')",
        );
    })
    .await
    .unwrap();
    to_target.expect_text(Text::Unbanned).await;
    let shot = std::fs::metadata(artifact()).expect("the screenshot was saved");
    assert!(
        shot.len() > 10_000,
        "a screenshot of a whole page: {} bytes",
        shot.len()
    );
}
