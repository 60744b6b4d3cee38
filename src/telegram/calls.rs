//! Each engine send as the Bot API call that performs it.
//!
//! Relays are `copyMessage` (never `forwardMessage`: a forward shows who
//! sent it), optionally with `protect_content` and a reply to the partner's
//! side of the message replied to. An edit is applied to the copy with
//! `editMessageText` or `editMessageCaption`; where Telegram refuses (too
//! old, or media changed), the new version is sent as a reply to the old
//! copy with an "edited" marker instead.
//!
//! Catalog texts are rendered here, in the recipient's language, which the
//! update loop looks up when it hands the send over (so the outbox keeps
//! keys, never sentences).

use super::keyboards;
use super::outbound::Courier;
use crate::domain::{ChatId, MessageId, UserId};
use crate::engine::captcha::{self, Animal};
use crate::engine::event::{Change, EditableMedia};
use crate::engine::reports::card_args as report_card_args;
use crate::engine::{Outbound, ReportAction, ReportId, ReportReason};
use crate::i18n::{Arg, Lang, Text};
use teloxide::payloads::{
    AnswerCallbackQuerySetters, CopyMessagesSetters, EditMessageCaptionSetters,
    EditMessageTextSetters, SendMessageSetters, SetMessageReactionSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    ChatId as TgChat, MessageEntity, MessageId as TgMessage, ReactionType, ReplyParameters,
};
use teloxide::{ApiError, RequestError};

fn chat(user: UserId) -> TgChat {
    TgChat(user.0)
}

fn reply_to(message: MessageId) -> ReplyParameters {
    ReplyParameters::new(TgMessage(message.0)).allow_sending_without_reply()
}

/// Formatting entities as they travelled (Telegram's JSON); unreadable ones
/// are dropped rather than failing the send.
fn entities(json: &str) -> Vec<MessageEntity> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Whether an edit failed because there is nothing to change.
fn not_modified(error: &RequestError) -> bool {
    matches!(error, RequestError::Api(ApiError::MessageNotModified))
        || error.to_string().contains("message is not modified")
}

/// Whether an edit failed because Telegram won't edit that message.
fn refused(error: &RequestError) -> bool {
    matches!(error, RequestError::Api(_)) && !not_modified(error)
}

