//! Drives the fake Telegram Bot API through a real `teloxide::Bot`.
//!
//! Why: randchat talks to Telegram through teloxide 0.17, whose parsing is
//! strict in places (required fields) and silently lenient in others (an
//! update it can't parse becomes `UpdateKind::Error`, a message missing a
//! field may become another kind). Each method the bot uses and each update
//! kind the fake can inject must come out of teloxide as the right type.
mod support;

use std::time::Duration;

use support::{Delivery, FakeBotApi, Fault, SimKind};
use teloxide::prelude::*;
use teloxide::requests::Requester;
use teloxide::types::{
    BotCommand, ChatAction, ChatMemberKind, MediaKind, MessageEntityKind, MessageId, MessageKind,
    UpdateKind,
};
use teloxide::{ApiError, RequestError};

/// The SimKind a parsed teloxide message corresponds to, if any.
fn sim_kind_of(msg: &Message) -> Option<SimKind> {
    let media = match &msg.kind {
        MessageKind::Dice(_) => return Some(SimKind::Dice),
        MessageKind::Common(common) => &common.media_kind,
        _ => return None,
    };
    Some(match media {
        MediaKind::Text(t)
            if t.entities
                .iter()
                .any(|e| e.kind == MessageEntityKind::BotCommand) =>
        {
            SimKind::Command
        }
        MediaKind::Text(_) => SimKind::Text,
        MediaKind::Photo(_) => SimKind::Photo,
        MediaKind::Video(_) => SimKind::Video,
        MediaKind::Animation(_) => SimKind::Animation,
        MediaKind::Sticker(_) => SimKind::Sticker,
        MediaKind::Voice(_) => SimKind::Voice,
        MediaKind::VideoNote(_) => SimKind::VideoNote,
        MediaKind::Audio(_) => SimKind::Audio,
        MediaKind::Document(_) => SimKind::Document,
        MediaKind::Location(_) => SimKind::Location,
        MediaKind::Venue(_) => SimKind::Venue,
        MediaKind::Contact(_) => SimKind::Contact,
        MediaKind::Poll(_) => SimKind::Poll,
        _ => return None,
    })
}

#[tokio::test]
async fn every_private_message_kind_parses_as_itself() {
    let fake = FakeBotApi::start().await;
    let bot = fake.bot();
    let alice = fake.user(1001, "Alice", Some("alice"));
    let sent: Vec<(SimKind, i64)> = SimKind::ALL
        .iter()
        .map(|&k| (k, alice.send_kind(k)))
        .collect();

    let updates = bot.get_updates().timeout(1).await.expect("getUpdates");
    assert_eq!(updates.len(), SimKind::ALL.len());
    for (update, (kind, mid)) in updates.iter().zip(&sent) {
        let UpdateKind::Message(msg) = &update.kind else {
            panic!("{kind:?} did not parse as a message: {:?}", update.kind);
        };
        assert_eq!(
            sim_kind_of(msg),
            Some(*kind),
            "{kind:?} parsed as {:?}",
            msg.kind
        );
        assert_eq!(msg.id, MessageId(*mid as i32));
        assert_eq!(msg.chat.id, ChatId(1001));
        assert!(msg.chat.is_private());
        let from = msg.from.as_ref().expect("from");
        assert_eq!(
            (from.username.as_deref(), from.language_code.as_deref()),
            (Some("alice"), Some("en"))
        );
        assert_eq!(
            update.id.0 as i64,
            FakeBotApi::FIRST_UPDATE_ID + sent.iter().position(|s| s.1 == *mid).unwrap() as i64
        );
    }
    let photo = alice.send_photo("bold words");
    let updates = bot
        .get_updates()
        .offset(updates.last().unwrap().id.as_offset())
        .await
        .unwrap();
    let UpdateKind::Message(msg) = &updates[0].kind else {
        panic!("{updates:?}")
    };
    assert_eq!(
        (msg.id.0 as i64, msg.caption()),
        (photo, Some("bold words"))
    );
    assert_eq!(
        msg.caption_entities().unwrap()[0].kind,
        MessageEntityKind::Bold
    );
    assert_eq!(msg.photo().unwrap().len(), 3);
    assert_eq!(fake.confirmed_offset(), updates[0].id.0 as i64);
}

