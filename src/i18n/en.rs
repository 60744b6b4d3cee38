//! The English catalog: the reference the other catalogs translate.

use super::{MenuCommand, Text};

pub(super) fn text(key: Text) -> &'static str {
    match key {
        Text::Welcome => "👋 Welcome to randchat!\n\n\
            I pair you with a random stranger for an anonymous one-to-one chat. \
            Your name, username and profile are never shown to your partner; \
            everything you send is passed on as a copy.\n\n\
            Commands:\n\
            /chat — find a partner (also /search)\n\
            /next — end this chat and find someone new\n\
            /stop — end the chat or stop searching\n\
            /report — report your current or last partner\n\
            /link — offer to exchange usernames with your partner\n\
            /media — choose which kinds of message you accept\n\
            /language — change my language\n\
            /help — how it works\n\n\
            House rules: be kind, no spam, no illegal content. Use /report against abuse.\n\n\
            Send /chat to begin.",
        Text::Help => "ℹ️ How randchat works\n\n\
            /chat (or /search) puts you in the queue; as soon as someone else is looking, you are paired.\n\
            While paired, everything you send — text, photos, videos, voice, stickers, files, locations, polls — \
            is copied to your partner, without your name or profile.\n\
            Replies, edits and reactions reach your partner's copy too.\n\
            /delete, sent as a reply to one of your messages, unsends it.\n\
            /next ends the chat and looks for someone new at once.\n\
            /stop ends the chat, or stops searching.\n\
            /report reports your current partner, or the last one if the chat just ended.\n\
            /link offers to exchange Telegram usernames; nothing is shared unless your partner agrees too.\n\
            /media lets you refuse photos, videos, voice messages, stickers, documents or links.\n\
            /language changes the language I speak to you.\n\n\
            Be kind. Never share personal details you would regret sharing.",
        Text::Searching => "🔎 Looking for a partner…",
        Text::SearchingAgain => "🔎 Looking for a new partner…",
        Text::AlreadySearching => "🔎 You're already looking for a partner. Send /stop to cancel.",
        Text::StillSearching => "⏳ Still looking for a partner… Your message was not sent to anyone.",
        Text::PartnerFound => "✅ Partner found — say hi 👋\n(/next to skip, /stop to end)",
        Text::AlreadyChatting => "💬 You're already in a chat. Send /next to find someone else or /stop to end it.",
        Text::PartnerLeft => "👋 Your partner left the chat — /chat to find someone new.",
        Text::YouLeftChat => "Chat ended. Send /chat to find someone new.",
        Text::SearchStopped => "Search stopped. Send /chat whenever you want to look again.",
        Text::NotInChat => "You're not in a chat. Send /chat to find someone.",
        Text::NothingToStop => "You're not in a chat or searching. Send /chat to find someone.",
        Text::ReportThanks => "🛡 Thank you — your report was recorded. Your partner is not told who reported them.",
        Text::NothingToReport => "There is no recent partner to report.",
        Text::UnknownCommand => "I don't know that command. Send /help to see what I understand.",
        Text::UnsupportedMessage => "⚠️ This kind of message can't be sent to your partner.",
        Text::PrivateChatsOnly => "randchat works in private chats only. Open a private chat with me to use it. Bye!",
        Text::TemporarilyUnavailable => "⚠️ randchat is temporarily unavailable. Please try again in a minute.",
        Text::DeliveryFailed => "⚠️ Your last message could not be delivered to your partner.",
        Text::StatusChatting => "💬 You're in a chat. /next to skip, /stop to end.",
        Text::StatusSearching => "🔎 You're in the queue, looking for a partner. /stop to cancel.",
        Text::ChatIdleEnded => "⌛ The chat ended because nobody wrote for a while. Send /chat to find someone new.",
        Text::SearchTimedOut => "⌛ No partner turned up for a while, so I stopped searching. Send /chat to try again.",
        Text::SlowDownMessages => "🐢 Slow down — you're sending messages too fast. What you send now is not passed on to your partner; wait a moment before sending more.",
        Text::SlowDownSearches => "🐢 Slow down — you're skipping partners too fast. Wait a minute, then send /next or /chat again.",
        Text::Deleted => "🗑 Deleted for your partner.",
        Text::DeleteHowTo => "To unsend a message, reply /delete to one of your own messages from this chat.",
        Text::EditedMarker => "✏️ edited:",
        Text::ReportAskReason => "🛡 What's wrong? Pick a reason. Your partner is not told who reported them.",
        Text::ReasonSpam => "Spam or ads",
        Text::ReasonAbuse => "Abuse or harassment",
        Text::ReasonNudity => "Nudity or sexual content",
        Text::ReasonUnderage => "Underage",
        Text::ReasonScam => "Scam",
        Text::ReasonOther => "Other",
        Text::ButtonExpired => "That button doesn't do anything any more.",
        Text::BannedByReports => "🚫 You can't chat {0}: several people reported you. Please keep to the house rules.",
        Text::BannedByAdmin => "🚫 A moderator banned you from chatting {0}. Reason: {1}",
        Text::StillBanned => "🚫 You are banned from chatting {0}. /help and the other commands still work.",
        Text::BanUntil => "until {0}",
        Text::BanForever => "permanently",
        Text::Unbanned => "✅ Your ban was lifted. Send /chat to find someone.",
        Text::Warned => "⚠️ A warning from a moderator: {0}\nPlease keep to the house rules, or you may be banned.",
        Text::AdminHelp => "🛠 Admin commands\n\n\
            /stats — searching users, active chats, bans in force\n\
            /ban <user id> <30m|12h|7d|perm> <reason> — ban a user; they are told the reason\n\
            /unban <user id> — lift a ban\n\
            /warn <user id> <reason> — send a user a warning\n\
            /maintenance on|off — refuse new searches (running chats go on)\n\
            /reports — the latest open reports, with ban and dismiss buttons\n\
            /admin — this list",
        Text::AdminStats => "📊 Searching: {0}\nChats: {1}\nBans in force: {2}",
        Text::AdminBanDone => "Banned {0}.",
        Text::AdminUnbanDone => "Ban lifted.",
        Text::AdminNotBanned => "That user is not banned.",
        Text::AdminWarnDone => "Warning sent.",
        Text::AdminBanUsage => "Usage: /ban <user id> <30m|12h|7d|perm> <reason>",
        Text::AdminUnbanUsage => "Usage: /unban <user id>",
        Text::AdminWarnUsage => "Usage: /warn <user id> <reason>",
        Text::Maintenance => "🛠 randchat is under maintenance, so new chats can't start right now. Chats already running go on. Please try again later.",
        Text::AdminMaintenanceOn => "Maintenance on: new searches are refused, running chats go on.",
        Text::AdminMaintenanceOff => "Maintenance off: searching works again.",
        Text::AdminMaintenanceUsage => "Usage: /maintenance on|off",
        Text::LanguagePick => "🌐 Choose the language I speak to you:",
        Text::LanguageSet => "✅ From now on I'll speak English.",
        Text::ShareAsk => "🤝 Your partner wants to exchange Telegram usernames — agree?",
        Text::ShareAgree => "✅ Agree",
        Text::ShareDecline => "✖️ Decline",
        Text::ShareAsked => "🤝 I asked your partner whether they want to exchange usernames. Nothing is shared unless they agree.",
        Text::ShareAlreadyAsked => "⏳ You already asked — waiting for your partner's answer.",
        Text::ShareDeclined => "Your partner declined to exchange usernames. Nothing was shared.",
        Text::ShareDeclinedYou => "OK, nothing was shared.",
        Text::ShareExpired => "⌛ The request to exchange usernames expired. Nothing was shared.",
        Text::ShareRevealed => "🤝 You both agreed to exchange usernames. Your partner: {0}",
        Text::ShareProfileLink => "open their profile",
        Text::MediaMenu => "🖼 What may partners send you? Tap a kind to allow ✅ or refuse 🚫 it.",
        Text::MediaPhotos => "photos",
        Text::MediaVideos => "videos",
        Text::MediaVoice => "voice and video messages",
        Text::MediaStickers => "stickers and GIFs",
        Text::MediaDocuments => "documents",
        Text::MediaLinks => "links",
        Text::MediaRefused => "🚫 Your partner doesn't accept {0}, so this wasn't sent.",
        Text::MediaSaved => "Saved.",
        Text::ShareNotAgain => "Your partner already declined to exchange usernames in this chat.",
        Text::AdminNoOpenReports => "No open reports.",
        Text::ReportCard => "🛡 Report #{0} · {1}\nReported user: {2}\nReported by: {3}\nAt: {4}",
        Text::ReportBanButton => "Ban",
        Text::ReportDismissButton => "Dismiss",
        Text::ReportBanned => "🛡 Report #{0}: the user is banned {1}.",
        Text::ReportDismissed => "🛡 Report #{0}: dismissed.",
        Text::ReportNotOpen => "🛡 Report #{0} was already handled.",
    }
}

pub(super) fn command(command: MenuCommand) -> &'static str {
    match command {
        MenuCommand::Chat => "Find a partner to chat with",
        MenuCommand::Next => "End this chat and find someone new",
        MenuCommand::Stop => "End the chat or stop searching",
        MenuCommand::Link => "Offer to exchange usernames",
        MenuCommand::Media => "Choose which kinds of message you accept",
        MenuCommand::Language => "Change the bot's language",
        MenuCommand::Report => "Report your current or last partner",
        MenuCommand::Delete => "Reply to your message to unsend it",
        MenuCommand::Help => "How this bot works",
        MenuCommand::Start => "Welcome and house rules",
    }
}
