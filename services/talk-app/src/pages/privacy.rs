//! `/privacy`: what StravaTalk keeps, who sees it, where it goes and how it leaves, in
//! plain words. Each sentence states what the code does; when the code changes, this
//! page changes with it (`tests/it/pages.rs` holds it to the facts it can check).

use crate::app::{Layout, document, html};
use crate::session::Visitor;
use crate::settings::WebSettings;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use leptos::prelude::*;

/// `GET /privacy`; says whether this server has a language model configured.
pub async fn page(
    visitor: Visitor,
    web: web::Data<WebSettings>,
    llm: web::Data<Option<crate::llm::LlmClient>>,
) -> HttpResponse {
    let signed_in = matches!(visitor, Visitor::SignedIn(_));
    let model = llm.get_ref().is_some();
    let support = web.support.clone();
    let body = document("Privacy", None, move || {
        view! { <Layout signed_in=signed_in><Privacy model=model support=support/></Layout> }
    });
    html(StatusCode::OK, body)
}

/// The privacy statement.
#[component]
fn Privacy(model: bool, support: crate::settings::Support) -> impl IntoView {
    let model_line = if model {
        "This server has a language model configured. It is asked only about questions the built-in engine cannot read, and it is sent only the wording of the question (with the earlier questions of the same conversation), today's date, your units and a description of the activity table's columns: never an activity, a name, a figure or anything else from your data. The model writes a database query; StravaTalk runs it on your own activities and writes the answer itself."
    } else {
        "This server has no language model configured: every answer comes from StravaTalk's built-in engine, on this server."
    };
    view! {
        <article class="message prose">
            <h1>"Privacy"</h1>
            <p>"StravaTalk answers questions about your own activities. This page says what it keeps, who can see it, and how you take it out or delete it."</p>

            <h2>"What StravaTalk keeps"</h2>
            <ul>
                <li>"Your activities, as Strava sends them or as your uploaded Strava export holds them: name, sport, start time and time zone, distance, moving and elapsed time, elevation, speed, heart rate, cadence, power, calories, kudos and achievement counts, flags such as commute, trainer, manual or private, the gear's id, and, for activities from Strava, the activity data as Strava sent it."</li>
                <li>"Your Strava profile's first and last name, its units, and your time zone."</li>
                <li>"Your Strava access tokens, encrypted, so new activities can arrive. Nothing is ever written to your Strava account."</li>
                <li>"Your conversations: each question and its answer, so you can read them again."</li>
                <li>"Your settings, your sign-in sessions, and the API tokens you create (only a fingerprint of each token, never the token itself)."</li>
                <li>"An export you upload is kept only until its import ends; a summary of the import stays."</li>
            </ul>

            <h2>"Who sees it"</h2>
            <p>"Only you. Your activities and conversations are shown only to you, signed in on your browser or with one of your API tokens. Every question runs in the database as you, and the database itself hides every other athlete's rows. StravaTalk shows nobody else's data to you either."</p>

            <h2>"Language models"</h2>
            <p>"Your activity data is never sent to a language model or any other outside service, and it is never used to train one."</p>
            <p>{model_line}</p>

            <h2>"Kept in step with Strava"</h2>
            <p>"An activity you change or delete on Strava is changed or deleted here when Strava tells StravaTalk, and a daily check with Strava catches any it missed. Activities from Strava are refreshed regularly (every week by default) or deleted."</p>

            <h2>"Taking your data out"</h2>
            <p>"In Settings: “Download my activities (CSV)” gives every activity StravaTalk keeps for you, and “Export chat history (JSON)” every conversation."</p>

            <h2>"Deleting it"</h2>
            <ul>
                <li>"In Settings, “Delete my data…” deletes your activities, Strava tokens, conversations, sessions and API tokens at once."</li>
                <li>"Revoking StravaTalk's access on Strava (Strava › Settings › My Apps › Revoke Access) erases the same: Strava tells StravaTalk, StravaTalk checks with Strava that access really was revoked, and deletes everything it holds for you."</li>
                <li>"An account made from an uploaded export is deleted when you sign out of it, and otherwise soon after its last session and API token have ended. A demo account is deleted after a day."</li>
            </ul>

            <h2>"Cookies"</h2>
            <p>"One sign-in cookie, and while you connect Strava a short-lived cookie that makes sure signing in finishes in your browser. No tracking, no advertising, no scripts from other sites."</p>

            <h2>"Contact"</h2>
            <p>"Questions about your data, or help with StravaTalk: "<a href=support.href()>{support.text().to_owned()}</a>"."</p>
        </article>
    }
}