#[tokio::test]
async fn odd_updates_parse_with_the_expected_kinds() {
    let fake = FakeBotApi::start().await;
    let bot = fake.bot();
    let alice = fake.user(1001, "Alice", None);
    let group = fake.group(-4001, "Friends");
    let supergroup = fake.supergroup(-1_002_003_004_005, "Big group");
    let channel = fake.channel(-1_009_008_007_006, "News");
    group.send_text(&alice, "hello group");
    supergroup.send_command(&alice, "/chat@randchat_test_bot");
    channel.post("breaking news");
    let mid = alice.send_text("typo");
    alice.edit_text(mid, "fixed");
    let sent = bot.send_message(ChatId(1001), "Pick one").await.unwrap();
    alice.press_button(sent.id.0 as i64, "next");
    alice.press_button(999, "stale");
    group.add_bot(&alice);
    alice.block_bot();

    let updates = bot.get_updates().await.unwrap();
    let kinds: Vec<&UpdateKind> = updates.iter().map(|u| &u.kind).collect();
    assert_eq!(kinds.len(), 9);
    assert!(matches!(kinds[0], UpdateKind::Message(m)
        if m.chat.is_group() && m.text() == Some("hello group")));
    assert!(
        matches!(kinds[1], UpdateKind::Message(m) if m.chat.is_supergroup()
        && m.entities().unwrap()[0].length == "/chat@randchat_test_bot".len())
    );
    assert!(
        matches!(kinds[2], UpdateKind::ChannelPost(m) if m.chat.is_channel() && m.from.is_none()
        && m.sender_chat.as_ref().map(|c| c.id) == Some(ChatId(channel.id())))
    );
    assert!(matches!(kinds[4], UpdateKind::EditedMessage(m)
        if m.text() == Some("fixed") && m.edit_date().is_some()));
    assert!(
        matches!(kinds[5], UpdateKind::CallbackQuery(q) if q.data.as_deref() == Some("next")
        && q.regular_message().map(|m| m.id) == Some(sent.id))
    );
    assert!(matches!(kinds[6], UpdateKind::CallbackQuery(q) if q.regular_message().is_none()));
    let UpdateKind::MyChatMember(added) = kinds[7] else {
        panic!("{:?}", kinds[7])
    };
    assert!(added.chat.is_group());
    assert!(matches!(added.old_chat_member.kind, ChatMemberKind::Left));
    assert!(matches!(
        added.new_chat_member.kind,
        ChatMemberKind::Member(_)
    ));
    assert_eq!(added.new_chat_member.user.id.0 as i64, FakeBotApi::BOT_ID);
    let UpdateKind::MyChatMember(blocked) = kinds[8] else {
        panic!("{:?}", kinds[8])
    };
    assert!(
        blocked.chat.is_private()
            && matches!(blocked.new_chat_member.kind, ChatMemberKind::Banned(_))
    );
    assert!(
        !kinds.iter().any(|k| matches!(k, UpdateKind::Error(_))),
        "{kinds:#?}"
    );
}

#[tokio::test]
async fn every_method_the_bot_uses_round_trips_through_teloxide() {
    let fake = FakeBotApi::start().await;
    let bot = fake.bot();
    let (alice, bob) = (
        fake.user(1001, "Alice", Some("alice")),
        fake.user(1002, "Bob", None),
    );
    let group = fake.group(-4001, "Friends");

    let me = bot.get_me().await.unwrap();
    assert_eq!(
        (me.id.0 as i64, me.username()),
        (FakeBotApi::BOT_ID, "randchat_test_bot")
    );
    assert!(me.can_join_groups);
    bot.delete_webhook()
        .drop_pending_updates(false)
        .await
        .unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!((info.url, info.pending_update_count), (None, 0));
    bot.set_my_commands([BotCommand::new("chat", "Find a partner")])
        .await
        .unwrap();
    assert_eq!(
        fake.requests_for("setMyCommands")[0].params["commands"][0]["command"],
        "chat"
    );
    bot.delete_my_commands().await.unwrap();

    let text = bot
        .send_message(ChatId(1002), "You are connected")
        .await
        .unwrap();
    assert_eq!(
        (text.chat.id, text.text()),
        (ChatId(1002), Some("You are connected"))
    );
    assert_eq!(text.from.as_ref().map(|u| u.is_bot), Some(true));
    let photo = alice.send_photo("hi");
    let copy = bot
        .copy_message(ChatId(1002), ChatId(1001), MessageId(photo as i32))
        .caption("hi!")
        .await
        .unwrap();
    assert_eq!(copy, MessageId(text.id.0 + 1));
    let sticker = alice.send_sticker();
    let ids = bot
        .copy_messages(ChatId(1002), ChatId(1001), [MessageId(sticker as i32)])
        .await
        .unwrap();
    assert_eq!(ids, [MessageId(copy.0 + 1)]);
    let fwd = bot
        .forward_message(ChatId(1002), ChatId(1001), MessageId(sticker as i32))
        .await
        .unwrap();
    assert!(fwd.forward_origin().is_some() && fwd.sticker().is_some());
    assert_eq!(fake.requests_for("forwardMessage").len(), 1);
    bot.send_chat_action(ChatId(1002), ChatAction::Typing)
        .await
        .unwrap();
    let edited = bot
        .edit_message_text(ChatId(1002), text.id, "Partner left")
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Partner left"));
    bot.delete_message(ChatId(1002), text.id).await.unwrap();
    bob.press_button(fwd.id.0 as i64, "x");
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates.last().unwrap().kind else {
        panic!("{updates:?}")
    };
    bot.answer_callback_query(query.id.clone())
        .text("ok")
        .await
        .unwrap();
    bot.leave_chat(ChatId(group.id())).await.unwrap();

    // teloxide spells method names in PascalCase: ".../bot<token>/CopyMessage".
    let methods: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert!(methods.contains(&"CopyMessage".to_owned()), "{methods:?}");
    assert_eq!(
        fake.requests_for("answercallbackquery")[0].params["text"],
        "ok"
    );
    assert!(fake.requests().iter().all(|r| r.params.is_object()));
}

