//! Tests of the fake Telegram Bot API itself, over raw HTTP with reqwest.
//!
//! Why: every end-to-end test of randchat trusts the fake to behave like
//! Telegram on the points the bot depends on (offset confirmation, long-poll
//! wake-up, copy checks, error shapes). If the fake drifted, bot tests would
//! pass against a Telegram that doesn't exist. teloxide compatibility is
//! checked separately in `fake_bot_api_teloxide.rs`.
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Delivery, FakeBotApi, Fault};

fn method_url(fake: &FakeBotApi, method: &str) -> String {
    format!("{}/bot{}/{method}", fake.url(), FakeBotApi::TOKEN)
}

/// POST a JSON body; returns (HTTP status, parsed body).
async fn post(fake: &FakeBotApi, method: &str, params: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(method_url(fake, method))
        .json(&params)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn ids(result: &Value) -> Vec<i64> {
    result
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn token_and_routing_errors_are_shaped_like_telegram() {
    let fake = FakeBotApi::start().await;
    let wrong = format!(
        "{}/bot123456789:AAWrongTokenWrongTokenWrongToken_xx/getMe",
        fake.url()
    );
    assert_eq!(
        get(&wrong).await,
        (
            401,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
        )
    );
    let not_found = json!({"ok": false, "error_code": 404, "description": "Not Found"});
    assert_eq!(
        get(&method_url(&fake, "noSuchMethod")).await,
        (404, not_found.clone())
    );
    assert_eq!(
        get(&format!("{}/getMe", fake.url())).await,
        (404, not_found.clone())
    );
    assert_eq!(
        get(&format!("{}/nobot/getMe", fake.url())).await,
        (404, not_found)
    );
    assert_eq!(
        fake.requests().len(),
        2,
        "token-path requests are recorded: {}",
        fake.dump(9)
    );
}

#[tokio::test]
async fn method_names_are_case_insensitive_and_get_form_and_json_all_work() {
    let fake = FakeBotApi::start().await;
    let alice = fake.user(1001, "Alice", Some("alice"));
    let (status, me) = get(&method_url(&fake, "GETME")).await;
    assert_eq!(status, 200);
    assert_eq!(me["result"]["username"], "randchat_test_bot");
    assert_eq!(me["result"]["is_bot"], true);

    let url = method_url(&fake, "sendmessage");
    let (status, sent) = get(&format!("{url}?chat_id=1001&text=via%20GET")).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["result"]["chat"]["id"], 1001);
    assert_eq!(sent["result"]["from"]["id"], FakeBotApi::BOT_ID);

    let form = [("chat_id", "1001"), ("text", "via form")];
    let resp = reqwest::Client::new()
        .post(method_url(&fake, "SendMessage"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, sent) = post(
        &fake,
        "sendMessage",
        json!({"chat_id": alice.id(), "text": "via JSON"}),
    )
    .await;
    assert_eq!(
        sent["result"]["message_id"], 3,
        "per-chat message ids count up"
    );

    assert_eq!(fake.texts_to(1001), ["via GET", "via form", "via JSON"]);
    let methods: Vec<_> = fake
        .requests_for("SENDMESSAGE")
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["sendmessage", "SendMessage", "sendMessage"]);
    assert_eq!(
        fake.requests_for("sendMessage")[1].params,
        json!({"chat_id": 1001, "text": "via form"})
    );
}

#[tokio::test]
async fn get_updates_confirms_below_offset_and_honours_limit() {
    let fake = FakeBotApi::start().await;
    let bob = fake.user(2002, "Bob", None);
    let m1 = bob.send_text("one");
    bob.send_text("two");
    bob.send_command("/chat");
    let first = FakeBotApi::FIRST_UPDATE_ID;
    let third = first + 2;

    let (_, all) = post(&fake, "getUpdates", json!({})).await;
    assert_eq!(ids(&all["result"]), [first, first + 1, third]);
    assert_eq!(all["result"][0]["message"]["message_id"], m1);
    assert_eq!(
        all["result"][2]["message"]["entities"][0],
        json!({"offset": 0, "length": 5, "type": "bot_command"})
    );
    let (_, again) = post(&fake, "getUpdates", json!({"limit": 2})).await;
    assert_eq!(
        ids(&again["result"]),
        [first, first + 1],
        "unconfirmed updates come back"
    );
    assert_eq!(fake.times_handed_out(first), 2);

    let (_, rest) = post(&fake, "getUpdates", json!({"offset": first + 1})).await;
    assert_eq!(ids(&rest["result"]), [first + 1, third]);
    assert_eq!(fake.confirmed_offset(), first + 1);
    let (_, none) = post(&fake, "getUpdates", json!({"offset": third + 1})).await;
    assert_eq!(none["result"], json!([]));
    let (_, still_none) = post(&fake, "getUpdates", json!({"offset": 0})).await;
    assert_eq!(
        still_none["result"],
        json!([]),
        "confirmed updates are gone for good"
    );
    assert_eq!(fake.handed_out(), [first, first + 1, third]);

    for text in ["a", "b", "c"] {
        bob.send_text(text);
    }
    let (_, last) = get(&format!("{}?offset=-1", method_url(&fake, "getUpdates"))).await;
    assert_eq!(
        ids(&last["result"]),
        [third + 3],
        "negative offset keeps only the tail"
    );
    assert_eq!(fake.pending_update_ids(), [third + 3]);
    let (_, info) = post(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(
        info["result"],
        json!({"url": "", "has_custom_certificate": false, "pending_update_count": 1})
    );
}

#[tokio::test]
async fn long_poll_wakes_as_soon_as_an_update_is_injected() {
    let fake = FakeBotApi::start().await;
    let started = Instant::now();
    let (_, empty) = post(&fake, "getUpdates", json!({"timeout": 1})).await;
    assert_eq!(empty["result"], json!([]));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited the full timeout"
    );

    let poll = tokio::spawn({
        let fake = fake.clone();
        async move { post(&fake, "getUpdates", json!({"timeout": 20})).await }
    });
    fake.wait_for("the poll to arrive", Duration::from_secs(5), |r| {
        r.len() == 2
    })
    .await;
    let user = fake.user(3003, "Carol", Some("carol"));
    let started = Instant::now();
    user.send_text("wake up");
    let (status, got) = poll.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200);
    assert_eq!(got["result"][0]["message"]["text"], "wake up");
}