impl Courier {
    /// Performs `send` once, its texts in `lang`. Returns the ids of the
    /// copies a relay made.
    pub(super) async fn call(
        &self,
        send: &Outbound,
        lang: Lang,
    ) -> Result<Vec<MessageId>, RequestError> {
        let (send, protect) = send.unwrapped();
        match send {
            // `unwrapped` took the wrapper off.
            Outbound::Protected(_) => Ok(Vec::new()),
            Outbound::Settings {
                user,
                message,
                view,
            } => self.settings_menu(*user, *message, view, lang).await,
            Outbound::AskRating { user, chat: ended } => {
                let request = self
                    .bot
                    .send_message(chat(*user), Text::RatingAsk.render_in(lang));
                request
                    .reply_markup(super::menus::rating_keyboard(*ended, lang))
                    .await?;
                Ok(Vec::new())
            }
            Outbound::Tell { user, text } => self.say(chat(*user), text.render_in(lang)).await,
            Outbound::TellWith { user, text, args } => {
                self.say(chat(*user), text.render_with_in(lang, args)).await
            }
            Outbound::AskReportReason { user } => {
                let request = self
                    .bot
                    .send_message(chat(*user), Text::ReportAskReason.render_in(lang));
                request.reply_markup(reason_keyboard(lang)).await?;
                Ok(Vec::new())
            }
            Outbound::AnswerCallback { query_id, text, .. } => {
                let id = teloxide::types::CallbackQueryId(query_id.clone());
                let answer = self.bot.answer_callback_query(id);
                match text {
                    Some(text) => answer.text(text.render_in(lang)).await?,
                    None => answer.await?,
                };
                Ok(Vec::new())
            }
            Outbound::TellChat {
                chat: ChatId(id),
                text,
            } => self.say(TgChat(*id), text.render_in(lang)).await,
            Outbound::AskShare { user } => {
                let request = self
                    .bot
                    .send_message(chat(*user), Text::ShareAsk.render_in(lang));
                request.reply_markup(keyboards::share(lang)).await?;
                Ok(Vec::new())
            }
            Outbound::RevealPartner {
                user,
                partner,
                username,
            } => {
                let (text, entities) = keyboards::reveal(lang, *partner, username.as_deref());
                let request = self.bot.send_message(chat(*user), text);
                request.entities(entities).await?;
                Ok(Vec::new())
            }
            Outbound::ShowLanguages { user } => {
                let request = self
                    .bot
                    .send_message(chat(*user), Text::LanguagePick.render_in(lang));
                request.reply_markup(keyboards::languages()).await?;
                Ok(Vec::new())
            }
            Outbound::ShowMedia {
                user,
                refused,
                edit,
            } => self.show_media(*user, *refused, *edit, lang).await,
            Outbound::Relay { from, to, message } => {
                self.copy(*from, *to, *message, None, None, protect).await
            }
            Outbound::RelayReply {
                from,
                to,
                message,
                reply_to,
            } => {
                self.copy(*from, *to, *message, Some(*reply_to), None, protect)
                    .await
            }
            Outbound::EditCopy {
                to,
                copy,
                original,
                change,
            } => {
                let marker = Text::EditedMarker.render_in(lang);
                let original = (original.chat, original.message);
                self.edit(*to, *copy, original, change, protect, marker)
                    .await
            }
            Outbound::React {
                to,
                message,
                reaction,
            } => {
                let reaction: Vec<ReactionType> =
                    serde_json::from_str(reaction).unwrap_or_default();
                let request = self
                    .bot
                    .set_message_reaction(chat(*to), TgMessage(message.0));
                request.reaction(reaction).await?;
                Ok(Vec::new())
            }
            Outbound::RelayAlbum { from, to, messages } => {
                let ids = messages.iter().map(|m| TgMessage(m.0));
                let mut request = self.bot.copy_messages(chat(*to), chat(*from), ids);
                if protect {
                    request = request.protect_content(true);
                }
                let copies = request.await?;
                Ok(copies.into_iter().map(|c| MessageId(c.0)).collect())
            }
            Outbound::Delete { to, message } => {
                self.bot
                    .delete_message(chat(*to), TgMessage(message.0))
                    .await?;
                Ok(Vec::new())
            }
            Outbound::LeaveChat { chat: ChatId(id) } => {
                self.bot.leave_chat(TgChat(*id)).await?;
                Ok(Vec::new())
            }
            Outbound::ReportCard { admin, entry } => {
                let text = Text::ReportCard.render_with(&report_card_args(entry));
                let request = self.bot.send_message(chat(*admin), text);
                request.reply_markup(report_keyboard(entry.id)).await?;
                Ok(Vec::new())
            }
            Outbound::EditReportCard {
                admin,
                message,
                text,
                args,
            } => {
                let text = text.render_with(args);
                let request = self
                    .bot
                    .edit_message_text(chat(*admin), TgMessage(message.0), text);
                match request.await {
                    Err(error) if not_modified(&error) => Ok(Vec::new()),
                    other => other.map(|_| Vec::new()),
                }
            }
            Outbound::Captcha {
                user,
                answer,
                choices,
            } => {
                let name = Arg::Plain(answer.name().render_in(lang).into());
                let question = Text::CaptchaAsk.render_with_in(lang, &[name]);
                let request = self.bot.send_message(chat(*user), question);
                request.reply_markup(captcha_keyboard(choices)).await?;
                Ok(Vec::new())
            }
            Outbound::BroadcastCopy { to, text } => {
                self.bot.send_message(chat(*to), text).await?;
                Ok(Vec::new())
            }
            Outbound::BroadcastStatus {
                admin,
                message,
                text,
                args,
            } => {
                let running = (*text == Text::BroadcastProgress).then_some(lang);
                let status = text.render_with_in(lang, args);
                self.broadcast_status(*admin, *message, status, running)
                    .await
            }
        }
    }

