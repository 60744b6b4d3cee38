//! The dashboard over plain HTTP: who gets in (Bearer token, session
//! cookie), who doesn't (no token, a wrong one, a forged or ended session,
//! a form without its CSRF token), and actions that reach users only after
//! they are committed.

mod support;

use randchat::i18n::Text;
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use support::{spawn_app, spawn_app_with, Delivery, Inbox, TestApp};

const TOKEN: &str = "dashboard-test-token-0123456789";

async fn dashboard_app() -> TestApp {
    spawn_app_with(&[("ADMIN_TOKEN", TOKEN)]).await
}

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Logs in through the form: (the `name=value` cookie, the page's CSRF token).
async fn log_in(base: &str) -> (String, String) {
    let response = client()
        .post(format!("{base}/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = client()
        .get(format!("{base}/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn tokens_and_sessions_decide_who_gets_in() {
    let app = dashboard_app().await;
    let base = app.admin_url();
    let http = client();

    let anonymous = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body = anonymous.text().await.unwrap();
    assert!(
        body.contains("action=\"/login\""),
        "the 401 offers the login form"
    );
    assert!(!body.contains("Open reports"));

    let wrong = http
        .get(format!("{base}/"))
        .header(AUTHORIZATION, "Bearer not-the-token-at-all-0000")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let summary = http
        .get(format!("{base}/api/summary"))
        .send()
        .await
        .unwrap();
    assert_eq!(summary.status(), StatusCode::UNAUTHORIZED);

    let bearer = http
        .get(format!("{base}/"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let csp = bearer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = bearer.text().await.unwrap();
    for part in [
        "chart-searching",
        "chart-chats",
        "chart-messages",
        "Open reports",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
    assert!(!html.contains("<script"), "no script, nothing external");
    assert!(!html.contains("http://") && !html.contains("https://"));

    let refused = http
        .post(format!("{base}/login"))
        .form(&[("token", "not-the-token-at-all-0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get(SET_COOKIE).is_none());

    let (cookie, csrf) = log_in(&base).await;
    let forged = http
        .get(format!("{base}/"))
        .header(COOKIE, format!("randchat_session={}", "ab".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // Logging out needs the CSRF token, ends the session and clears the cookie.
    let no_csrf = http
        .post(format!("{base}/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let out = http
        .post(format!("{base}/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = http
        .get(format!("{base}/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_admin_token_the_dashboard_is_off_and_probes_stay() {
    let app = spawn_app().await;
    let base = app.admin_url();
    let home = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(home.status(), StatusCode::NOT_FOUND);
    assert!(home.text().await.unwrap().contains("ADMIN_TOKEN"));
    let bearer = client()
        .post(format!("{base}/actions/ban"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .form(&[("target", "5"), ("duration", "1h"), ("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::NOT_FOUND);
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), body);
    }
}

#[tokio::test]
async fn actions_need_csrf_from_browsers_and_reach_users_after_commit() {
    let app = dashboard_app().await;
    let fake = app.fake.clone();
    let base = app.admin_url();
    let http = client();
    let user = fake.user(4242, "Target", None);
    let mut inbox = Inbox::new(&fake, 4242);
    user.send_command("/start");
    inbox.expect_text(Text::Welcome).await;

    let (cookie, csrf) = log_in(&base).await;
    let ban = [
        ("target", "4242"),
        ("duration", "2h"),
        ("reason", "spam links"),
    ];
    let forged = http
        .post(format!("{base}/actions/ban"))
        .header(COOKIE, &cookie)
        .form(&ban)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no ban"
    );

    let mut with_csrf = ban.to_vec();
    with_csrf.push(("csrf", csrf.as_str()));
    let done = http
        .post(format!("{base}/actions/ban"))
        .header(COOKIE, &cookie)
        .form(&with_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], "/?done=banned");
    inbox
        .expect(
            "the ban notice",
            |d| matches!(d, Delivery::Text { text, .. } if text.contains("spam links")),
        )
        .await;
    user.send_command("/chat");
    inbox
        .expect(
            "refused",
            |d| matches!(d, Delivery::Text { text, .. } if text.starts_with("🚫 You are banned")),
        )
        .await;

    // A script: Bearer, JSON answers, no CSRF needed.
    let bearer = format!("Bearer {TOKEN}");
    let summary: serde_json::Value = http
        .get(format!("{base}/api/summary"))
        .header(AUTHORIZATION, &bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["banned"], serde_json::json!([4242]), "{summary}");
    let unban = |target: &'static str| {
        http.post(format!("{base}/actions/unban"))
            .header(AUTHORIZATION, &bearer)
            .form(&[("target", target)])
            .send()
    };
    let answer: serde_json::Value = unban("4242").await.unwrap().json().await.unwrap();
    assert_eq!(answer["result"], "unbanned");
    inbox.expect_text(Text::Unbanned).await;
    let again: serde_json::Value = unban("4242").await.unwrap().json().await.unwrap();
    assert_eq!(again["result"], "unchanged");
    let bad = unban("not-a-user").await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
