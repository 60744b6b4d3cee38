//! The Spanish catalog (español). Informal «tú», neutral between Spain and
//! Latin America where the words allow it.

use super::{MenuCommand, Text};

pub(super) fn text(key: Text) -> &'static str {
    match key {
        Text::Welcome => "👋 ¡Te damos la bienvenida a randchat!\n\n\
            Te conecto con una persona desconocida al azar para un chat anónimo uno a uno. \
            Tu nombre, tu usuario y tu perfil nunca se muestran a la otra persona; \
            todo lo que envías llega como una copia.\n\n\
            Comandos:\n\
            /chat — buscar con quién hablar (también /search)\n\
            /next — terminar este chat y buscar a otra persona\n\
            /stop — terminar el chat o dejar de buscar\n\
            /report — denunciar a tu compañero actual o al anterior\n\
            /link — proponer intercambiar nombres de usuario\n\
            /media — elegir qué tipos de mensaje aceptas\n\
            /language — cambiar mi idioma\n\
            /help — cómo funciona\n\n\
            Normas: sé amable, nada de spam ni de contenido ilegal. Usa /report contra los abusos.\n\n\
            Envía /chat para empezar.",
        Text::Help => "ℹ️ Cómo funciona randchat\n\n\
            /chat (o /search) te pone en la cola; en cuanto otra persona esté buscando, empieza el chat.\n\
            Durante el chat, todo lo que envías —texto, fotos, vídeos, notas de voz, stickers, archivos, ubicaciones, encuestas— \
            se copia a tu compañero, sin tu nombre ni tu perfil.\n\
            Las respuestas, ediciones y reacciones también llegan a su copia.\n\
            /delete, enviado como respuesta a uno de tus mensajes, lo borra para tu compañero.\n\
            /next termina el chat y busca a otra persona al instante.\n\
            /stop termina el chat o deja de buscar.\n\
            /report denuncia a tu compañero actual, o al anterior si el chat acaba de terminar.\n\
            /link propone intercambiar nombres de usuario de Telegram; no se comparte nada a menos que tu compañero también acepte.\n\
            /media te permite rechazar fotos, vídeos, notas de voz, stickers, documentos o enlaces.\n\
            /language cambia el idioma en que te hablo.\n\n\
            Sé amable. Nunca compartas datos personales de los que te puedas arrepentir.",
        Text::Searching => "🔎 Buscando a alguien…",
        Text::SearchingAgain => "🔎 Buscando a otra persona…",
        Text::AlreadySearching => "🔎 Ya estás buscando a alguien. Envía /stop para cancelar.",
        Text::StillSearching => "⏳ Sigo buscando a alguien… Tu mensaje no se ha enviado a nadie.",
        Text::PartnerFound => "✅ ¡Encontré a alguien! Saluda 👋\n(/next para pasar, /stop para terminar)",
        Text::AlreadyChatting => "💬 Ya estás en un chat. Envía /next para buscar a otra persona o /stop para terminarlo.",
        Text::PartnerLeft => "👋 Tu compañero ha salido del chat. Envía /chat para buscar a otra persona.",
        Text::YouLeftChat => "Chat terminado. Envía /chat para buscar a otra persona.",
        Text::SearchStopped => "Búsqueda detenida. Envía /chat cuando quieras volver a buscar.",
        Text::NotInChat => "No estás en ningún chat. Envía /chat para buscar a alguien.",
        Text::NothingToStop => "No estás en un chat ni buscando. Envía /chat para buscar a alguien.",
        Text::ReportThanks => "🛡 Gracias: hemos registrado tu denuncia. Tu compañero no sabrá quién lo denunció.",
        Text::NothingToReport => "No hay ningún compañero reciente al que denunciar.",
        Text::UnknownCommand => "No conozco ese comando. Envía /help para ver lo que entiendo.",
        Text::UnsupportedMessage => "⚠️ Este tipo de mensaje no se puede enviar a tu compañero.",
        Text::PrivateChatsOnly => "randchat solo funciona en chats privados. Ábreme un chat privado para usarlo. ¡Adiós!",
        Text::TemporarilyUnavailable => "⚠️ randchat no está disponible en este momento. Inténtalo de nuevo en un minuto.",
        Text::DeliveryFailed => "⚠️ Tu último mensaje no se pudo entregar a tu compañero.",
        Text::StatusChatting => "💬 Estás en un chat. /next para pasar, /stop para terminar.",
        Text::StatusSearching => "🔎 Estás en la cola, buscando a alguien. /stop para cancelar.",
        Text::ChatIdleEnded => "⌛ El chat terminó porque nadie escribió durante un rato. Envía /chat para buscar a otra persona.",
        Text::SearchTimedOut => "⌛ No apareció nadie en un buen rato, así que dejé de buscar. Envía /chat para intentarlo de nuevo.",
        Text::SlowDownMessages => "🐢 Más despacio: estás enviando mensajes demasiado rápido. Lo que envíes ahora no llega a tu compañero; espera un momento antes de seguir.",
        Text::SlowDownSearches => "🐢 Más despacio: estás cambiando de compañero demasiado rápido. Espera un minuto y vuelve a enviar /next o /chat.",
        Text::Deleted => "🗑 Borrado para tu compañero.",
        Text::DeleteHowTo => "Para borrar un mensaje, responde /delete a uno de tus propios mensajes de este chat.",
        Text::EditedMarker => "✏️ editado:",
        Text::ReportAskReason => "🛡 ¿Qué ha pasado? Elige un motivo. Tu compañero no sabrá quién lo denunció.",
        Text::ReasonSpam => "Spam o publicidad",
        Text::ReasonAbuse => "Insultos o acoso",
        Text::ReasonNudity => "Desnudos o contenido sexual",
        Text::ReasonUnderage => "Menor de edad",
        Text::ReasonScam => "Estafa",
        Text::ReasonOther => "Otro",
        Text::ButtonExpired => "Ese botón ya no hace nada.",
        Text::BannedByReports => "🚫 No puedes chatear {0}: varias personas te han denunciado. Respeta las normas, por favor.",
        Text::BannedByAdmin => "🚫 Un moderador te ha prohibido chatear {0}. Motivo: {1}",
        Text::StillBanned => "🚫 Tienes prohibido chatear {0}. /help y los demás comandos siguen funcionando.",
        Text::BanUntil => "hasta el {0}",
        Text::BanForever => "para siempre",
        Text::Unbanned => "✅ Se ha levantado tu bloqueo. Envía /chat para buscar a alguien.",
        Text::Warned => "⚠️ Aviso de un moderador: {0}\nRespeta las normas, por favor, o podrías ser bloqueado.",
        Text::AdminHelp => "🛠 Comandos de administración\n\n\
            /stats — usuarios buscando, chats activos, bloqueos vigentes\n\
            /ban <id de usuario> <30m|12h|7d|perm> <motivo> — bloquear a un usuario; verá el motivo\n\
            /unban <id de usuario> — levantar un bloqueo\n\
            /warn <id de usuario> <motivo> — enviar un aviso a un usuario\n\
            /maintenance on|off — rechazar búsquedas nuevas (los chats en curso siguen)\n\
            /reports — las últimas denuncias abiertas, con botones para bloquear o descartar\n\
            /admin — esta lista",
        Text::AdminStats => "📊 Buscando: {0}\nChats: {1}\nBloqueos vigentes: {2}",
        Text::AdminBanDone => "Bloqueado {0}.",
        Text::AdminUnbanDone => "Bloqueo levantado.",
        Text::AdminNotBanned => "Ese usuario no está bloqueado.",
        Text::AdminWarnDone => "Aviso enviado.",
        Text::AdminBanUsage => "Uso: /ban <id de usuario> <30m|12h|7d|perm> <motivo>",
        Text::AdminUnbanUsage => "Uso: /unban <id de usuario>",
        Text::AdminWarnUsage => "Uso: /warn <id de usuario> <motivo>",
        Text::Maintenance => "🛠 randchat está en mantenimiento, así que ahora no se pueden empezar chats nuevos. Los chats en curso continúan. Inténtalo más tarde.",
        Text::AdminMaintenanceOn => "Mantenimiento activado: se rechazan las búsquedas nuevas, los chats en curso siguen.",
        Text::AdminMaintenanceOff => "Mantenimiento desactivado: la búsqueda vuelve a funcionar.",
        Text::AdminMaintenanceUsage => "Uso: /maintenance on|off",
        Text::LanguagePick => "🌐 Elige el idioma en que te hablo:",
        Text::LanguageSet => "✅ A partir de ahora te hablo en español.",
        Text::ShareAsk => "🤝 Tu compañero quiere intercambiar nombres de usuario de Telegram. ¿Aceptas?",
        Text::ShareAgree => "✅ Acepto",
        Text::ShareDecline => "✖️ No, gracias",
        Text::ShareAsked => "🤝 Le pregunté a tu compañero si quiere intercambiar nombres de usuario. No se comparte nada a menos que acepte.",
        Text::ShareAlreadyAsked => "⏳ Ya lo propusiste; esperando la respuesta de tu compañero.",
        Text::ShareDeclined => "Tu compañero no quiso intercambiar nombres de usuario. No se compartió nada.",
        Text::ShareDeclinedYou => "De acuerdo, no se compartió nada.",
        Text::ShareExpired => "⌛ La propuesta de intercambiar nombres de usuario caducó. No se compartió nada.",
        Text::ShareRevealed => "🤝 Acuerdo mutuo para intercambiar nombres de usuario. Tu compañero: {0}",
        Text::ShareProfileLink => "abrir su perfil",
        Text::MediaMenu => "🖼 ¿Qué te pueden enviar tus compañeros? Toca un tipo para permitirlo ✅ o rechazarlo 🚫.",
        Text::MediaPhotos => "fotos",
        Text::MediaVideos => "vídeos",
        Text::MediaVoice => "notas de voz y videomensajes",
        Text::MediaStickers => "stickers y GIF",
        Text::MediaDocuments => "documentos",
        Text::MediaLinks => "enlaces",
        Text::MediaRefused => "🚫 Tu compañero no acepta {0}, así que esto no se envió.",
        Text::MediaSaved => "Guardado.",
        Text::ShareNotAgain => "Tu compañero ya rechazó intercambiar nombres de usuario en este chat.",
        Text::AdminNoOpenReports => "No hay denuncias abiertas.",
        Text::ReportCard => "🛡 Denuncia #{0} · {1}\nUsuario denunciado: {2}\nDenunciado por: {3}\nFecha: {4}",
        Text::ReportBanButton => "Bloquear",
        Text::ReportDismissButton => "Descartar",
        Text::ReportBanned => "🛡 Denuncia #{0}: el usuario queda bloqueado {1}.",
        Text::ReportDismissed => "🛡 Denuncia #{0}: descartada.",
        Text::ReportNotOpen => "🛡 La denuncia #{0} ya fue atendida.",
    }
}

pub(super) fn command(command: MenuCommand) -> &'static str {
    match command {
        MenuCommand::Chat => "Buscar con quién hablar",
        MenuCommand::Next => "Terminar este chat y buscar a otra persona",
        MenuCommand::Stop => "Terminar el chat o dejar de buscar",
        MenuCommand::Link => "Proponer intercambiar nombres de usuario",
        MenuCommand::Media => "Elegir qué tipos de mensaje aceptas",
        MenuCommand::Language => "Cambiar el idioma del bot",
        MenuCommand::Report => "Denunciar a tu compañero actual o anterior",
        MenuCommand::Delete => "Responde a tu mensaje para borrarlo",
        MenuCommand::Help => "Cómo funciona el bot",
        MenuCommand::Start => "Bienvenida y normas",
    }
}