    /// Sends the broadcast's progress message (returning its id) or edits
    /// it in place.
    async fn broadcast_status(
        &self,
        admin: UserId,
        message: Option<MessageId>,
        status: String,
        running: Option<Lang>,
    ) -> Result<Vec<MessageId>, RequestError> {
        // While it runs the message carries the Stop button; an edit
        // without a keyboard removes it, which is right for the totals.
        let Some(message) = message else {
            let send = self.bot.send_message(chat(admin), status);
            let sent = match running {
                Some(lang) => send.reply_markup(stop_keyboard(lang)).await?,
                None => send.await?,
            };
            return Ok(vec![MessageId(sent.id.0)]);
        };
        let edit = self
            .bot
            .edit_message_text(chat(admin), TgMessage(message.0), status);
        let edit = match running {
            Some(lang) => edit.reply_markup(stop_keyboard(lang)).await,
            None => edit.await,
        };
        match edit {
            Ok(_) => Ok(Vec::new()),
            Err(error) if not_modified(&error) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// The settings menu, new or edited in place (an edit that changes
    /// nothing is not an error).
    async fn settings_menu(
        &self,
        user: UserId,
        message: Option<MessageId>,
        view: &crate::engine::SettingsView,
        lang: Lang,
    ) -> Result<Vec<MessageId>, RequestError> {
        let text = super::menus::settings_text(view, lang);
        let keyboard = super::menus::settings_keyboard(view, lang);
        let Some(message) = message else {
            let request = self.bot.send_message(chat(user), text);
            request.reply_markup(keyboard).await?;
            return Ok(Vec::new());
        };
        let request = self
            .bot
            .edit_message_text(chat(user), TgMessage(message.0), text);
        match request.reply_markup(keyboard).await {
            Err(error) if !not_modified(&error) => Err(error),
            _ => Ok(Vec::new()),
        }
    }

    /// A plain text, through [`super::direct`] (these notices go out with
    /// every /chat, /next and /stop).
    async fn say(&self, to: TgChat, text: impl AsRef<str>) -> Result<Vec<MessageId>, RequestError> {
        self.direct.send_text(ChatId(to.0), text.as_ref()).await?;
        Ok(Vec::new())
    }

    /// The /media toggles: a new message, or `edit` redrawn in place.
    async fn show_media(
        &self,
        user: UserId,
        refused: u16,
        edit: Option<MessageId>,
        lang: Lang,
    ) -> Result<Vec<MessageId>, RequestError> {
        let text = Text::MediaMenu.render_in(lang);
        let keyboard = keyboards::media(lang, refused);
        match edit {
            Some(message) => {
                let request = self
                    .bot
                    .edit_message_text(chat(user), TgMessage(message.0), text);
                match request.reply_markup(keyboard).await {
                    Err(error) if !not_modified(&error) => return Err(error),
                    _ => {}
                }
            }
            None => {
                let request = self.bot.send_message(chat(user), text);
                request.reply_markup(keyboard).await?;
            }
        }
        Ok(Vec::new())
    }

    async fn copy(
        &self,
        from: UserId,
        to: UserId,
        message: MessageId,
        reply: Option<MessageId>,
        caption: Option<String>,
        protect: bool,
    ) -> Result<Vec<MessageId>, RequestError> {
        let copy = super::direct::Copy {
            from,
            to,
            message,
            reply_to: reply,
            caption: caption.as_deref(),
            protect,
        };
        Ok(vec![self.direct.copy_message(copy).await?])
    }

    async fn edit(
        &self,
        to: UserId,
        copy: MessageId,
        (from, original): (UserId, MessageId),
        change: &Change,
        protect: bool,
        marker: &str,
    ) -> Result<Vec<MessageId>, RequestError> {
        let attempt = match change {
            Change::Text {
                text,
                entities: json,
            } => {
                let request = self
                    .bot
                    .edit_message_text(chat(to), TgMessage(copy.0), text);
                request.entities(entities(json)).await.map(drop)
            }
            Change::Caption {
                caption,
                entities: json,
            } => {
                let request = self.bot.edit_message_caption(chat(to), TgMessage(copy.0));
                request
                    .caption(caption)
                    .caption_entities(entities(json))
                    .await
                    .map(drop)
            }
            Change::NewMedia {
                kind,
                file,
                caption,
                entities: json,
            } => {
                let media = input_media(*kind, file, caption, entities(json));
                let request = self
                    .bot
                    .edit_message_media(chat(to), TgMessage(copy.0), media);
                request.await.map(drop)
            }
            Change::Media => Err(RequestError::Api(ApiError::MessageCantBeEdited)),
        };
        match attempt {
            Ok(()) => Ok(Vec::new()),
            Err(error) if not_modified(&error) => Ok(Vec::new()),
            Err(error) if refused(&error) => match change {
                Change::Text { text, .. } => {
                    let request = self.bot.send_message(chat(to), format!("{marker} {text}"));
                    request.reply_parameters(reply_to(copy)).await?;
                    Ok(Vec::new())
                }
                Change::Caption { caption, .. } | Change::NewMedia { caption, .. } => {
                    self.copy(
                        from,
                        to,
                        original,
                        Some(copy),
                        Some(format!("{marker} {caption}")),
                        protect,
                    )
                    .await
                }
                Change::Media => {
                    self.copy(from, to, original, Some(copy), None, protect)
                        .await
                }
            },
            Err(error) => Err(error),
        }
    }
}

/// The new media of an edit, by file id, with its caption.
fn input_media(
    kind: EditableMedia,
    file: &str,
    caption: &str,
    entities: Vec<teloxide::types::MessageEntity>,
) -> teloxide::types::InputMedia {
    use teloxide::types::{
        InputFile, InputMedia, InputMediaAnimation, InputMediaAudio, InputMediaDocument,
        InputMediaPhoto, InputMediaVideo,
    };
    let file = InputFile::file_id(teloxide::types::FileId(file.to_owned()));
    let caption = caption.to_owned();
    match kind {
        EditableMedia::Photo => InputMedia::Photo(
            InputMediaPhoto::new(file)
                .caption(caption)
                .caption_entities(entities),
        ),
        EditableMedia::Video => InputMedia::Video(
            InputMediaVideo::new(file)
                .caption(caption)
                .caption_entities(entities),
        ),
        EditableMedia::Animation => InputMedia::Animation(
            InputMediaAnimation::new(file)
                .caption(caption)
                .caption_entities(entities),
        ),
        EditableMedia::Document => InputMedia::Document(
            InputMediaDocument::new(file)
                .caption(caption)
                .caption_entities(entities),
        ),
        EditableMedia::Audio => InputMedia::Audio(
            InputMediaAudio::new(file)
                .caption(caption)
                .caption_entities(entities),
        ),
    }
}

/// The progress message's Stop button.
fn stop_keyboard(lang: Lang) -> teloxide::types::InlineKeyboardMarkup {
    use teloxide::types::InlineKeyboardButton;
    let stop = InlineKeyboardButton::callback(
        Text::BroadcastStopButton.render_in(lang),
        crate::engine::broadcast::CALLBACK_STOP,
    );
    teloxide::types::InlineKeyboardMarkup::new([[stop]])
}

/// One button per captcha choice, three to a row; the data is the position.
fn captcha_keyboard(choices: &[Animal]) -> teloxide::types::InlineKeyboardMarkup {
    use teloxide::types::InlineKeyboardButton;
    let buttons: Vec<_> = choices
        .iter()
        .enumerate()
        .map(|(at, animal)| {
            InlineKeyboardButton::callback(animal.emoji(), captcha::callback_data(at))
        })
        .collect();
    teloxide::types::InlineKeyboardMarkup::new(buttons.chunks(3).map(<[_]>::to_vec))
}

/// Ban and Dismiss under a report card.
fn report_keyboard(id: ReportId) -> teloxide::types::InlineKeyboardMarkup {
    use teloxide::types::InlineKeyboardButton;
    let button = |label: Text, action: ReportAction| {
        InlineKeyboardButton::callback(label.render(), action.callback_data(id))
    };
    teloxide::types::InlineKeyboardMarkup::new([[
        button(Text::ReportBanButton, ReportAction::Ban),
        button(Text::ReportDismissButton, ReportAction::Dismiss),
    ]])
}

/// One button per report reason, two to a row.
fn reason_keyboard(lang: Lang) -> teloxide::types::InlineKeyboardMarkup {
    use teloxide::types::InlineKeyboardButton;
    let buttons: Vec<_> = ReportReason::ALL
        .into_iter()
        .map(|reason| {
            InlineKeyboardButton::callback(reason.label().render_in(lang), reason.callback_data())
        })
        .collect();
    teloxide::types::InlineKeyboardMarkup::new(buttons.chunks(2).map(<[_]>::to_vec))
}
