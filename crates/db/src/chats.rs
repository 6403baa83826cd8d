//! Conversations and their messages: each question and answer is stored with the
//! plan behind it, so a follow-up can start from the previous plan.

use crate::QueryResult;
use crate::schema::{conversations, messages};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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

/// Creates conversation `id` of `athlete` titled `title` unless one has that id (an
/// API token's conversation of the day): one statement that, once the conversation
/// exists, writes nothing. Whose it is, [`open`] says.
pub async fn create(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    athlete: AthleteId,
    title: &str,
) -> QueryResult<()> {
    use conversations::dsl as c;
    let title: String = title.trim().chars().take(TITLE_CHARS).collect();
    diesel::insert_into(c::conversations)
        .values((
            c::id.eq(id),
            c::athlete_id.eq(athlete.get()),
            c::title.eq(title),
        ))
        .on_conflict(c::id)
        .do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// A conversation as a new question finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// No conversation has this id yet: storing the first exchange creates it.
    New,
    /// The athlete's own, with the plan of its latest answer if that had one. Only the
    /// latest: a turn after a refusal or a question asked back must not silently pick
    /// up an older question.
    Existing { plan: Option<serde_json::Value> },
    /// Another athlete's.
    NotTheirs,
}

/// Looks up conversation `id` for a question of `athlete`, with the plan of its latest
/// answer: one statement, whose plan look-up is one probe of the latest-plan index
/// however long the conversation is.
pub async fn open(conn: &AsyncPgConnection, id: Uuid, athlete: AthleteId) -> QueryResult<Opened> {
    use diesel::sql_types::{BigInt, Jsonb, Nullable, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        owner: i64,
        #[diesel(sql_type = Nullable<Jsonb>)]
        plan: Option<serde_json::Value>,
    }
    let found: Option<Found> = diesel::sql_query(
        "SELECT c.athlete_id AS owner, \
                (SELECT m.plan FROM messages m \
                 WHERE m.conversation_id = c.id AND m.role = 'assistant' \
                 ORDER BY m.id DESC LIMIT 1) AS plan \
         FROM conversations c WHERE c.id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(&mut &*conn)
    .await
    .optional()?;
    Ok(match found {
        None => Opened::New,
        Some(f) if f.owner != athlete.get() => Opened::NotTheirs,
        Some(f) => Opened::Existing { plan: f.plan },
    })
}

/// Stores a question and its answer (with the plan, if any) in conversation `id`,
/// creating the conversation (titled after the question) if it is new: one statement,
/// so one round trip and one commit. False, storing nothing, when the id belongs to
/// another athlete.
pub async fn append_exchange(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    athlete: AthleteId,
    question: &str,
    answer: &serde_json::Value,
    plan: Option<&serde_json::Value>,
) -> QueryResult<bool> {
    use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Uuid as SqlUuid};
    let title: String = question.trim().chars().take(TITLE_CHARS).collect();
    let answer_text = answer.get("text").and_then(|t| t.as_str()).unwrap_or("");
    // Message ids follow the row order, so the question sorts before its answer.
    let stored = diesel::sql_query(
        "WITH c AS (\
           INSERT INTO conversations (id, athlete_id, title) VALUES ($1, $2, $3) \
           ON CONFLICT (id) DO UPDATE SET updated_at = now() \
           WHERE conversations.athlete_id = EXCLUDED.athlete_id \
           RETURNING id, athlete_id) \
         INSERT INTO messages (conversation_id, athlete_id, role, content, answer, plan) \
         SELECT c.id, c.athlete_id, m.role, m.content, m.answer, m.plan \
         FROM c CROSS JOIN (VALUES \
           (1, 'user', $4, NULL::jsonb, NULL::jsonb), \
           (2, 'assistant', $5, $6, $7)) AS m (ord, role, content, answer, plan) \
         ORDER BY m.ord",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(athlete.get())
    .bind::<Text, _>(title)
    .bind::<Text, _>(question)
    .bind::<Text, _>(answer_text)
    .bind::<Jsonb, _>(answer)
    .bind::<Nullable<Jsonb>, _>(plan)
    .execute(conn)
    .await?;
    Ok(stored == 2)
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
