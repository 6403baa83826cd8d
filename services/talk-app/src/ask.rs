//! Answering one question: load the athlete (units, time zone), the conversation and
//! its previous plan, parse, compile, run in the sandbox, render, and store the
//! exchange. Shared by the `ask` command and the HTTP API.
//!
//! A pooled connection is held only for database work. While the language model is
//! awaited (seconds, up to its timeout) none is: otherwise a few slow questions from
//! one athlete would take the whole pool and every other request would wait.

use ask::{self, Answer, Context, Parsed, Plan};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use db::{DbError, Pool, activities, athletes, chats, questions};
use domain::AthleteId;
use domain::dates;
use std::time::Duration;
use uuid::Uuid;

use crate::llm::{self, LlmClient};

/// Recent questions of a conversation the language model is shown, at most.
const LLM_RECENT_QUESTIONS: usize = 5;

/// How long a question's query may run before it is cancelled.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a question got no answer at all (as opposed to an answer saying no).
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// No athlete has this id.
    #[error("unknown athlete {0}")]
    UnknownAthlete(AthleteId),
    /// The conversation id belongs to another athlete.
    #[error("conversation {0} was not found for this athlete")]
    ConversationNotFound(Uuid),
    /// Nothing was asked.
    #[error("the question is empty")]
    EmptyQuestion,
    /// The question is longer than [`ask::MAX_QUESTION_CHARS`].
    #[error("the question is longer than {} characters", ask::MAX_QUESTION_CHARS)]
    QuestionTooLong,
    /// No database connection could be had.
    #[error("database unavailable")]
    Pool(#[from] db::pool::PoolError),
    /// A repository query failed.
    #[error("database error")]
    Database(#[from] DbError),
    /// The question's own query failed (other than by timing out).
    #[error("question query failed")]
    Query(#[source] questions::QuestionError),
    /// An answer or plan did not serialise (a bug).
    #[error("could not serialise the answer")]
    Json(#[from] serde_json::Error),
}

impl AskError {
    /// Whether the caller asked wrongly (a 4xx / exit code 2) rather than we failed.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            Self::UnknownAthlete(_)
                | Self::ConversationNotFound(_)
                | Self::EmptyQuestion
                | Self::QuestionTooLong
        )
    }
}

/// Runs the engine's compiled `query` for `athlete` in the athlete-scoped sandbox
/// (`db::questions::run`), its binds passed as the database's typed parameters.
pub async fn run_query(
    conn: &mut db::AsyncPgConnection,
    athlete: AthleteId,
    query: &ask::Query,
    timeout: Duration,
) -> Result<serde_json::Value, questions::QuestionError> {
    use ask::Bind;
    use questions::Param;
    let params = query
        .binds
        .iter()
        .cloned()
        .map(|bind| match bind {
            Bind::Int(v) => Param::Int(v),
            Bind::BigInt(v) => Param::BigInt(v),
            Bind::Float(v) => Param::Float(v),
            Bind::Bool(v) => Param::Bool(v),
            Bind::Text(v) => Param::Text(v),
            Bind::TextArray(v) => Param::TextArray(v),
            Bind::Timestamp(v) => Param::Timestamp(v),
        })
        .collect();
    questions::run(conn, athlete, &query.sql, params, timeout).await
}

/// Compiles `plan`, runs it for `athlete` and renders the answer with its SQL; a query
/// over the time limit is an answer saying so.
async fn answer_plan(
    conn: &mut db::AsyncPgConnection,
    athlete: AthleteId,
    plan: &ask::Plan,
    ctx: &Context,
) -> Result<Answer, AskError> {
    let query = ask::compile(plan, ctx);
    match run_query(conn, athlete, &query, QUERY_TIMEOUT).await {
        Ok(rows) => {
            let mut answer = ask::render(plan, &rows, ctx);
            answer.sql = Some(query.sql);
            Ok(answer)
        }
        Err(e) if e.is_timeout() => Ok(Answer::text(
            "That question took too long to answer. Try a shorter period or a single sport.",
        )),
        Err(e) => Err(AskError::Query(e)),
    }
}

/// The athlete's time zone: their own, else their latest activity's, else UTC.
pub async fn zone_of(
    conn: &mut db::pool::PooledConn,
    profile: &athletes::AthleteRow,
) -> Result<Tz, DbError> {
    // Only look at activities when the athlete's own zone is missing or unreadable.
    let own_zone = profile
        .timezone
        .as_deref()
        .filter(|tz| dates::parse_strava_timezone(tz).is_ok());
    let latest_zone = match own_zone {
        Some(_) => None,
        None => activities::latest_timezone(conn, AthleteId(profile.id)).await?,
    };
    Ok(dates::pick_zone(own_zone, latest_zone.as_deref()))
}

/// Answers `question` for `athlete` at instant `now`, in conversation `conversation`
/// (created with that id if new, a fresh one if `None`); returns the conversation id
/// and the answer. Runs in a span per question (athlete and conversation; never the
/// question's text).
#[tracing::instrument(name = "question", skip_all, fields(athlete = athlete.get(), conversation = ?conversation))]
pub async fn ask(
    pool: &Pool,
    llm: Option<&LlmClient>,
    athlete: AthleteId,
    conversation: Option<Uuid>,
    question: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, Answer), AskError> {
    answer_turn(
        pool,
        llm,
        athlete,
        conversation,
        question,
        now,
        Follows::Latest,
    )
    .await
}

/// Asks the conversation's latest question again, as it is or edited (the chat's
/// "Ask again" and "Edit question"): read in the context that question had, so a
/// follow-up such as "and the year before?" means the same as the first time rather
/// than building on its own answer. The new exchange is added after the others.
#[tracing::instrument(name = "question", skip_all, fields(athlete = athlete.get(), conversation = %conversation))]
pub async fn ask_again(
    pool: &Pool,
    llm: Option<&LlmClient>,
    athlete: AthleteId,
    conversation: Uuid,
    question: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, Answer), AskError> {
    answer_turn(
        pool,
        llm,
        athlete,
        Some(conversation),
        question,
        now,
        Follows::BeforeLatest,
    )
    .await
}

/// Which earlier answer a question follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follows {
    /// The conversation's latest answer: a new question.
    Latest,
    /// The answer before the latest: the latest question asked again.
    BeforeLatest,
}

