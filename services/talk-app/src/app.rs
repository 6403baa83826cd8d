//! The Leptos application: the HTML shell and the pages.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, WildcardSegment};

/// The document around every page. No hydration scripts: pages are plain HTML.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/static/app.css"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes of the site.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=WildcardSegment("any") view=NotFound ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// What StravaTalk is.
#[component]
fn HomePage() -> impl IntoView {
    view! {
        <Title text="StravaTalk"/>
        <section class="hero">
            <h1>"StravaTalk"</h1>
            <p>"Ask your training data in plain English: how many runs in November, your 10k runs, weekly ride distance this year."</p>
        </section>
    }
}

/// Shown for any path the site does not have.
#[component]
fn NotFound() -> impl IntoView {
    if let Some(response) = use_context::<leptos_actix::ResponseOptions>() {
        response.set_status(actix_web::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · StravaTalk"/>
        <section class="notfound">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to StravaTalk"</a></p>
        </section>
    }
}
