//! The HTML document and the layout every page shares.
//!
//! Pages are Leptos components rendered to a string by actix handlers (server-side
//! only, no hydration). A handler decides the session, cookies, status and redirects
//! before any HTML exists, and passes the page its data as props; that keeps pages
//! plain functions of their data and every response a complete document that works
//! without JavaScript.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use leptos::prelude::*;

/// Bumped when app.css or app.js change, so long-cached copies are replaced.
pub const ASSET_VERSION: &str = "5";

/// The icon, inline so it costs no request: a white speech bubble on our own teal.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%230b6b63'/%3E%3Cpath d='M8 8h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9l-5 4v-4H8a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z' fill='white'/%3E%3C/svg%3E";

/// Strava's "Connect with Strava" button (its brand pack's orange variant, unmodified;
/// `static/strava/SOURCE.md` says where it came from), on every link that starts OAuth.
pub const CONNECT_BUTTON: &str = "/static/strava/btn_strava_connectwith_orange.svg";
/// Strava's "Powered by Strava" logo, unmodified, in every page's footer.
pub const POWERED_BY: &str = "/static/strava/api_logo_pwrdBy_strava_horiz_orange.svg";

tokio::task_local! {
    /// The support contact of the app serving this request. A middleware
    /// (`startup::with_support`) sets it around every request, so every page's footer
    /// has it, error pages included: `ResponseError` renders those with no request at hand.
    pub static SUPPORT: Option<crate::settings::Support>;
}

/// Renders a complete document: `<head>` with the one stylesheet and the optional
/// script, then `body`. `refresh` adds a meta refresh (seconds) for browsers without
/// JavaScript; app.js updates such pages in place, so typing is never lost to a reload.
pub fn document<F, V>(title: &str, refresh: Option<u32>, body: F) -> String
where
    F: FnOnce() -> V,
    V: IntoView + 'static,
{
    let title = if title == "StravaTalk" {
        title.to_owned()
    } else {
        format!("{title} · StravaTalk")
    };
    let owner = Owner::new();
    let html = owner.with(|| {
        let body = body();
        view! {
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {refresh.map(|s| view! { <noscript><meta http-equiv="refresh" content=s.to_string()/></noscript> })}
                <meta name="color-scheme" content="light dark"/>
                <title>{title}</title>
                <link rel="icon" href=FAVICON/>
                <link rel="stylesheet" href=format!("/static/app.css?v={ASSET_VERSION}")/>
                <script src=format!("/static/app.js?v={ASSET_VERSION}") defer></script>
            </head>
            <body>{body}</body>
        }
        .to_html()
    });
    format!("<!DOCTYPE html><html lang=\"en\">{html}</html>")
}

/// An HTML response.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // Pages hold one athlete's data: never store them in shared caches.
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body)
}

/// Header with the brand and, when signed in, the navigation and sign-out button;
/// then the page; then the footer.
#[component]
pub fn Layout(signed_in: bool, children: Children) -> impl IntoView {
    let support = SUPPORT.try_with(Clone::clone).ok().flatten();
    view! {
        <a class="skip" href="#content">"Skip to content"</a>
        <header class="top">
            <a class="brand" href=if signed_in { "/chat" } else { "/" }>"StravaTalk"</a>
            {signed_in.then(|| view! {
                <nav aria-label="Main">
                    <a href="/chat">"Chat"</a>
                    <a href="/settings">"Settings"</a>
                    <form method="post" action="/logout" class="inline">
                        <button type="submit" class="link">"Sign out"</button>
                    </form>
                </nav>
            })}
        </header>
        <main id="content">{children()}</main>
        <Footer support=support/>
    }
}

/// Where to get help, the privacy page, and Strava's attribution: smaller than our
/// own name and apart from it, as Strava's brand guidelines ask.
#[component]
fn Footer(support: Option<crate::settings::Support>) -> impl IntoView {
    view! {
        <footer class="foot">
            <p>
                {support.map(|s| view! {
                    "Help and questions: "<a class="support" href=s.href()>{s.text().to_owned()}</a>" · "
                })}
                <a href="/privacy">"Privacy"</a>
            </p>
            <p class="muted small">"StravaTalk is an independent app. It is not made, sponsored or endorsed by Strava."</p>
            <img class="powered" src=POWERED_BY alt="Powered by Strava" width="158" height="16"/>
        </footer>
    }
}

/// Strava's own "Connect with Strava" button linking to `href` (the start of OAuth).
#[component]
pub fn ConnectButton(href: String) -> impl IntoView {
    view! {
        <a class="connect-strava" href=href>
            <img src=CONNECT_BUTTON alt="Connect with Strava" width="237" height="48"/>
        </a>
    }
}

/// The 404 page for any path the site does not have.
pub async fn not_found() -> HttpResponse {
    crate::error::page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Check the link, or start from the home page.",
    )
}
