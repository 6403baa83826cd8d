//! `/chat` and `/chat/{conversation}`: the conversation, the question form, example
//! questions, past conversations and the backfill progress; `POST /chat/ask` answers
//! through the engine and redirects back (post/redirect/get).

use super::sync::Progress;
use crate::app::{Layout, document, html};
use crate::ask_limits::{self, Admission, AskLimits};
use crate::components::AnswerView;
use crate::error::{AppError, see_other};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ask::{Answer, AnswerKind};
use chrono::Utc;
use db::chats::{ConversationRow, MessageRow};
use leptos::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

/// Questions offered when a conversation is new; each covers one kind of answer.
pub const EXAMPLES: &[&str] = &[
    "How many runs did I do last month?",
    "Show my runs last week",
    "Weekly running distance this year as a chart",
    "What was my longest run?",
];
/// Past conversations listed beside the chat.
const HISTORY: i64 = 30;
/// Seconds between refreshes while an import runs (pages without JavaScript).
const REFRESH_SECONDS: u32 = 15;

/// `?error=` (and `?wait=` seconds) after a failed or refused ask.
#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    error: Option<String>,
    wait: Option<String>,
    /// Which page of past conversations the list shows, from 1 (the most recent).
    page: Option<String>,
}

fn error_text(code: &str, wait: Option<u64>) -> String {
    match code {
        "empty" => "Type a question first.".into(),
        "long" => ask::too_long_text(),
        "rate" => match wait {
            Some(s) => format!(
                "You have asked a lot of questions in the last minute. Please wait {s} seconds, then ask again."
            ),
            None => "You have asked a lot of questions in the last minute. Please wait a minute, then ask again.".into(),
        },
        "unreadable" => "That question contains characters that cannot be typed (control characters). Please type it again.".into(),
        "busy" => "Your earlier questions are still being answered. Please wait until they are done, then ask again.".into(),
        _ => "Sorry, that question could not be answered just now. Please try again.".into(),
    }
}

/// One question and its answer, as shown.
struct Exchange {
    question: String,
    answer: Option<Answer>,
    /// The plan behind the answer, as stored.
    plan: Option<serde_json::Value>,
    /// Follow-ups offered under the answer (only the latest has any).
    suggestions: Vec<String>,
}

fn exchanges(messages: Vec<MessageRow>) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    for m in messages {
        if m.role == db::chats::Role::User {
            out.push(Exchange {
                question: m.content,
                answer: None,
                plan: None,
                suggestions: Vec::new(),
            });
        } else {
            // An answer stored by an older version may not read: fall back to its text.
            let answer = m
                .answer
                .and_then(|v| serde_json::from_value::<Answer>(v).ok())
                .unwrap_or_else(|| Answer::text(m.content));
            match out.last_mut() {
                Some(last) if last.answer.is_none() => {
                    last.answer = Some(answer);
                    last.plan = m.plan;
                }
                _ => out.push(Exchange {
                    question: String::new(),
                    answer: Some(answer),
                    plan: m.plan,
                    suggestions: Vec::new(),
                }),
            }
        }
    }
    out
}

/// `GET /chat`: a new conversation.
pub async fn index(
    session: Session,
    query: web::Query<ChatQuery>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    render(session, None, query.into_inner(), &pool).await
}

/// `GET /chat/{conversation}`.
pub async fn conversation(
    session: Session,
    path: web::Path<String>,
    query: web::Query<ChatQuery>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let id: Uuid = path.parse().map_err(|_| AppError::NotFound)?;
    render(session, Some(id), query.into_inner(), &pool).await
}

