//! An operator behind a proxy: with `HTTP_PROXY` set, every Bot API call
//! goes through it, including the hot calls that otherwise skip reqwest
//! (`src/telegram/wire.rs`), and the bot works as usual.
//!
//! The proxy is a small forward proxy in this test: it receives each
//! request in absolute form (`POST http://127.0.0.1:PORT/bot…/CopyMessage`),
//! counts its method, and passes it on to the fake Bot API.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Router;
use randchat::i18n::Text;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::app::unstarted_app;
use support::chatting;

#[derive(Clone, Default)]
struct Proxy {
    /// Requests passed on, per Bot API method (in lower case).
    seen: Arc<Mutex<HashMap<String, usize>>>,
    client: reqwest::Client,
}

impl Proxy {
    fn count(&self, method: &str) -> usize {
        let method = method.to_ascii_lowercase();
        self.seen.lock().unwrap().get(&method).copied().unwrap_or(0)
    }
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    if uri.authority().is_none() {
        return (StatusCode::BAD_REQUEST, "not a proxy request").into_response();
    }
    let api_method = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    *proxy.seen.lock().unwrap().entry(api_method).or_default() += 1;
    let mut request = proxy
        .client
        .request(method, uri.to_string())
        .body(body.to_vec());
    if let Some(kind) = headers.get("content-type") {
        request = request.header("content-type", kind);
    }
    match request.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let body = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], body).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

async fn start_proxy() -> (String, Proxy) {
    let proxy = Proxy {
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        ..Proxy::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new().fallback(forward).with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, proxy)
}

#[tokio::test]
async fn with_a_proxy_configured_every_call_goes_through_it() {
    let (proxy_url, proxy) = start_proxy().await;
    let mut app = unstarted_app(&[("HTTP_PROXY", &proxy_url)]).await;
    app.start().await;
    let fake = app.fake.clone();

    let (ann, _ben, _to_ann, mut to_ben) = chatting(&fake, 9301, 9302).await;
    let message = ann.send_text("through the proxy");
    to_ben.expect_copy(9301, message).await;
    ann.send_command("/stop");
    to_ben.expect_text(Text::PartnerLeft).await;

    for method in ["GetUpdates", "CopyMessage", "SendMessage", "GetMe"] {
        assert!(
            proxy.count(method) > 0,
            "{method} did not go through the proxy: {:?}",
            proxy.seen.lock().unwrap()
        );
    }
    // Nothing reached the fake except through the proxy (the fake's count
    // first: a request the proxy counts may not have reached it yet).
    let reached = fake.requests().len();
    let proxied: usize = proxy.seen.lock().unwrap().values().sum();
    assert!(
        proxied >= reached,
        "{proxied} proxied, {reached} reached the fake"
    );
}