#[tokio::test]
async fn a_newer_get_updates_ends_the_waiting_one_with_409() {
    let fake = FakeBotApi::start().await;
    let old = tokio::spawn({
        let fake = fake.clone();
        async move { post(&fake, "getUpdates", json!({"timeout": 20})).await }
    });
    fake.wait_for("first poll", Duration::from_secs(5), |r| r.len() == 1)
        .await;
    let (_, newer) = post(&fake, "getUpdates", json!({"timeout": 0})).await;
    assert_eq!(newer["ok"], true);
    let (status, body) = old.await.unwrap();
    assert_eq!(status, 409);
    assert!(body["description"]
        .as_str()
        .unwrap()
        .starts_with("Conflict: terminated by other getUpdates"));
}

#[tokio::test]
async fn allowed_updates_persists_and_filters() {
    let fake = FakeBotApi::start().await;
    let user = fake.user(4004, "Dan", None);
    let mid = user.send_text("hi");
    let edited = user.edit_text(mid, "hi!");
    let (_, got) = post(&fake, "getUpdates", json!({"allowed_updates": ["message"]})).await;
    assert_eq!(ids(&got["result"]), [edited - 1]);
    assert_eq!(fake.filtered_out(), [edited]);
    user.edit_text(mid, "hi!!");
    let (_, got) = post(&fake, "getUpdates", json!({})).await;
    assert_eq!(
        ids(&got["result"]),
        [edited - 1],
        "setting kept when not given"
    );
}

