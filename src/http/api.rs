//! What the dashboard changes and what scripts read: `POST /actions/ban`,
//! `/actions/unban`, `/actions/report`, and `GET /api/summary`.
//!
//! Every action becomes an [`Event::Dashboard`] submitted into the update
//! loop ([`crate::submit`]): the engine runs the same code as the admin
//! commands, the loop commits the records, and only then does this answer.
//! A browser (session cookie plus the form's CSRF token) is sent back to
//! the page with a fixed notice code; a script (Bearer token) gets JSON.

use super::auth::Caller;
use super::dashboard::{see_other, unauthorized, Dashboard};
use crate::domain::UserId;
use crate::engine::dashboard::{DashboardAction, Verdict};
use crate::engine::{AdminCommand, Event, ReportAction, ReportId};
use crate::submit::SubmitError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

pub fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/api/summary", get(summary))
        .route("/actions/ban", post(ban))
        .route("/actions/unban", post(unban))
        .route("/actions/report", post(report))
}

#[derive(serde::Deserialize)]
struct BanForm {
    target: String,
    duration: String,
    reason: String,
    csrf: Option<String>,
}

#[derive(serde::Deserialize)]
struct UnbanForm {
    target: String,
    csrf: Option<String>,
}

#[derive(serde::Deserialize)]
struct ReportForm {
    id: String,
    action: String,
    csrf: Option<String>,
}

/// `/ban`'s own parser, so the page accepts exactly what the command does.
fn ban_action(form: &BanForm) -> Option<DashboardAction> {
    let args = format!(
        "{} {} {}",
        form.target.trim(),
        form.duration.trim(),
        form.reason
    );
    match AdminCommand::parse("ban", &args)? {
        AdminCommand::Ban(Some(order)) => Some(DashboardAction::Ban(order)),
        _ => None,
    }
}

fn unban_action(form: &UnbanForm) -> Option<DashboardAction> {
    match AdminCommand::parse("unban", form.target.trim())? {
        AdminCommand::Unban(Some(user)) => Some(DashboardAction::Unban(user)),
        _ => None,
    }
}

fn report_action(form: &ReportForm) -> Option<DashboardAction> {
    let id = ReportId(form.id.trim().parse().ok()?);
    let action = match form.action.as_str() {
        "ban" => ReportAction::Ban,
        "dismiss" => ReportAction::Dismiss,
        _ => return None,
    };
    Some(DashboardAction::Report(id, action))
}

async fn ban(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<BanForm>,
) -> Response {
    let action = ban_action(&form);
    act(&d, &headers, form.csrf.as_deref(), action).await
}

async fn unban(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<UnbanForm>,
) -> Response {
    let action = unban_action(&form);
    act(&d, &headers, form.csrf.as_deref(), action).await
}

async fn report(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<ReportForm>,
) -> Response {
    let action = report_action(&form);
    act(&d, &headers, form.csrf.as_deref(), action).await
}

/// Checks the caller, submits the action and answers with what committed.
async fn act(
    dashboard: &Dashboard,
    headers: &HeaderMap,
    csrf: Option<&str>,
    action: Option<DashboardAction>,
) -> Response {
    let Some(caller) = dashboard.auth.caller(headers) else {
        return unauthorized(false);
    };
    if !caller.may_change(csrf) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    let Some(action) = action else {
        return answer(&caller, Err(Refusal::Invalid));
    };
    let result = dashboard.submitter.apply(Event::Dashboard(action)).await;
    let result = result
        .map(|outcome| Verdict::of(&outcome))
        .map_err(Refusal::Submit);
    if let Ok(verdict) = &result {
        tracing::info!(?verdict, "dashboard action committed");
    }
    answer(&caller, result)
}

enum Refusal {
    Invalid,
    Submit(SubmitError),
}

fn answer(caller: &Caller, result: Result<Verdict, Refusal>) -> Response {
    let code = match &result {
        Ok(Verdict::Banned(_)) => "banned",
        Ok(Verdict::Unbanned) => "unbanned",
        Ok(Verdict::Dismissed) => "dismissed",
        Ok(Verdict::Unchanged) => "unchanged",
        Err(Refusal::Invalid) => "invalid",
        Err(Refusal::Submit(_)) => "failed",
    };
    if let Caller::Browser { .. } = caller {
        return see_other(&format!("/?done={code}"), None);
    }
    match result {
        Ok(Verdict::Banned(until)) => {
            Json(json!({"result": code, "until": until.0})).into_response()
        }
        Ok(_) => Json(json!({"result": code})).into_response(),
        Err(Refusal::Invalid) => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"result": code, "error": "not a valid user id, duration, reason or report"}),
            ),
        )
            .into_response(),
        Err(Refusal::Submit(error)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"result": code, "error": error.to_string()})),
        )
            .into_response(),
    }
}

/// Live counts as JSON, for scripts.
async fn summary(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if d.auth.caller(&headers).is_none() {
        return unauthorized(false);
    }
    let view = match d.submitter.view().await {
        Ok(view) => view,
        Err(error) => {
            return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response();
        }
    };
    let banned: Vec<i64> = view
        .bans
        .iter()
        .map(|(user, _): &(UserId, _)| user.0)
        .collect();
    let reports: Vec<_> = view
        .open_reports
        .iter()
        .map(|r| json!({"id": r.id.0, "reported": r.report.reported.0, "reporter": r.report.reporter.0, "at": r.report.at.0}))
        .collect();
    Json(json!({
        "searching": view.searching,
        "chats": view.chats,
        "open_reports": view.open_report_count,
        "bans_in_force": view.bans.len(),
        "banned": banned,
        "reports": reports,
    }))
    .into_response()
}
