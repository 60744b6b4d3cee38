//! The dashboard's HTML: the login form and the main page.
//!
//! Plain server-rendered HTML with inline CSS and SVG, no script: nothing
//! loads from anywhere else, and the Content-Security-Policy set by
//! [`super::dashboard`] forbids it. Every value that did not come from the
//! catalog or a number (ban reasons are typed by moderators) is escaped.

use super::chart::{self, Series};
use crate::i18n::{utc_minute, Text};
use crate::metrics::history::Sample;
use crate::submit::DeskView;
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:60rem}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}\
.counts{display:flex;gap:1rem;flex-wrap:wrap}.count{border:1px solid #ddd;padding:.5rem 1rem;border-radius:6px}\
.count b{display:block;font-size:1.5rem}table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.3rem .6rem;text-align:left}\
form.inline{display:inline}.notice{background:#eef6ee;border:1px solid #9c9;padding:.5rem 1rem}\
.error{background:#fbeeee;border:1px solid #c99;padding:.5rem 1rem}figure{margin:1rem 0}";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
}

/// The login form, with an error line if the last attempt failed.
pub fn login(failed: bool) -> String {
    let error = if failed {
        "<p class=\"error\" id=\"login-error\">That token is not right.</p>"
    } else {
        ""
    };
    document(
        "randchat admin: log in",
        &format!(
            "<h1>randchat admin</h1>{error}\
<form method=\"post\" action=\"/login\" id=\"login\">\
<label>Admin token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"current-password\" required></label> \
<button type=\"submit\">Log in</button></form>"
        ),
    )
}

/// Outcomes the page can announce, named in `/?done=`.
pub fn notice(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "banned" => ("notice", "Done: the user is banned and was told why."),
        "unbanned" => ("notice", "Done: the ban is lifted and the user was told."),
        "dismissed" => ("notice", "Done: the report is dismissed."),
        "unchanged" => (
            "notice",
            "Nothing to do: not banned, or the report was already handled.",
        ),
        "invalid" => ("error", "That was not a valid user id, duration or reason."),
        "failed" => (
            "error",
            "The change could not be saved; nothing was done. Try again.",
        ),
        _ => return None,
    })
}

/// Everything the main page shows.
pub struct Main<'a> {
    pub view: &'a DeskView,
    pub samples: &'a [Sample],
    pub live: &'a Sample,
    pub csrf: &'a str,
    pub done: Option<&'a str>,
    pub now: u64,
}

/// The main page.
pub fn main(page: &Main) -> String {
    let mut body = String::from("<h1>randchat admin</h1>");
    if let Some((class, text)) = page.done.and_then(notice) {
        let _ = write!(body, "<p class=\"{class}\" id=\"notice\">{text}</p>");
    }
    counts(&mut body, page);
    body.push_str("<h2>Last 24 hours</h2>");
    for series in [Series::Searching, Series::Chats, Series::Messages] {
        body.push_str(&chart::render(series, page.samples, page.live));
    }
    reports(&mut body, page);
    bans(&mut body, page);
    ban_form(&mut body, page.csrf);
    let _ = write!(
        body,
        "<h2>Session</h2><form method=\"post\" action=\"/logout\" id=\"logout\">{}<button>Log out</button></form>",
        csrf_field(page.csrf)
    );
    document("randchat admin", &body)
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    )
}

fn counts(body: &mut String, page: &Main) {
    let view = page.view;
    let items = [
        ("count-searching", "Searching", view.searching as u64),
        ("count-chats", "Active chats", view.chats as u64),
        ("count-messages", "Messages this minute", page.live.messages),
        (
            "count-reports",
            "Open reports",
            view.open_report_count as u64,
        ),
        ("count-bans", "Bans in force", view.bans.len() as u64),
    ];
    body.push_str("<div class=\"counts\">");
    for (id, label, value) in items {
        let _ = write!(
            body,
            "<div class=\"count\"><b id=\"{id}\">{value}</b>{label}</div>"
        );
    }
    let _ = write!(body, "</div><p>As of {}.</p>", utc_minute(page.now));
}

fn reports(body: &mut String, page: &Main) {
    body.push_str("<h2>Open reports</h2>");
    if page.view.open_reports.is_empty() {
        body.push_str("<p id=\"no-reports\">No open reports.</p>");
        return;
    }
    body.push_str("<table id=\"reports\"><tr><th>#</th><th>Reason</th><th>Reported user</th><th>Reporter</th><th>When</th><th></th></tr>");
    for entry in &page.view.open_reports {
        let report = &entry.report;
        let id = entry.id.0;
        let action = |verb: &str, label: &str| {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/actions/report\">{}\
<input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"action\" value=\"{verb}\">\
<button id=\"report-{verb}-{id}\">{label}</button></form>",
                csrf_field(page.csrf)
            )
        };
        let _ = write!(
            body,
            "<tr id=\"report-{id}\"><td>{id}</td><td>{reason}</td><td>{reported}</td><td>{reporter}</td><td>{at}</td><td>{ban} {dismiss}</td></tr>",
            reason = escape(report.reason.label().render()),
            reported = report.reported.0,
            reporter = report.reporter.0,
            at = utc_minute(report.at.0),
            ban = action("ban", Text::ReportBanButton.render()),
            dismiss = action("dismiss", Text::ReportDismissButton.render()),
        );
    }
    body.push_str("</table>");
}

fn bans(body: &mut String, page: &Main) {
    body.push_str("<h2>Bans in force</h2>");
    if page.view.bans.is_empty() {
        body.push_str("<p id=\"no-bans\">Nobody is banned.</p>");
        return;
    }
    body.push_str("<table id=\"bans\"><tr><th>User</th><th>Until</th><th>Reason</th><th>Bans so far</th><th></th></tr>");
    for (user, ban) in &page.view.bans {
        let until = match ban.until.0 {
            0 => "permanent".to_owned(),
            secs => utc_minute(secs),
        };
        let reason = match &ban.reason {
            crate::engine::BanReason::Reports => "reports from users".to_owned(),
            crate::engine::BanReason::Admin(reason) => escape(reason),
        };
        let _ = write!(
            body,
            "<tr id=\"ban-{id}\"><td>{id}</td><td>{until}</td><td>{reason}</td><td>{count}</td><td>\
<form class=\"inline\" method=\"post\" action=\"/actions/unban\">{csrf}<input type=\"hidden\" name=\"target\" value=\"{id}\">\
<button id=\"unban-{id}\">Unban</button></form></td></tr>",
            id = user.0,
            count = ban.count,
            csrf = csrf_field(page.csrf),
        );
    }
    body.push_str("</table>");
}

fn ban_form(body: &mut String, csrf: &str) {
    let _ = write!(
        body,
        "<h2>Ban a user</h2><form method=\"post\" action=\"/actions/ban\" id=\"ban-form\">{}\
<label>User id <input name=\"target\" id=\"ban-target\" inputmode=\"numeric\" required></label> \
<label>Duration <input name=\"duration\" id=\"ban-duration\" value=\"24h\" size=\"6\" required></label> \
<label>Reason <input name=\"reason\" id=\"ban-reason\" maxlength=\"200\" required></label> \
<button id=\"ban-submit\">Ban</button></form><p>Durations: 30m, 12h, 7d or perm. The user is told the reason.</p>",
        csrf_field(csrf)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
