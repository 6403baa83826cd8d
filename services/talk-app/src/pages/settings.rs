//! `/settings`: units, time zone, the upload of a Strava export, personal API tokens,
//! chat export, and erasure.
//!
//! For a demo visitor all of this acts on their own copy of the demo athlete.
//!
//! Erasure deletes the athlete row, and with it (by foreign keys) tokens, activities,
//! sync state, sessions, API tokens and chats, whether the data came from Strava, an
//! import or the demo. talk-app never calls Strava: the Strava tokens are deleted, so
//! StravaTalk can no longer read anything, and the page tells the athlete that they
//! can also remove the app under Strava's "My Apps" settings.

use crate::app::{Layout, document, html};
use crate::error::{AppError, see_other};
use crate::session::{Session, SessionKeys};
use crate::settings::WebSettings;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use db::api_tokens::ApiTokenRow;
use db::athletes::AthleteRow;
use db::uploads::UploadState;
use domain::{Units, dates};
use leptos::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

/// Most live tokens an athlete may hold.
const MAX_TOKENS: usize = 10;
/// Longest token name kept, in characters.
const TOKEN_NAME_CHARS: usize = 60;

/// `?done=` after a settings change.
#[derive(Debug, Deserialize)]
pub struct SettingsQuery {
    done: Option<String>,
}

fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "units" => "Units saved.",
        "timezone" => "Time zone saved.",
        "revoked" => "Token revoked.",
        "too-many" => "You have reached the limit of 10 tokens. Revoke one first.",
        _ => return None,
    })
}

/// What the settings page shows.
struct SettingsData {
    athlete: AthleteRow,
    /// Where to reconnect Strava, when the gateway is configured.
    connect: Option<String>,
    timezone: Option<String>,
    /// The zone times on this page are shown in.
    zone: Tz,
    tokens: Vec<ApiTokenRow>,
    /// The newest export upload, for its state or summary.
    upload: Option<db::uploads::Upload>,
}

async fn load(
    pool: &db::Pool,
    config: &WebSettings,
    session: Session,
) -> Result<SettingsData, AppError> {
    let mut conn = pool.get().await?;
    let athlete = db::athletes::find(&mut conn, session.athlete)
        .await?
        .ok_or(AppError::SessionEnded)?;
    let timezone = match athlete.timezone.clone() {
        Some(tz) => Some(tz),
        None => db::activities::latest_timezone(&mut conn, session.athlete).await?,
    };
    let tokens = db::api_tokens::list(&mut conn, session.athlete).await?;
    let zone = dates::pick_zone(timezone.as_deref(), None);
    let upload = db::uploads::latest(&mut conn, session.athlete).await?;
    Ok(SettingsData {
        athlete,
        connect: config
            .gateway_public_url
            .as_ref()
            .map(|_| super::home::CONNECT.to_owned()),
        timezone,
        zone,
        tokens,
        upload,
    })
}

fn render(
    data: SettingsData,
    notice: Option<&'static str>,
    new_token: Option<String>,
) -> HttpResponse {
    let body = document("Settings", None, move || {
        view! {
            <Layout signed_in=true>
                <SettingsPage data=data notice=notice new_token=new_token/>
            </Layout>
        }
    });
    html(StatusCode::OK, body)
}

/// `GET /settings`.
pub async fn page(
    session: Session,
    query: web::Query<SettingsQuery>,
    pool: web::Data<db::Pool>,
    config: web::Data<WebSettings>,
) -> Result<HttpResponse, AppError> {
    let data = load(&pool, &config, session).await?;
    Ok(render(
        data,
        query.done.as_deref().and_then(done_text),
        None,
    ))
}

/// An instant on the athlete's clock, as the rest of the app writes dates.
fn when(t: DateTime<Utc>, zone: Tz) -> String {
    domain::format::day_time(t.with_timezone(&zone).naive_local())
}