#[tokio::test]
async fn telegram_errors_map_to_teloxide_errors() {
    let fake = FakeBotApi::start().await;
    let bot = fake.bot();
    let alice = fake.user(1001, "Alice", None);
    fake.user(1002, "Bob", None).block_bot();

    let err = bot
        .copy_message(ChatId(1001), ChatId(1001), MessageId(42))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToCopyNotFound)),
        "{err:?}"
    );
    let err = bot.send_message(ChatId(1002), "hi").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    let err = bot.send_message(ChatId(31337), "hi").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ChatNotFound)),
        "{err:?}"
    );
    fake.fail_next("sendMessage", Fault::RetryAfter(3));
    let err = bot.send_message(ChatId(1001), "hi").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 3),
        "{err:?}"
    );
    fake.fail_next("sendMessage", Fault::Reset);
    let err = bot.send_message(ChatId(1001), "hi").await.unwrap_err();
    assert!(matches!(err, RequestError::Network(_)), "{err:?}");
    let wrong = teloxide::Bot::new("123456789:AAWrongTokenWrongTokenWrongToken_xx")
        .set_api_url(fake.api_url());
    let err = wrong.get_me().await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidToken)),
        "{err:?}"
    );

    let pending = bot.get_updates().await.unwrap();
    assert!(
        matches!(pending[0].kind, UpdateKind::MyChatMember(_)),
        "Bob's block"
    );
    bot.get_updates()
        .offset(pending[0].id.as_offset())
        .await
        .unwrap();
    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    fake.wait_for("the long poll", Duration::from_secs(5), |r| {
        r.iter().filter(|r| r.method == "GetUpdates").count() == 3
    })
    .await;
    let err = bot.get_updates().await.map(|_| ());
    assert!(err.is_ok());
    let err = poll.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Api(ApiError::TerminatedByOtherGetUpdates)
        ),
        "{err:?}"
    );
    assert_eq!(fake.texts_to(alice.id()), Vec::<String>::new());
}

#[tokio::test]
async fn edit_and_delete_follow_telegram_rules() {
    let fake = FakeBotApi::start().await;
    let bot = fake.bot();
    let user = fake.user(5005, "Eve", None);
    let chat = ChatId(user.chat_id());
    let own = MessageId(user.send_text("mine") as i32);
    let sent = bot.send_message(chat, "Searching…").await.unwrap().id;

    let err = bot.edit_message_text(chat, own, "x").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageCantBeEdited)),
        "{err:?}"
    );
    let edited = bot.edit_message_text(chat, sent, "Found!").await.unwrap();
    assert!(edited.text() == Some("Found!") && edited.edit_date().is_some());
    let err = bot
        .edit_message_text(chat, sent, "Found!")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );
    bot.delete_message(chat, sent).await.unwrap();
    let err = bot.delete_message(chat, sent).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToDeleteNotFound)),
        "{err:?}"
    );
    let err = bot.edit_message_text(chat, sent, "gone").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToEditNotFound)),
        "{err:?}"
    );

    let sent_id = sent.0 as i64;
    let expected = [
        Delivery::Edit {
            message_id: sent_id,
            text: "Found!".into(),
        },
        Delivery::Delete {
            message_id: sent_id,
        },
    ];
    assert_eq!(fake.received(5005)[1..], expected);
}