async fn answer_turn(
    pool: &Pool,
    llm: Option<&LlmClient>,
    athlete: AthleteId,
    conversation: Option<Uuid>,
    question: &str,
    now: DateTime<Utc>,
    follows: Follows,
) -> Result<(Uuid, Answer), AskError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(AskError::EmptyQuestion);
    }
    if ask::is_too_long(question) {
        return Err(AskError::QuestionTooLong);
    }
    let mut conn = pool.get().await?;
    let profile = athletes::find(&mut conn, athlete)
        .await?
        .ok_or(AskError::UnknownAthlete(athlete))?;
    let tz = zone_of(&mut conn, &profile).await?;

    let id = conversation.unwrap_or_else(Uuid::new_v4);
    let previous = match chats::open(&conn, id, athlete).await? {
        chats::Opened::NotTheirs => return Err(AskError::ConversationNotFound(id)),
        chats::Opened::New => None,
        // A plan stored by an older version may not read any more: start afresh then.
        chats::Opened::Existing { plan } if follows == Follows::Latest => {
            plan.and_then(|v| serde_json::from_value::<Plan>(v).ok())
        }
        chats::Opened::Existing { .. } => {
            let answers: Vec<_> = chats::messages(&mut conn, id)
                .await?
                .into_iter()
                .filter(|m| m.role == chats::Role::Assistant)
                .collect();
            answers
                .len()
                .checked_sub(2)
                .and_then(|i| answers[i].plan.clone())
                .and_then(|v| serde_json::from_value::<Plan>(v).ok())
        }
    };
    let ctx = Context {
        today: dates::today(now, tz),
        units: profile.units(),
        previous,
    };

    let parsed = ask::parse(question, &ctx);
    // What the next turn builds on: the plan answered, or what was understood of a
    // question asked back.
    let mut context_plan = parsed.context_plan();
    let answer = match parsed {
        Parsed::Plan(plan) => answer_plan(&mut conn, athlete, &plan, &ctx).await?,
        // The model sees the whole question, never the part the engine understood.
        Parsed::NotUnderstood | Parsed::Partial { .. } if llm.is_some() => {
            let llm = llm.expect("checked above");
            let recent: Vec<String> = chats::messages(&mut conn, id)
                .await?
                .into_iter()
                .filter(|m| m.role == db::chats::Role::User)
                .map(|m| m.content)
                .rev()
                .take(LLM_RECENT_QUESTIONS)
                .collect();
            let prompt = llm::Prompt {
                question,
                today: ctx.today,
                units: ctx.units,
                recent_questions: &recent,
            };
            drop(conn);
            let consulted = llm::consult(llm, &prompt).await;
            conn = pool.get().await?;
            let mut answer = match consulted {
                llm::Consulted::Plan(plan) => {
                    let mut answer = answer_plan(&mut conn, athlete, &plan, &ctx).await?;
                    answer.read_as = format!("{} · read by the language model", answer.read_as);
                    // A follow-up builds on what the model read, as on any plan.
                    context_plan = Some(*plan);
                    answer
                }
                llm::Consulted::Query(query) => {
                    llm::run(&mut conn, athlete, &query, QUERY_TIMEOUT).await
                }
                llm::Consulted::Answer(answer) => answer,
            };
            if answer.read_as.is_empty() {
                answer.read_as = "whole question read by the language model".into();
            }
            answer
        }
        other => other
            .direct_answer(&ctx)
            .unwrap_or_else(ask::not_understood),
    };
    let plan = context_plan;
    // The same bounded answer is stored, returned and later shown.
    let mut answer = answer;
    answer.fit();
    let answer_json = serde_json::to_value(&answer)?;
    let plan_json = plan.as_ref().map(serde_json::to_value).transpose()?;
    let stored = chats::append_exchange(
        &mut conn,
        id,
        athlete,
        question,
        &answer_json,
        plan_json.as_ref(),
    )
    .await?;
    if !stored {
        return Err(AskError::ConversationNotFound(id));
    }
    Ok((id, answer))
}