/// The settings sections.
#[component]
fn SettingsPage(
    data: SettingsData,
    notice: Option<&'static str>,
    new_token: Option<String>,
) -> impl IntoView {
    let SettingsData {
        athlete,
        connect,
        timezone,
        zone,
        tokens,
        upload,
    } = data;
    let is_demo = athlete.is_demo;
    let strava_units = athlete.measurement_preference;
    let choice = athlete.units_override;
    let units_name = |u: Units| match u {
        Units::Metric => "metric: km, m",
        Units::Imperial => "imperial: miles, feet",
    };
    let name = format!("{} {}", athlete.firstname, athlete.lastname)
        .trim()
        .to_owned();
    let radio = move |value: &'static str, label: String, checked: bool| {
        let id = format!("units-{value}");
        view! {
            <div class="radio">
                <input type="radio" name="units" id=id.clone() value=value checked=checked/>
                <label for=id>{label}</label>
            </div>
        }
    };
    let live_tokens = tokens.iter().filter(|t| t.revoked_at.is_none()).count();
    // Accounts made from an upload have negative ids, like demo copies.
    let from_upload = athlete.id < 0 && !athlete.is_demo;
    view! {
        <h1>"Settings"</h1>
        {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <section class="card" aria-labelledby="account-title">
            <h2 id="account-title">"Account"</h2>
            {athlete.needs_reconnect.then(|| view! {
                <p class="notice" role="status">
                    "StravaTalk can no longer read your Strava account, so new activities are not arriving. Connect it again to go on:"
                </p>
                {connect.map(|href| view! { <p><crate::app::ConnectButton href=href/></p> })}
            })}
            <p>{match (name.is_empty(), from_upload) {
                (false, _) => name,
                (true, true) => "Your uploaded export (no Strava connection)".to_owned(),
                (true, false) => format!("Athlete {}", athlete.id),
            }}
               {athlete.is_demo.then_some(" (demo athlete)")}</p>
            {athlete.demo_expires_at.map(|t| view! {
                <p class="muted">"This demo account is yours alone. It is deleted, with your questions and tokens, at "{when(t, zone)}"."</p>
            })}
            {from_upload.then(|| view! {
                <p class="muted">"This account was made from your uploaded export and has no Strava connection, so nothing can sign you into it again: it lasts while you stay signed in on this browser (or an API token of yours is live). After that it is deleted, with your activities and questions."</p>
            })}
        </section>
        <TimeZoneSection timezone=timezone zone=zone/>
        <section class="card" aria-labelledby="units-title">
            <h2 id="units-title">"Units"</h2>
            <form method="post" action="/settings/units">
                <fieldset>
                    <legend>"Show distances and elevation in"</legend>
                    {radio("strava", format!("Follow Strava ({})", units_name(strava_units)), choice.is_none())}
                    {radio("meters", "Metric (km, m)".into(), choice == Some(Units::Metric))}
                    {radio("feet", "Imperial (miles, feet)".into(), choice == Some(Units::Imperial))}
                </fieldset>
                <button type="submit" class="button">"Save units"</button>
            </form>
        </section>
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Personal API tokens"</h2>
            <p class="muted">"A token lets a script ask questions as you: "
                <code>"POST /api/ask"</code>" with "<code>"Authorization: Bearer <token>"</code>
                " and a JSON body "<code>"{\"question\": \"…\"}"</code>"."</p>
            {new_token.map(|t| view! {
                <div class="new-token" role="status">
                    <p><strong>"Copy your new token now."</strong>" It will not be shown again."</p>
                    <label for="new-token">"New token"</label>
                    <input id="new-token" type="text" readonly value=t/>
                </div>
            })}
            {(!tokens.is_empty()).then(|| view! {
                <ul class="tokens">
                    {tokens.into_iter().map(|t| {
                        let status = match (t.revoked_at, t.last_used_at) {
                            (Some(r), _) => format!("revoked {}", when(r, zone)),
                            (None, Some(u)) => format!("last used {}", when(u, zone)),
                            (None, None) => "never used".into(),
                        };
                        let live = t.revoked_at.is_none();
                        let action = format!("/settings/tokens/{}/revoke", t.id);
                        let label = format!("Revoke token {}", t.name);
                        view! {
                            <li>
                                <span><strong>{t.name}</strong>" · created "{when(t.created_at, zone)}" · "{status}</span>
                                {live.then(|| view! {
                                    <form method="post" action=action class="inline">
                                        <button type="submit" class="button small" aria-label=label>"Revoke"</button>
                                    </form>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {(live_tokens < MAX_TOKENS).then(|| view! {
                <form method="post" action="/settings/tokens" class="token-form">
                    <label for="token-name">"Token name"</label>
                    <div class="ask-row">
                        <input id="token-name" name="name" type="text" required maxlength="60" placeholder="e.g. my laptop"/>
                        <button type="submit" class="button">"Create token"</button>
                    </div>
                </form>
            })}
        </section>
        {(!is_demo).then(|| view! {
            <section class="card" aria-labelledby="upload-title">
                <h2 id="upload-title">"Import a Strava export"</h2>
                {upload.map(|u| {
                    let text = match (u.state, u.summary()) {
                        (UploadState::Queued | UploadState::Importing, _) => {
                            format!("{} is being imported; the chat page shows its progress.", u.filename)
                        }
                        (_, Some(summary)) => super::sync::summary_text(&u.filename, &summary),
                        (_, None) => format!("The import of {} has ended.", u.filename),
                    };
                    view! { <p role="status">"Last upload: "{text}</p> }
                })}
                <super::home::UploadForm input_id="export-settings" intro=None ask_zone=false/>
            </section>
        })}
        <section class="card" aria-labelledby="export-title">
            <h2 id="export-title">"Your data"</h2>
            <p>"Everything StravaTalk keeps for you, to take with you: your activities for a spreadsheet, your conversations as JSON."</p>
            <p class="chips">
                <a class="button" href="/settings/export/activities" download="stravatalk-activities.csv">"Download my activities (CSV)"</a>
                <a class="button" href="/settings/export" download="stravatalk-chats.json">"Export chat history (JSON)"</a>
            </p>
        </section>
        <section class="card danger" aria-labelledby="delete-title">
            <h2 id="delete-title">"Disconnect Strava and delete my data"</h2>
            <p>"Deletes your activities, Strava tokens, conversations and API tokens from StravaTalk, and signs you out."</p>
            <p><a class="button danger" href="/settings/delete">"Delete my data…"</a></p>
        </section>
    }
}

/// The time zone: what "today" and "this week" follow, and the clock times on pages
/// are shown in. Strava's zone until the athlete picks one.
#[component]
fn TimeZoneSection(timezone: Option<String>, zone: Tz) -> impl IntoView {
    let shown = timezone.unwrap_or_else(|| "not known yet".into());
    let current = zone.name();
    view! {
        <section class="card" aria-labelledby="timezone-title">
            <h2 id="timezone-title">"Time zone"</h2>
            <p>"Now: "<strong>{shown}</strong>
               <span class="muted">" (\"today\", \"this week\" and the times shown follow it)"</span></p>
            <form method="post" action="/settings/timezone">
                <label for="timezone">"Time zone"</label>
                <div class="ask-row">
                    <crate::components::ZoneSelect id="timezone" current=Some(current)/>
                    <button type="submit" class="button">"Save time zone"</button>
                </div>
            </form>
        </section>
    }
}

/// The time zone form.
#[derive(Debug, Deserialize)]
pub struct TimeZoneForm {
    timezone: String,
}

/// `POST /settings/timezone`: an IANA zone name ("Europe/Paris"); anything else is
/// refused and nothing changes.
pub async fn timezone(
    session: Session,
    form: web::Form<TimeZoneForm>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    // Strava's "(GMT+01:00) Europe/Paris" form is accepted too; the bare name is kept.
    let zone = dates::parse_strava_timezone(&form.timezone).map_err(|_| {
        AppError::BadRequest(
            "That is not a time zone StravaTalk knows. Choose one from the list, e.g. Europe/Paris.",
        )
    })?;
    let mut conn = pool.get().await?;
    db::athletes::set_timezone(&mut conn, session.athlete, zone.name()).await?;
    Ok(see_other("/settings?done=timezone"))
}

/// The units form.
#[derive(Debug, Deserialize)]
pub struct UnitsForm {
    units: String,
}

/// `POST /settings/units`.
pub async fn units(
    session: Session,
    form: web::Form<UnitsForm>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let choice = match form.units.as_str() {
        "strava" => None,
        other => Some(
            Units::from_strava(other)
                .ok_or(AppError::BadRequest("Choose one of the unit options."))?,
        ),
    };
    let mut conn = pool.get().await?;
    db::athletes::set_units_override(&mut conn, session.athlete, choice).await?;
    Ok(see_other("/settings?done=units"))
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
}

/// `POST /settings/tokens`: creates a token and shows it once (this response is the
/// only place it appears, so it is a page, not a redirect).
pub async fn create_token(
    session: Session,
    form: web::Form<TokenForm>,
    pool: web::Data<db::Pool>,
    config: web::Data<WebSettings>,
) -> Result<HttpResponse, AppError> {
    let name: String = form
        .name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(TOKEN_NAME_CHARS)
        .collect();
    if name.is_empty() {
        return Err(AppError::BadRequest("Give the token a name."));
    }
    let mut conn = pool.get().await?;
    let live = db::api_tokens::list(&mut conn, session.athlete)
        .await?
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .count();
    if live >= MAX_TOKENS {
        return Ok(see_other("/settings?done=too-many"));
    }
    let (_, token) = db::api_tokens::create(&mut conn, session.athlete, &name).await?;
    drop(conn);
    let data = load(&pool, &config, session).await?;
    Ok(render(data, None, Some(token)))
}

/// `POST /settings/tokens/{id}/revoke`.
pub async fn revoke_token(
    session: Session,
    path: web::Path<String>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let id: Uuid = path.parse().map_err(|_| AppError::NotFound)?;
    let mut conn = pool.get().await?;
    // Another athlete's token is as unknown as one that never existed.
    if !db::api_tokens::revoke(&mut conn, session.athlete, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/settings?done=revoked"))
}

/// `GET /settings/export`: every conversation with its messages, as a JSON download.
pub async fn export(session: Session, pool: web::Data<db::Pool>) -> Result<HttpResponse, AppError> {
    let mut conn = pool.get().await?;
    let conversations = db::chats::list(&mut conn, session.athlete, i64::MAX).await?;
    let mut out = Vec::with_capacity(conversations.len());
    for c in conversations {
        let messages: Vec<serde_json::Value> = db::chats::messages(&mut conn, c.id)
            .await?
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "role": m.role,
                    "content": m.content,
                    "answer": m.answer,
                    "created_at": m.created_at,
                })
            })
            .collect();
        out.push(serde_json::json!({
            "id": c.id,
            "title": c.title,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "messages": messages,
        }));
    }
    let doc = serde_json::json!({
        "athlete_id": session.athlete,
        "exported_at": Utc::now(),
        "conversations": out,
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"stravatalk-chats.json\"",
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .json(doc))
}

/// The activities export's columns: the stored fields, units in their names.
const ACTIVITY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "sport_type",
    "start_date_utc",
    "start_date_local",
    "timezone",
    "distance_m",
    "moving_time_s",
    "elapsed_time_s",
    "total_elevation_gain_m",
    "average_speed_mps",
    "max_speed_mps",
    "average_heartrate_bpm",
    "max_heartrate_bpm",
    "average_cadence",
    "average_watts",
    "calories",
    "commute",
    "trainer",
    "manual",
    "private",
    "gear_id",
    "source",
];

/// `GET /settings/export/activities`: every activity StravaTalk keeps for the athlete,
/// as CSV for a spreadsheet; names and other text cannot run as formulas there
/// ([`crate::spreadsheet`]).
pub async fn export_activities(
    session: Session,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let mut conn = pool.get().await?;
    let rows = db::activities::for_export(&mut conn, session.athlete).await?;
    drop(conn);
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = crate::spreadsheet::csv_line(ACTIVITY_COLUMNS);
    for r in rows {
        out.push_str(&crate::spreadsheet::csv_line([
            r.id.to_string(),
            r.name,
            r.sport_type,
            r.start_date
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            r.start_date_local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            r.timezone.unwrap_or_default(),
            r.distance_m.to_string(),
            r.moving_time_s.to_string(),
            r.elapsed_time_s.to_string(),
            r.total_elevation_gain_m.to_string(),
            r.average_speed_mps.to_string(),
            r.max_speed_mps.to_string(),
            opt(r.average_heartrate),
            opt(r.max_heartrate),
            opt(r.average_cadence),
            opt(r.average_watts),
            opt(r.calories),
            r.commute.to_string(),
            r.trainer.to_string(),
            r.manual.to_string(),
            r.private.to_string(),
            r.gear_id.unwrap_or_default(),
            r.source,
        ]));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"stravatalk-activities.csv\"",
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(out))
}

/// `GET /settings/delete`: the confirm step.
pub async fn confirm_delete(_session: Session) -> HttpResponse {
    let body = document("Delete my data", None, || {
        view! {
            <Layout signed_in=true>
                <section class="card danger">
                    <h1>"Disconnect Strava and delete my data"</h1>
                    <p>"This deletes, at once and for good:"</p>
                    <ul>
                        <li>"your activities and sync state"</li>
                        <li>"your Strava tokens (StravaTalk can no longer read your Strava account)"</li>
                        <li>"your conversations and personal API tokens"</li>
                    </ul>
                    <p class="muted">"To also remove StravaTalk from your Strava account, open Strava → Settings → My Apps and revoke access."</p>
                    <form method="post" action="/settings/delete">
                        <div class="check">
                            <input type="checkbox" id="confirm" name="confirm" value="yes" required/>
                            <label for="confirm">"I understand this cannot be undone"</label>
                        </div>
                        <button type="submit" class="button danger">"Delete my data and sign out"</button>
                        " "
                        <a href="/settings">"Cancel"</a>
                    </form>
                </section>
            </Layout>
        }
    });
    html(StatusCode::OK, body)
}

/// The confirm form.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    confirm: Option<String>,
}

/// `POST /settings/delete`: erases the athlete and everything of theirs, then signs out.
pub async fn delete(
    session: Session,
    form: web::Form<DeleteForm>,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
) -> Result<HttpResponse, AppError> {
    if form.confirm.as_deref() != Some("yes") {
        return Ok(see_other("/settings/delete"));
    }
    let mut conn = pool.get().await?;
    db::athletes::erase(&mut conn, session.athlete).await?;
    tracing::info!(athlete = session.athlete.get(), "athlete erased their data");
    let mut res = see_other("/?notice=erased");
    res.add_cookie(&keys.removal())
        .map_err(|_| AppError::Internal("cookie"))?;
    Ok(res)
}
