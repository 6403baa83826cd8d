//! Conversations and their messages: each question and answer is stored with the
//! plan behind it, so a follow-up can start from the previous plan.

use crate::QueryResult;
use crate::schema::{conversations, messages};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use uuid::Uuid;

/// Longest conversation title kept, in characters.
pub const TITLE_CHARS: usize = 80;

/// A conversation row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = conversations, check_for_backend(diesel::pg::Pg))]
pub struct ConversationRow {
    pub id: Uuid,
    pub athlete_id: i64,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::text_enum::text_enum! {
    /// Who wrote a message (the column's CHECK lists the same two).
    pub enum Role {
        User = "user",
        Assistant = "assistant",
    }
}

/// A message row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: Uuid,
    pub athlete_id: i64,
    pub role: Role,
    pub content: String,
    pub answer: Option<serde_json::Value>,
    pub plan: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
struct NewMessage<'a> {
    conversation_id: Uuid,
    athlete_id: i64,
    role: Role,
    content: &'a str,
    answer: Option<&'a serde_json::Value>,
    plan: Option<&'a serde_json::Value>,
}

/// One conversation, whoever it belongs to.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ConversationRow>> {
    conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The conversation `id` of `athlete`, created (titled after `first_question`) if no
/// conversation has that id. `None` when the id belongs to another athlete.
pub async fn find_or_create(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    athlete: AthleteId,
    first_question: &str,
) -> QueryResult<Option<ConversationRow>> {
    use conversations::dsl as c;
    let title: String = first_question.trim().chars().take(TITLE_CHARS).collect();
    diesel::insert_into(c::conversations)
        .values((
            c::id.eq(id),
            c::athlete_id.eq(athlete.get()),
            c::title.eq(title),
        ))
        .on_conflict(c::id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(find(conn, id)
        .await?
        .filter(|row| row.athlete_id == athlete.get()))
}

/// Stores a question and its answer (with the plan, if any) in one transaction.
pub async fn append_exchange(
    conn: &mut AsyncPgConnection,
    conversation: &ConversationRow,
    question: &str,
    answer: &serde_json::Value,
    plan: Option<&serde_json::Value>,
) -> QueryResult<()> {
    let (id, athlete_id) = (conversation.id, conversation.athlete_id);
    conn.transaction(async |conn| {
        let rows = [
            NewMessage {
                conversation_id: id,
                athlete_id,
                role: Role::User,
                content: question,
                answer: None,
                plan: None,
            },
            NewMessage {
                conversation_id: id,
                athlete_id,
                role: Role::Assistant,
                content: answer.get("text").and_then(|t| t.as_str()).unwrap_or(""),
                answer: Some(answer),
                plan,
            },
        ];
        diesel::insert_into(messages::table)
            .values(&rows[..])
            .execute(conn)
            .await?;
        use conversations::dsl as c;
        diesel::update(c::conversations.find(id))
            .set(c::updated_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// The plan of the conversation's latest answer, if it had one. Only the latest: a
/// turn after a refusal or a question asked back must not silently pick up an older
/// question.
pub async fn latest_plan(
    conn: &mut AsyncPgConnection,
    conversation: Uuid,
) -> QueryResult<Option<serde_json::Value>> {
    use messages::dsl as m;
    let plan: Option<Option<serde_json::Value>> = m::messages
        .filter(
            m::conversation_id
                .eq(conversation)
                .and(m::role.eq("assistant")),
        )
        .order(m::id.desc())
        .select(m::plan)
        .first(conn)
        .await
        .optional()?;
    Ok(plan.flatten())
}

/// An athlete's conversations, most recently active first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    limit: i64,
) -> QueryResult<Vec<ConversationRow>> {
    list_page(conn, athlete, limit, 0).await
}

/// The athlete's conversations after skipping the `offset` most recent ones.
pub async fn list_page(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<ConversationRow>> {
    use conversations::dsl as c;
    c::conversations
        .filter(c::athlete_id.eq(athlete.get()))
        .order((c::updated_at.desc(), c::id))
        .limit(limit)
        .offset(offset)
        .select(ConversationRow::as_select())
        .load(conn)
        .await
}

/// Gives the athlete's conversation `id` a new title; false when the athlete has no
/// such conversation.
pub async fn rename(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    athlete: AthleteId,
    title: &str,
) -> QueryResult<bool> {
    use conversations::dsl as c;
    let title: String = title.trim().chars().take(TITLE_CHARS).collect();
    diesel::update(c::conversations.filter(c::id.eq(id).and(c::athlete_id.eq(athlete.get()))))
        .set(c::title.eq(title))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Deletes the athlete's conversation `id` with its messages; false when the athlete
/// has no such conversation.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    athlete: AthleteId,
) -> QueryResult<bool> {
    use conversations::dsl as c;
    diesel::delete(c::conversations.filter(c::id.eq(id).and(c::athlete_id.eq(athlete.get()))))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A conversation's messages, oldest first.
pub async fn messages(
    conn: &mut AsyncPgConnection,
    conversation: Uuid,
) -> QueryResult<Vec<MessageRow>> {
    use messages::dsl as m;
    m::messages
        .filter(m::conversation_id.eq(conversation))
        .order(m::id)
        .select(MessageRow::as_select())
        .load(conn)
        .await
}
