//! How the hot Bot API calls of [`super::direct`] travel: hyper's pooled
//! HTTP/1 client, or the bot's reqwest client when a proxy is configured.
//!
//! Why not reqwest for everything: on every request reqwest passes through
//! a redirect layer that parses the URL again (with IDNA) and a retry layer
//! that clones the request's headers, about a tenth of the bot's CPU under
//! load (README, "Performance"). getUpdates, copyMessage and the plain
//! notices are made once per relayed message or batch, so they go to hyper
//! directly: a URI parsed once, a body of bytes, the answer collected.
//!
//! What reqwest does that bare hyper doesn't, and how it is kept:
//! - **Proxies.** reqwest honours `HTTP_PROXY`, `HTTPS_PROXY` and
//!   `ALL_PROXY` (either case), which is how many operators reach Telegram
//!   at all. When any is set, these calls keep going through the bot's
//!   reqwest client, proxy and all.
//! - **TLS.** The same rustls, with the same built-in webpki roots as
//!   reqwest's `rustls-tls`; HTTP/1.1 only, as before.
//! - **Time limits.** 5 s to connect and `TCP_NODELAY`, as teloxide sets
//!   them; each call is bounded by its caller's limit.
//! - **Errors.** A transport failure becomes `RequestError::Io`, which
//!   `outbound::classify` treats as it treats `Network`. hyper's errors
//!   don't carry the URL, so the token can't leak through them.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;
use teloxide::RequestError;

/// teloxide's connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The variables reqwest reads its proxy from.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A Bot API method's address: the URL, and the same as hyper's URI when
/// it parses as one (a URL from an odd `TELEGRAM_API_URL` may not; it then
/// goes through reqwest).
#[derive(Clone, Debug)]
pub struct Endpoint {
    url: reqwest::Url,
    uri: Option<http::Uri>,
}

impl Endpoint {
    pub fn new(url: reqwest::Url) -> Self {
        let uri = url.as_str().parse().ok();
        Endpoint { url, uri }
    }
}

/// What a call brought back: whether it was a 5xx, and the body.
pub struct Answer {
    pub server_error: bool,
    pub body: Bytes,
}

type HyperClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The transport. Cheap to clone: clones share their connection pools.
#[derive(Clone, Debug)]
pub struct Wire {
    /// hyper's client, unless a proxy is configured.
    hyper: Option<HyperClient>,
    /// The bot's reqwest client: with a proxy, or for an endpoint hyper
    /// can't address.
    reqwest: reqwest::Client,
}

impl Wire {
    /// hyper, unless this process's environment names a proxy; `fallback`
    /// (the bot's reqwest client, which reads it) wherever hyper is not used.
    pub fn for_environment(fallback: &reqwest::Client) -> Self {
        let proxied = proxy_configured(|name| std::env::var_os(name));
        Wire {
            hyper: (!proxied).then(hyper_client),
            reqwest: fallback.clone(),
        }
    }

    /// POSTs the JSON `body` to `endpoint`, within `limit`.
    pub async fn post(
        &self,
        endpoint: &Endpoint,
        body: String,
        limit: Duration,
    ) -> Result<Answer, RequestError> {
        match (&self.hyper, &endpoint.uri) {
            (Some(client), Some(uri)) => post_with_hyper(client, uri, body, limit).await,
            // The client's own timeout applies, as for every teloxide call.
            _ => post_with_reqwest(&self.reqwest, &endpoint.url, body).await,
        }
    }
}

fn hyper_client() -> HyperClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn post_with_hyper(
    client: &HyperClient,
    uri: &http::Uri,
    body: String,
    limit: Duration,
) -> Result<Answer, RequestError> {
    let request = http::Request::post(uri.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(transport)?;
    let call = async {
        let response = client.request(request).await.map_err(transport)?;
        let server_error = response.status().is_server_error();
        let body = response.into_body().collect().await.map_err(transport)?;
        Ok(Answer {
            server_error,
            body: body.to_bytes(),
        })
    };
    match tokio::time::timeout(limit, call).await {
        Ok(answer) => answer,
        Err(_) => Err(transport(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the Bot API did not answer in time",
        ))),
    }
}

async fn post_with_reqwest(
    client: &reqwest::Client,
    url: &reqwest::Url,
    body: String,
) -> Result<Answer, RequestError> {
    let response = client
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    let server_error = response.status().is_server_error();
    Ok(Answer {
        server_error,
        body: response.bytes().await?,
    })
}

/// Whether any variable reqwest takes a proxy from is set (and not empty).
fn proxy_configured(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|name| var(name).is_some_and(|value| !value.is_empty()))
}

/// A transport failure, as the error `outbound::classify` retries.
fn transport(error: impl std::error::Error + Send + Sync + 'static) -> RequestError {
    RequestError::Io(Arc::new(std::io::Error::other(error)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn configured(vars: &[(&str, &str)]) -> bool {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        proxy_configured(|name| vars.get(name).map(Into::into))
    }

    #[test]
    fn any_proxy_variable_in_either_case_selects_reqwest() {
        assert!(!configured(&[]));
        assert!(!configured(&[
            ("NO_PROXY", "localhost"),
            ("HTTPS_PROXY", "")
        ]));
        for name in PROXY_VARIABLES {
            assert!(configured(&[(name, "http://proxy:3128")]), "{name}");
        }
    }

    #[test]
    fn an_endpoint_keeps_the_url_as_its_uri() {
        let url = reqwest::Url::parse("https://api.telegram.org/bot1:AA-b_c/CopyMessage").unwrap();
        let endpoint = Endpoint::new(url.clone());
        assert_eq!(endpoint.uri.unwrap().to_string(), url.as_str());
    }

    #[tokio::test]
    async fn nothing_listening_is_a_transport_error_classified_as_transient() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/bot1:x/GetMe", free.local_addr().unwrap());
        drop(free);
        let endpoint = Endpoint::new(reqwest::Url::parse(&url).unwrap());
        let error = post_with_hyper(
            &hyper_client(),
            endpoint.uri.as_ref().unwrap(),
            "{}".into(),
            Duration::from_secs(5),
        )
        .await
        .err()
        .expect("nothing listens");
        assert!(matches!(error, RequestError::Io(_)), "{error:?}");
        assert_eq!(
            crate::telegram::outbound::classify(&error),
            crate::telegram::outbound::Failure::Transient
        );
        assert!(!error.to_string().contains("bot1:x"), "{error}");
    }
}