#[tokio::test]
async fn copy_message_checks_the_source_and_records_deliveries() {
    let fake = FakeBotApi::start().await;
    let (alice, bob) = (
        fake.user(1, "Alice", None),
        fake.user(2, "Bob", Some("bob")),
    );
    let photo = alice.send_photo("secret");
    let description = "Bad Request: message to copy not found";
    let missing = json!({"ok": false, "error_code": 400, "description": description});
    let copy = |from: i64, id: i64| json!({"chat_id": 2, "from_chat_id": from, "message_id": id});
    assert_eq!(
        post(&fake, "copyMessage", copy(1, photo + 1)).await,
        (400, missing.clone())
    );
    assert_eq!(
        post(&fake, "copyMessage", copy(2, photo)).await,
        (400, missing),
        "wrong source chat"
    );

    let mut params = copy(1, photo);
    params["caption"] = json!("new caption");
    let (status, body) = post(&fake, "copyMessage", params).await;
    assert_eq!((status, &body["result"]), (200, &json!({"message_id": 1})));
    let copied = fake.message(2, 1).unwrap();
    assert_eq!(
        (copied["caption"].clone(), copied["photo"].clone()),
        (
            json!("new caption"),
            fake.message(1, photo).unwrap()["photo"].clone()
        )
    );
    let text = alice.send_text("plain");
    let (_, many) = post(
        &fake,
        "copyMessages",
        json!({"chat_id": 2, "from_chat_id": 1, "message_ids": [text, 999]}),
    )
    .await;
    assert_eq!(many["result"], json!([{"message_id": 2}]));
    assert_eq!(
        fake.received(2),
        [
            Delivery::Copy {
                from_chat_id: 1,
                message_id: photo,
                caption: Some("new caption".into()),
                sent_id: 1
            },
            Delivery::Copy {
                from_chat_id: 1,
                message_id: text,
                caption: None,
                sent_id: 2
            },
        ]
    );
    assert!(fake.requests_for("forwardMessage").is_empty());

    let (status, _) = post(
        &fake,
        "sendMessage",
        json!({"chat_id": 777, "text": "who?"}),
    )
    .await;
    assert_eq!(status, 400, "unknown chats are 'chat not found'");
    bob.block_bot();
    let (status, body) = post(&fake, "sendMessage", json!({"chat_id": 2, "text": "hi"})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (403, Some("Forbidden: bot was blocked by the user"))
    );
}

#[tokio::test]
async fn injected_faults_fire_once_in_order() {
    let fake = FakeBotApi::start().await;
    fake.user(6006, "Faye", None);
    let msg = json!({"chat_id": 6006, "text": "hi"});
    fake.fail_next("SENDMESSAGE", Fault::RetryAfter(7));
    fake.fail_next("*", Fault::ServerError);
    fake.fail_next(
        "sendMessage",
        Fault::Api {
            code: 403,
            description: "Forbidden: user is deactivated".into(),
        },
    );
    let (status, body) = post(&fake, "sendMessage", msg.clone()).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
               "parameters": {"retry_after": 7}})
    );
    assert_eq!(post(&fake, "getMe", json!({})).await.0, 500);
    assert_eq!(post(&fake, "sendMessage", msg.clone()).await.0, 403);
    assert_eq!(post(&fake, "sendMessage", msg.clone()).await.0, 200);

    fake.fail_next("sendMessage", Fault::Reset);
    let reset = reqwest::Client::new()
        .post(method_url(&fake, "sendMessage"))
        .json(&msg)
        .send()
        .await;
    assert!(
        reset.is_err() || reset.unwrap().text().await.is_err(),
        "connection dropped"
    );
    fake.fail_next("getMe", Fault::Hang(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(post(&fake, "getMe", json!({})).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(fake.texts_to(6006), ["hi"], "failed sends deliver nothing");
}

#[tokio::test]
#[should_panic(expected = "timed out after 50ms waiting for: a sendMessage that never comes")]
async fn wait_for_panics_with_the_description() {
    let fake = FakeBotApi::start().await;
    fake.wait_for(
        "a sendMessage that never comes",
        Duration::from_millis(50),
        |r| !r.is_empty(),
    )
    .await;
}

#[tokio::test]
async fn reset_and_hang_drop_the_request_but_apply_then_variants_keep_it() {
    let fake = FakeBotApi::start().await;
    fake.user(7007, "Gus", None);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let send = |text: &str| {
        let request = impatient.post(method_url(&fake, "sendMessage"));
        let request = request.json(&json!({"chat_id": 7007, "text": text}));
        async move {
            match request.send().await {
                Ok(resp) => resp.text().await.is_ok(),
                Err(_) => false,
            }
        }
    };
    let faults = [
        (Fault::Reset, "reset"),
        (Fault::Hang(Duration::from_millis(600)), "hang"),
        (Fault::ApplyThenReset, "apply then reset"),
        (
            Fault::ApplyThenHang(Duration::from_millis(600)),
            "apply then hang",
        ),
    ];
    for (fault, text) in faults {
        fake.fail_next("sendMessage", fault);
        assert!(!send(text).await, "{text}: the client must see a failure");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fake.texts_to(7007), ["apply then reset", "apply then hang"]);
    assert_eq!(fake.requests_for("sendMessage").len(), 4);
}