async fn render(
    session: Session,
    id: Option<Uuid>,
    query: ChatQuery,
    pool: &db::Pool,
) -> Result<HttpResponse, AppError> {
    let mut conn = pool.get().await?;
    let current = match id {
        Some(id) => Some(
            db::chats::find(&mut conn, id)
                .await?
                .filter(|c| c.athlete_id == session.athlete.get())
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let messages = match &current {
        Some(c) => db::chats::messages(&mut conn, c.id).await?,
        None => Vec::new(),
    };
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1);
    // One more than shown says whether an older page exists.
    let mut history = db::chats::list_page(
        &mut conn,
        session.athlete,
        HISTORY + 1,
        (page - 1) * HISTORY,
    )
    .await?;
    let older = history.len() > HISTORY as usize;
    history.truncate(HISTORY as usize);
    let athlete = db::athletes::find(&mut conn, session.athlete)
        .await?
        .ok_or(AppError::SessionEnded)?;
    let demo = athlete.is_demo;
    let zone = crate::ask::zone_of(&mut conn, &athlete).await?;
    let mut thread = exchanges(messages);
    // Follow-ups continue from the latest answer only: that is the plan the next
    // question in this conversation builds on.
    if let Some(last) = thread.last_mut() {
        let answered = last
            .answer
            .as_ref()
            .is_some_and(|a| matches!(a.kind, AnswerKind::Table | AnswerKind::Text));
        if let Some(plan) = last
            .plan
            .clone()
            .filter(|_| answered)
            .and_then(|v| serde_json::from_value::<ask::Plan>(v).ok())
        {
            let ctx = ask::Context {
                today: domain::dates::today(Utc::now(), zone),
                units: athlete.units(),
                previous: None,
            };
            last.suggestions = ask::suggestions(&plan, &ctx);
        }
    }
    let sync = Progress::load(&mut conn, session.athlete)
        .await?
        .on_chat_page(Utc::now());
    drop(conn);

    let wait = query
        .wait
        .as_deref()
        .and_then(|w| w.parse::<u64>().ok())
        .filter(|w| (1..=60).contains(w));
    let error = query.error.as_deref().map(|code| error_text(code, wait));
    let refresh = sync
        .as_ref()
        .filter(|p| p.importing)
        .map(|_| REFRESH_SECONDS);
    let title = current
        .as_ref()
        .map(|c| c.title.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "New conversation".into());
    let body = document(&title, refresh, move || {
        view! {
            <Layout signed_in=true>
                <ChatPage current=current thread=thread history=history sync=sync error=error demo=demo page=page older=older zone=zone/>
            </Layout>
        }
    });
    Ok(html(StatusCode::OK, body))
}

/// The chat: progress, thread, question form, then the conversation list.
#[component]
fn ChatPage(
    current: Option<ConversationRow>,
    thread: Vec<Exchange>,
    history: Vec<ConversationRow>,
    sync: Option<Progress>,
    error: Option<String>,
    demo: bool,
    page: i64,
    older: bool,
    /// The athlete's zone, for the dates of the conversation list.
    zone: chrono_tz::Tz,
) -> impl IntoView {
    let here = current
        .as_ref()
        .map_or_else(|| "/chat".to_owned(), |c| format!("/chat/{}", c.id));
    let newer_link = (page > 1).then(|| format!("{here}?page={}", page - 1));
    let older_link = older.then(|| format!("{here}?page={}", page + 1));
    let manage = current.as_ref().map(|c| {
        let rename = format!("/chat/{}/rename", c.id);
        let delete = format!("/chat/{}/delete", c.id);
        let title = c.title.clone();
        view! {
            <details class="manage">
                <summary>"Rename or delete this conversation"</summary>
                <form method="post" action=rename class="rename">
                    <label for="title">"Title"</label>
                    <div class="ask-row">
                        <input id="title" name="title" type="text" required maxlength="80" value=title/>
                        <button type="submit" class="button">"Rename"</button>
                    </div>
                </form>
                <form method="post" action=delete>
                    <button type="submit" class="button danger">"Delete this conversation"</button>
                </form>
            </details>
        }
    });
    let conversation = current.as_ref().map(|c| c.id);
    let heading = current
        .as_ref()
        .map(|c| c.title.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "New conversation".into());
    let last = thread.len().saturating_sub(1);
    let is_new = thread.is_empty();
    let items = thread
        .into_iter()
        .enumerate()
        .map(|(i, ex)| {
            let id = (i == last).then_some("latest");
            // Names the answer's table after its question, so each table's label differs.
            let about = if ex.question.is_empty() {
                format!("answer {}", i + 1)
            } else {
                format!("answer {} to “{}”", i + 1, ex.question)
            };
            // The latest question can be asked again, as it is or edited.
            let redo = (i == last && !ex.question.is_empty())
                .then(|| conversation.map(|c| view! { <AskAgain conversation=c question=ex.question.clone()/> }.into_any()))
                .flatten();
            view! {
                <li class="exchange" id=id>
                    {(!ex.question.is_empty()).then(|| view! { <p class="question"><span class="sr-only">"You asked: "</span>{ex.question}</p> })}
                    {ex.answer.map(|a| view! { <AnswerView answer=a conversation=conversation about=about suggestions=ex.suggestions/> })}
                    {redo}
                </li>
            }
            .into_any()
        })
        .collect_view();
    // The list is drawn twice: beside the chat on a wide screen, and on a phone (where
    // CSS hides the side one) folded behind a button above the chat, not below it.
    let list = move |history: Vec<ConversationRow>| {
        view! {
            <ConversationList history=history conversation=conversation zone=zone
                newer=newer_link.clone() older=older_link.clone()/>
        }
    };
    let menu = list(history.clone());
    view! {
        <div class="chat">
            <section class="thread" aria-labelledby="chat-title">
                <details class="history-menu">
                    <summary class="button">"Conversations"</summary>
                    {menu}
                </details>
                {demo.then(|| view! {
                    <p class="demo-banner"><strong>"You are in the demo."</strong>" The activities are made up. Sign out and connect Strava to ask about your own."</p>
                })}
                <h1 id="chat-title" class="chat-title">{heading}</h1>
                {manage}
                {sync.map(|progress| view! { <SyncProgress progress=progress/> })}
                <ol class="exchanges" aria-live="polite">{items}</ol>
                {is_new.then(|| view! { <Examples/> })}
                {error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <form method="post" action="/chat/ask" class="ask-form" id="ask">
                    {conversation.map(|c| view! { <input type="hidden" name="conversation" value=c.to_string()/> })}
                    <label for="question">"Your question"</label>
                    <div class="ask-row">
                        <input id="question" name="question" type="text" required maxlength=ask::MAX_QUESTION_CHARS.to_string()
                            autocomplete="off" autofocus
                            placeholder="e.g. How far did I run last month?"/>
                        <button type="submit" class="button primary">"Ask"</button>
                    </div>
                    <p class="thinking" hidden>"Thinking…"</p>
                </form>
            </section>
            <aside class="history" aria-labelledby="history-title">
                <h2 id="history-title">"Conversations"</h2>
                {list(history)}
            </aside>
        </div>
    }
}

/// Under the latest exchange: "Ask again" (the same question, for a fresh answer) and
/// "Edit question" (it, changed). Plain forms, so they work without JavaScript; both
/// are read in the context the question had (`ask::ask_again`).
#[component]
fn AskAgain(conversation: Uuid, question: String) -> impl IntoView {
    let c = conversation.to_string();
    view! {
        <div class="redo">
            <form method="post" action="/chat/ask" class="ask-form retry">
                <input type="hidden" name="conversation" value=c.clone()/>
                <input type="hidden" name="again" value="1"/>
                <input type="hidden" name="question" value=question.clone()/>
                <button type="submit" class="button small">"Ask again"</button>
            </form>
            <details class="edit">
                <summary class="button small">"Edit question"</summary>
                <form method="post" action="/chat/ask" class="ask-form edit-form">
                    <input type="hidden" name="conversation" value=c/>
                    <input type="hidden" name="again" value="1"/>
                    <label for="edit-question">"Your question, edited"</label>
                    <div class="ask-row">
                        <input id="edit-question" name="question" type="text" required
                            maxlength=ask::MAX_QUESTION_CHARS.to_string() autocomplete="off" value=question/>
                        <button type="submit" class="button primary">"Ask"</button>
                    </div>
                </form>
            </details>
        </div>
    }
    .into_any()
}

/// The athlete's conversations, newest first, with links to other pages of them.
#[component]
fn ConversationList(
    history: Vec<ConversationRow>,
    conversation: Option<Uuid>,
    zone: chrono_tz::Tz,
    newer: Option<String>,
    older: Option<String>,
) -> impl IntoView {
    view! {
        <a class="button" href="/chat">"New conversation"</a>
        <ul>
            {history.into_iter().map(|c| {
                let current = (Some(c.id) == conversation).then_some("page");
                let title = if c.title.is_empty() { "Untitled".to_string() } else { c.title };
                let when = domain::format::day_month(c.updated_at.with_timezone(&zone).date_naive());
                view! {
                    <li>
                        <a href=format!("/chat/{}", c.id) aria-current=current>{title}</a>
                        <span class="muted small">" · "{when}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
        <p class="paging">
            {newer.map(|href| view! { <a href=href>"Newer"</a> })}
            {older.map(|href| view! { <a href=href>"Older conversations"</a> })}
        </p>
    }
}

/// Example questions; each button asks its question.
#[component]
fn Examples() -> impl IntoView {
    view! {
        <form method="post" action="/chat/ask" class="examples ask-form">
            <p id="examples-title">"Try one of these:"</p>
            <div class="chips" role="group" aria-labelledby="examples-title">
                {EXAMPLES.iter().map(|q| view! {
                    <button type="submit" name="question" value=*q class="chip">{*q}</button>
                }).collect_view()}
            </div>
        </form>
    }
}

/// The import's progress while activities are still arriving (app.js keeps it
/// current), or the summary of an upload's import once it ended.
#[component]
fn SyncProgress(progress: Progress) -> impl IntoView {
    let label = progress.label;
    if !progress.importing {
        return view! { <p class="sync done" role="status">{label}</p> }.into_any();
    }
    view! {
        <div class="sync" role="status">
            <label for="sync-progress">{label.clone()}</label>
            {match progress.total {
                Some(t) => view! { <progress id="sync-progress" max=t.to_string() value=progress.synced.to_string()>{label}</progress> }.into_any(),
                None => view! { <progress id="sync-progress">{label}</progress> }.into_any(),
            }}
            <p class="muted">"Your activities are still being imported: answers cover what has arrived so far. This box follows the import by itself."</p>
        </div>
    }
    .into_any()
}

/// The question form's fields.
#[derive(Debug, Deserialize)]
pub struct AskForm {
    question: String,
    conversation: Option<String>,
    /// `1`: the latest question asked again (as it is or edited).
    again: Option<String>,
}

/// `POST /chat/ask` (the question box, the example and the clarify buttons): within
/// the athlete's question limits, answers, stores the exchange, and shows the
/// conversation; beyond them, back to the chat with a sentence saying why.
pub async fn ask(
    session: Session,
    form: web::Form<AskForm>,
    pool: web::Data<db::Pool>,
    limits: web::Data<AskLimits>,
    llm: web::Data<Option<crate::llm::LlmClient>>,
) -> Result<HttpResponse, AppError> {
    let AskForm {
        question,
        conversation,
        again,
    } = form.into_inner();
    let conversation = match conversation.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<Uuid>().map_err(|_| AppError::NotFound)?),
    };
    let back = |code: &str| match conversation {
        Some(c) => see_other(&format!("/chat/{c}?error={code}#ask")),
        None => see_other(&format!("/chat?error={code}#ask")),
    };
    if crate::question::has_control_characters(&question) {
        return Ok(back("unreadable"));
    }
    let now = Utc::now();
    let permit = match ask_limits::admit(&pool, &limits, session.athlete, now).await? {
        Admission::Granted(permit) => permit,
        Admission::TooMany { retry_after } => return Ok(back(&format!("rate&wait={retry_after}"))),
        Admission::Busy { .. } => return Ok(back("busy")),
    };
    use crate::ask::AskError as E;
    let llm = llm.get_ref().as_ref();
    let result = match conversation {
        Some(c) if again.as_deref() == Some("1") => {
            crate::ask::ask_again(&pool, llm, session.athlete, c, &question, now).await
        }
        _ => crate::ask::ask(&pool, llm, session.athlete, conversation, &question, now).await,
    };
    permit.release().await;
    match result {
        Ok((id, _)) => Ok(see_other(&format!("/chat/{id}#latest"))),
        Err(E::EmptyQuestion) => Ok(back("empty")),
        Err(E::QuestionTooLong) => Ok(back("long")),
        Err(E::ConversationNotFound(_)) => Err(AppError::NotFound),
        Err(E::UnknownAthlete(_)) => Err(AppError::SessionEnded),
        Err(e) => {
            tracing::error!(error = %crate::error::chain(&e), "answering a question failed");
            Ok(back("failed"))
        }
    }
}
