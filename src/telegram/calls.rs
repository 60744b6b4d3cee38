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
use crate::engine::event::Change;
use crate::engine::reports::card_args as report_card_args;
use crate::engine::{Outbound, ReportAction, ReportId, ReportReason};
use crate::i18n::{Lang, Text};
use teloxide::payloads::{
    AnswerCallbackQuerySetters, CopyMessageSetters, CopyMessagesSetters, EditMessageCaptionSetters,
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
        match send {
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
                self.copy(*from, *to, *message, None, None).await
            }
            Outbound::RelayReply {
                from,
                to,
                message,
                reply_to,
            } => self.copy(*from, *to, *message, Some(*reply_to), None).await,
            Outbound::EditCopy {
                to,
                copy,
                original,
                change,
            } => {
                let marker = Text::EditedMarker.render_in(lang);
                self.edit(*to, *copy, original.chat, original.message, change, marker)
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
                if self.protect {
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
        }
    }

    async fn say(
        &self,
        to: TgChat,
        text: impl Into<String>,
    ) -> Result<Vec<MessageId>, RequestError> {
        self.bot.send_message(to, text).await?;
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
    ) -> Result<Vec<MessageId>, RequestError> {
        let mut request = self
            .bot
            .copy_message(chat(to), chat(from), TgMessage(message.0));
        if self.protect {
            request = request.protect_content(true);
        }
        if let Some(reply) = reply {
            request = request.reply_parameters(reply_to(reply));
        }
        if let Some(caption) = caption {
            request = request.caption(caption);
        }
        let copy = request.await?;
        Ok(vec![MessageId(copy.0)])
    }

    async fn edit(
        &self,
        to: UserId,
        copy: MessageId,
        from: UserId,
        original: MessageId,
        change: &Change,
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
                Change::Caption { caption, .. } => {
                    self.copy(
                        from,
                        to,
                        original,
                        Some(copy),
                        Some(format!("{marker} {caption}")),
                    )
                    .await
                }
                Change::Media => self.copy(from, to, original, Some(copy), None).await,
            },
            Err(error) => Err(error),
        }
    }
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
