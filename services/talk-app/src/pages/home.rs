//! `/`: what StravaTalk is, "Connect with Strava", "Try the demo" (each visitor's
//! own, day-long copy of the demo athlete) and the upload of a Strava export for
//! those without a Strava connection (`upload`).

use crate::app::{Layout, document, html};
use crate::error::{AppError, see_other};
use crate::session::{SessionKeys, Visitor};
use crate::settings::WebSettings;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use db::demo::CopyOutcome;
use leptos::prelude::*;
use serde::Deserialize;

/// Where "Connect with Strava" leads: talk-app's start of the flow (`auth::connect`).
pub const CONNECT: &str = "/auth/connect";

/// How long a visitor's demo copy lives before upkeep deletes it.
pub const DEMO_COPY_TTL: chrono::Duration = chrono::Duration::hours(24);

/// `?notice=` values other pages send people here with.
#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    notice: Option<String>,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "session-ended" => "Your session has ended. Please sign in again.",
        "sign-in" => "Please sign in first.",
        "signed-out" => "You are signed out.",
        "erased" => "Your data has been deleted from StravaTalk.",
        "no-demo" => "The demo is not available on this server right now.",
        "demo-full" => "The demo has too many visitors right now. Please try again later.",
        _ => return None,
    })
}

/// `GET /`.
pub async fn page(
    visitor: Visitor,
    query: web::Query<HomeQuery>,
    web: web::Data<WebSettings>,
) -> HttpResponse {
    let notice = query.notice.as_deref().and_then(notice_text);
    let signed_in = matches!(visitor, Visitor::SignedIn(_));
    let connect = web.gateway_public_url.as_ref().map(|_| CONNECT.to_owned());
    let body = document("StravaTalk", None, move || {
        view! { <Layout signed_in=signed_in><Home notice=notice connect=connect signed_in=signed_in/></Layout> }
    });
    html(StatusCode::OK, body)
}

/// The landing page.
#[component]
fn Home(notice: Option<&'static str>, connect: Option<String>, signed_in: bool) -> impl IntoView {
    view! {
        {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <section class="hero">
            <h1>"Talk to your training"</h1>
            <p class="lead">"Ask your Strava activities questions in plain English and get a sentence, a table or a chart back."</p>
            <ul class="examples-list">
                <li>"How many runs did I do last month?"</li>
                <li>"Show my 10k runs this year"</li>
                <li>"Weekly ride distance this year as a chart"</li>
            </ul>
        </section>
        <section class="actions" aria-label="Get started">
            {if signed_in {
                view! { <a class="button primary" href="/chat">"Open your chat"</a> }.into_any()
            } else {
                view! {
                    {match connect {
                        Some(href) => view! { <crate::app::ConnectButton href=href/> }.into_any(),
                        None => view! { <p class="muted">"Connecting a Strava account is not configured on this server."</p> }.into_any(),
                    }}
                    <form method="post" action="/demo">
                        <button type="submit" class="button">"Try the demo"</button>
                    </form>
                    <p class="muted small">"The demo is a sample athlete of your own: nobody else sees your questions, and it is deleted after a day."</p>
                    <UploadForm input_id="export-home" intro=Some("No Strava connection? Upload your Strava export instead.") ask_zone=true/>
                }.into_any()
            }}
        </section>
        <section class="fine">
            <p>"StravaTalk reads only your own activities and shows them only to you. The built-in engine answers without sending your data anywhere. You can delete everything at any time in Settings."</p>
        </section>
    }
}

/// The export upload form (`POST /upload`), on this page and in settings: a plain
/// multipart form, so it works without JavaScript. With `ask_zone` (someone new,
/// whose zone nobody knows yet) it asks for the time zone that activities without a
/// GPS file are read in; it comes before the file, which is streamed as it arrives.
#[component]
pub fn UploadForm(
    input_id: &'static str,
    intro: Option<&'static str>,
    ask_zone: bool,
) -> impl IntoView {
    view! {
        <form method="post" action="/upload" enctype="multipart/form-data" class="upload-form">
            {intro.map(|text| view! { <p class="form-intro">{text}</p> })}
            {ask_zone.then(|| view! {
                <label for="upload-timezone">"Your time zone"</label>
                <crate::components::ZoneSelect id="upload-timezone" current=None/>
                <p class="muted small">"Activities without a GPS file in the export, such as indoor workouts, are placed in this zone."</p>
            })}
            <label for=input_id>"Your export archive (export_NNNN.zip)"</label>
            <input id=input_id type="file" name=crate::pages::upload::FIELD accept=".zip,application/zip" required/>
            <button type="submit" class="button">"Upload export"</button>
            <p class="muted small">"Strava sends the export_NNNN.zip archive when you ask for it under Settings › My Account › Download or Delete Your Account. Upload it as it came."</p>
        </form>
    }
}

/// `POST /demo`: gives the visitor a copy of the demo athlete of their own, living for
/// [`DEMO_COPY_TTL`], and signs them into it. Someone already signed in keeps their
/// session (and copy) instead of making another.
pub async fn demo(
    req: actix_web::HttpRequest,
    visitor: Visitor,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
    web: web::Data<WebSettings>,
) -> Result<HttpResponse, AppError> {
    if let Visitor::SignedIn(_) = visitor {
        return Ok(see_other("/chat"));
    }
    if web.demo_max_copies == 0 {
        return Ok(see_other("/?notice=no-demo"));
    }
    let address = web
        .trusted_proxies
        .client(&req)
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let client = db::demo::DemoClient {
        key: db::demo::client_key(web.session_secret.expose().as_bytes(), address),
        max_copies: web.demo_copies_per_client,
    };
    let mut conn = pool.get().await?;
    match db::demo::create_copy(&mut conn, DEMO_COPY_TTL, web.demo_max_copies, &client).await? {
        CopyOutcome::Created {
            athlete,
            expires_at,
        } => {
            let cookie = crate::session::start(&mut conn, &keys, athlete, Some(expires_at)).await?;
            tracing::info!(athlete = athlete.get(), "demo copy created");
            let mut res = see_other("/chat");
            res.add_cookie(&cookie)
                .map_err(|_| AppError::Internal("cookie"))?;
            Ok(res)
        }
        CopyOutcome::NoTemplate => Ok(see_other("/?notice=no-demo")),
        CopyOutcome::Full => Ok(see_other("/?notice=demo-full")),
    }
}
