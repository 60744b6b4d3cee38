//! The command menu registered with setMyCommands, once per language:
//! each catalog describes every [`MenuCommand`] (an exhaustive `match`).

use super::{en, es, ru, Lang};

/// A command in the menu registered with setMyCommands, once per language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuCommand {
    Chat,
    Next,
    Stop,
    Link,
    Media,
    Language,
    Report,
    Delete,
    Help,
    Start,
}

impl MenuCommand {
    pub const ALL: [MenuCommand; 10] = [
        MenuCommand::Chat,
        MenuCommand::Next,
        MenuCommand::Stop,
        MenuCommand::Link,
        MenuCommand::Media,
        MenuCommand::Language,
        MenuCommand::Report,
        MenuCommand::Delete,
        MenuCommand::Help,
        MenuCommand::Start,
    ];

    /// The command as typed, without the slash.
    pub fn name(self) -> &'static str {
        match self {
            MenuCommand::Chat => "chat",
            MenuCommand::Next => "next",
            MenuCommand::Stop => "stop",
            MenuCommand::Link => "link",
            MenuCommand::Media => "media",
            MenuCommand::Language => "language",
            MenuCommand::Report => "report",
            MenuCommand::Delete => "delete",
            MenuCommand::Help => "help",
            MenuCommand::Start => "start",
        }
    }

    /// What the menu says the command does, in `lang`.
    pub fn describe(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => en::command(self),
            Lang::Ru => ru::command(self),
            Lang::Es => es::command(self),
        }
    }
}

/// The command menu in `lang`: (command, description).
pub fn commands(lang: Lang) -> Vec<(&'static str, &'static str)> {
    MenuCommand::ALL
        .into_iter()
        .map(|command| (command.name(), command.describe(lang)))
        .collect()
}
