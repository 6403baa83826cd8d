//! The optional language-model fallback, used only for questions the built-in engine
//! does not understand and only when `LLM_BASE_URL` and `LLM_MODEL` are configured.
//!
//! The model (any OpenAI-compatible `/v1/chat/completions`, e.g. a local Ollama) sees
//! the question, today's date, the athlete's units, how the engine reads a few
//! questions into its typed plan, a description of the `activities` relation and the
//! conversation's recent questions — never a row of data. It answers with JSON holding
//! a plan of the engine's own shape, read and bounded by `ask::model_plan` and compiled
//! by the same compiler as every other question; only when it says no plan can express
//! the question does it write one SQL query instead. That query must pass `db::guard`, then runs in the
//! model sandbox (`db::questions::run_generated`: a role that reads only the athlete's
//! own activity columns, capped in rows, cell length and bytes); the answer text is
//! written by code from the result, not by the model. No database connection is held
//! while the model is awaited: [`consult`] needs none, [`run`] takes one briefly.

use ask::{Answer, AnswerKind, Chart, ChartKind, Table};
use chrono::NaiveDate;
use db::questions::{GENERATED_ROW_CAP, GeneratedRows, RowCaps};
use domain::Secret;
use domain::Units;
use serde::Deserialize;
use service::{ConfigError, Env};
use std::time::Duration;

/// Largest reply read from the model's endpoint, in bytes; a longer one is refused
/// unread rather than buffered.
pub const MAX_REPLY_BYTES: usize = 256 * 1024;

/// Longest SQL accepted from the model, in characters; what it writes is stored and
/// shown with the answer, and no honest query over one relation needs more.
pub const MAX_GENERATED_SQL_CHARS: usize = 8 * 1024;

/// Where the model lives (`LLM_BASE_URL`, `LLM_API_KEY`, `LLM_MODEL`, `LLM_TIMEOUT_SECS`).
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub model: String,
    pub timeout: Duration,
}

impl LlmSettings {
    /// `None` when no model is configured; an error when it is half-configured.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let base_url = env.url("LLM_BASE_URL")?;
        let model: Option<String> = env.optional("LLM_MODEL")?;
        let (base_url, model) = match (base_url, model) {
            (None, None) => return Ok(None),
            (Some(_), None) => return Err(ConfigError::Missing { var: "LLM_MODEL" }),
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    var: "LLM_BASE_URL",
                });
            }
            (Some(b), Some(m)) => (b, m),
        };
        let secs: u64 = env.optional("LLM_TIMEOUT_SECS")?.unwrap_or(20);
        Ok(Some(Self {
            base_url,
            api_key: env.optional_secret("LLM_API_KEY"),
            model,
            timeout: Duration::from_secs(secs.max(1)),
        }))
    }
}

/// What the model proposes: a plan of the engine's shape, or else a query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Proposal {
    /// The question read into the engine's plan (JSON of `ask::Plan`).
    #[serde(default)]
    pub plan: Option<serde_json::Value>,
    /// `text` for one figure, `table` for rows.
    #[serde(default)]
    pub kind: Option<String>,
    /// One PostgreSQL SELECT over `activities`, when no plan can express the question.
    #[serde(default)]
    pub sql: String,
    /// Optional chart hint.
    #[serde(default)]
    pub chart: Option<ChartHint>,
}

/// The model's idea of a chart.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChartHint {
    pub kind: Option<String>,
    pub x: String,
    pub y: Vec<String>,
}

/// Why the model gave nothing usable. Messages are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the language model did not answer in time")]
    Timeout,
    #[error("the language model could not be reached")]
    Unreachable,
    #[error("the language model answered with an error ({0})")]
    Status(u16),
    #[error("the language model's answer was not the JSON asked for")]
    Malformed,
    #[error("the language model's answer was too long")]
    TooLarge,
}

/// A client for one OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    settings: LlmSettings,
}

/// What the model is told about the question's setting.
#[derive(Debug, Clone)]
pub struct Prompt<'a> {
    pub question: &'a str,
    pub today: NaiveDate,
    pub units: Units,
    pub recent_questions: &'a [String],
}

impl LlmClient {
    /// A client with the configured timeout.
    pub fn new(settings: LlmSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .unwrap_or_default();
        Self { http, settings }
    }

    /// Asks the model for a query answering `prompt.question`.
    pub async fn propose(&self, prompt: &Prompt<'_>) -> Result<Proposal, LlmError> {
        let body = serde_json::json!({
            "model": self.settings.model,
            "temperature": 0,
            "response_format": { "type": "json_object" },
            "messages": [
                { "role": "system", "content": system_prompt(prompt) },
                { "role": "user", "content": prompt.question },
            ],
        });
        let mut request = self
            .http
            .post(format!("{}/v1/chat/completions", self.settings.base_url))
            .json(&body);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Unreachable
            }
        })?;
        if !response.status().is_success() {
            return Err(LlmError::Status(response.status().as_u16()));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Malformed
            }
        })? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(LlmError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let reply: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| LlmError::Malformed)?;
        let content = reply["choices"][0]["message"]["content"]
            .as_str()
            .ok_or(LlmError::Malformed)?;
        parse_proposal(content)
    }
}

/// Reads the model's message: JSON, possibly wrapped in a Markdown code fence.
pub fn parse_proposal(content: &str) -> Result<Proposal, LlmError> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(trimmed);
    let proposal: Proposal =
        serde_json::from_str(unfenced.trim()).map_err(|_| LlmError::Malformed)?;
    if proposal.plan.is_none() && proposal.sql.trim().is_empty() {
        return Err(LlmError::Malformed);
    }
    Ok(proposal)
}

fn system_prompt(p: &Prompt<'_>) -> String {
    let units = match p.units {
        Units::Metric => "metric (kilometres, metres, km/h, min/km)",
        Units::Imperial => "imperial (miles, feet, mph, min/mi)",
    };
    let recent = if p.recent_questions.is_empty() {
        "none".to_owned()
    } else {
        p.recent_questions
            .iter()
            .map(|q| format!("- {q}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let guide = ask::model_plan::guide(&ask::Context {
        today: p.today,
        units: p.units,
        previous: None,
    });
    format!(
        "You read an athlete's question about their own activities into a plan, the JSON shape this engine answers from.\n\
         Today is {today}. The athlete prefers {units} units. Weeks start on Monday.\n\
         How the engine reads some questions:\n{guide}\n\
         Dates are local; a range's end is the first day after it. Sport types are Strava's sport_type values.\n\
         If a plan of that shape can answer the question, reply with JSON only: {{\"plan\": {{...}}}}.\n\
         Only if no plan can express it, write one PostgreSQL SELECT instead, as follows.\n\
         The only relation is `activities`, already limited to this athlete, with columns:\n\
         {columns}\n\
         Use only that relation (CTEs allowed), only plain aggregate, math, text and date functions, no schema names.\n\
         Name result columns with their unit, e.g. distance_km. Return at most {GENERATED_ROW_CAP} rows.\n\
         Recent questions in this conversation:\n{recent}\n\
         Then reply with JSON only: {{\"kind\": \"text\" or \"table\", \"sql\": \"...\", \"chart\": null or {{\"kind\": \"bar\" or \"line\", \"x\": column, \"y\": [columns]}}}}",
        today = p.today,
        columns = prompt_columns(),
    )
}

/// The columns the model is told about, one a line (`- name type: meaning`): exactly
/// the sandbox view's, from the fields' home (a test holds the two together).
pub fn prompt_columns() -> String {
    domain::fields::model_columns()
        .map(|c| match c.meaning {
            "" => format!("- {} {}", c.name, c.ty.short()),
            meaning => format!("- {} {}: {meaning}", c.name, c.ty.short()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A query the model proposed that passed the guard, ready to run.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    proposal: Proposal,
    /// The guard's canonical text of the query.
    sql: String,
}

/// Where consulting the model got to without the database.
#[derive(Debug)]
pub enum Consulted {
    /// The question read into a plan, checked: compiled and run like any other.
    Plan(Box<ask::Plan>),
    /// A query to run with [`run`].
    Query(CheckedQuery),
    /// Nothing to run: the answer already says why (no reply, refused by the guard).
    Answer(Answer),
}

/// Asks the model for a query answering a question the built-in engine did not
/// understand and checks it with the guard. Never fails: a timeout, a malformed reply
/// or a refused query becomes an answer that says what went wrong, in words.
pub async fn consult(llm: &LlmClient, prompt: &Prompt<'_>) -> Consulted {
    let proposal = match llm.propose(prompt).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "language model fallback failed");
            return Consulted::Answer(Answer::text(format!(
                "I did not understand that question, and {e}. Try asking it another way, e.g. \"how far did I run last month?\""
            )));
        }
    };
    if let Some(plan) = &proposal.plan {
        return match ask::model_plan::from_model(plan) {
            Ok(plan) => Consulted::Plan(Box::new(plan)),
            Err(reason) => {
                tracing::warn!(%reason, "model plan refused");
                Consulted::Answer(Answer::unsupported(format!(
                    "I could not use the language model's reading of that question: {reason}. Nothing was run. Try asking it another way."
                )))
            }
        };
    }
    let checked = if proposal.sql.chars().count() > MAX_GENERATED_SQL_CHARS {
        Err(format!(
            "it is longer than {MAX_GENERATED_SQL_CHARS} characters"
        ))
    } else {
        db::guard::check(&proposal.sql).map_err(|e| e.to_string())
    };
    match checked {
        Ok(sql) => Consulted::Query(CheckedQuery { proposal, sql }),
        Err(reason) => {
            tracing::warn!(%reason, "generated SQL refused");
            Consulted::Answer(Answer::unsupported(format!(
                "I could not answer that safely: the generated query was refused because {reason}. Nothing was run."
            )))
        }
    }
}

/// Generated rows are cut to what an answer's table keeps.
const ROW_CAPS: RowCaps = RowCaps {
    cell_chars: ask::CELL_CHARS,
    table_bytes: ask::TABLE_BYTES,
};

/// Runs a checked query for `athlete` in the model sandbox and writes the answer.
/// Never fails: a timeout or a failing query becomes an answer saying so.
pub async fn run(
    conn: &mut db::AsyncPgConnection,
    athlete: domain::AthleteId,
    query: &CheckedQuery,
    timeout: Duration,
) -> Answer {
    match db::questions::run_generated(conn, athlete, &query.sql, ROW_CAPS, timeout).await {
        Ok(rows) => render(&rows, &query.proposal, &query.sql),
        Err(e) if e.is_timeout() => Answer::text(
            "That question took too long to answer. Try a shorter period or a single sport.",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "generated SQL failed");
            let mut a = Answer::text(
                "The generated query did not run, so there is no answer. Try rephrasing the question.",
            );
            a.sql = Some(query.sql.clone());
            a
        }
    }
}

/// Turns the rows of a generated query into an answer, writing the text by code and
/// saying what the caps left out.
pub fn render(result: &GeneratedRows, proposal: &Proposal, sql: &str) -> Answer {
    let rows = &result.rows;
    let columns: Vec<String> = rows
        .first()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut answer = if rows.is_empty() && result.fetched == 0 {
        Answer::text("No activities match that question.")
    } else if rows.is_empty() {
        Answer::text(format!(
            "The query found rows, but even the first is larger than {} KB, so none is shown. Ask for fewer or shorter columns.",
            ask::TABLE_BYTES / 1024
        ))
    } else if rows.len() == 1 && columns.len() == 1 && !result.more_than_cap() {
        let value = &rows[0][&columns[0]];
        let shown = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n
                .as_f64()
                .map_or_else(|| n.to_string(), |f| domain::format::number(f, 2)),
            other => other.to_string(),
        };
        Answer::text(format!("{}: **{shown}**", columns[0].replace('_', " ")))
    } else {
        let table = Table {
            columns: columns.clone(),
            rows: rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| r.get(c).cloned().unwrap_or_default())
                        .collect()
                })
                .collect(),
        };
        // When rows were left out for size, the note below gives the count.
        let text = if result.dropped_for_size() > 0 {
            String::new()
        } else if result.more_than_cap() {
            format!("The first **{GENERATED_ROW_CAP}** rows (there are more).")
        } else {
            format!("**{}** rows.", rows.len())
        };
        Answer {
            kind: AnswerKind::Table,
            text,
            table: Some(table),
            chart: None,
            sql: None,
            read_as: String::new(),
        }
    };
    let dropped = result.dropped_for_size();
    if let Some(note) = ask::answer::trimmed_note(result.cut_cells, rows.len(), dropped) {
        if !answer.text.is_empty() {
            answer.text.push(' ');
        }
        answer.text.push_str(&note);
    }
    if dropped > 0 && result.more_than_cap() {
        answer.text.push_str(&format!(
            " The query had more than {GENERATED_ROW_CAP} rows in all."
        ));
    }
    if let Some(hint) = &proposal.chart {
        let known = |c: &String| columns.contains(c);
        if answer.table.is_some()
            && known(&hint.x)
            && !hint.y.is_empty()
            && hint.y.iter().all(known)
        {
            let kind = if hint.kind.as_deref() == Some("line") {
                ChartKind::Line
            } else {
                ChartKind::Bar
            };
            answer.chart = Some(Chart {
                kind,
                x: hint.x.clone(),
                y: hint.y.clone(),
            });
        }
    }
    answer
        .text
        .push_str("\n\n_Answered with a query the language model wrote (no plan of the engine fitted the question); check the SQL below._");
    answer.sql = Some(sql.to_owned());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use ask::CELL_CHARS;

    #[test]
    fn reads_fenced_and_plain_json() {
        let plain = parse_proposal(r#"{"kind":"text","sql":"SELECT 1"}"#).unwrap();
        assert_eq!(plain.sql, "SELECT 1");
        let fenced = parse_proposal("```json\n{\"sql\":\"SELECT 2\",\"chart\":null}\n```").unwrap();
        assert_eq!(fenced.sql, "SELECT 2");
        assert!(parse_proposal("I think you ran a lot").is_err());
        assert!(parse_proposal(r#"{"sql":""}"#).is_err());
    }

    fn rows(value: serde_json::Value, cut_cells: usize) -> GeneratedRows {
        let rows: Vec<_> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect();
        GeneratedRows {
            fetched: rows.len(),
            rows,
            cut_cells,
        }
    }

    #[test]
    fn says_what_the_caps_left_out() {
        let p = Proposal {
            plan: None,
            kind: None,
            sql: "x".into(),
            chart: None,
        };
        let mut result = rows(
            serde_json::json!([{"n": 1, "blob": "0…"}, {"n": 2, "blob": "1…"}]),
            2,
        );
        result.fetched = GENERATED_ROW_CAP + 1;
        let answer = render(&result, &p, "q");
        assert!(
            answer.text.starts_with("Only the first **2** rows"),
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains(&format!(
                "2 long values were cut to {CELL_CHARS} characters"
            )),
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains("more than 200 rows"),
            "{}",
            answer.text
        );

        let mut capped = rows(serde_json::json!([{"n": 1, "m": 1}]), 0);
        capped.fetched = GENERATED_ROW_CAP + 1;
        capped.rows = (0..GENERATED_ROW_CAP)
            .map(|_| capped.rows[0].clone())
            .collect();
        let answer = render(&capped, &p, "q");
        assert!(
            answer
                .text
                .contains("The first **200** rows (there are more)"),
            "{}",
            answer.text
        );

        let mut too_wide = rows(serde_json::json!([]), 0);
        too_wide.fetched = 3;
        assert!(render(&too_wide, &p, "q").text.contains("none is shown"));
    }

    #[test]
    fn renders_a_single_value_as_text_and_rows_as_a_table() {
        let p = Proposal {
            plan: None,
            kind: None,
            sql: "x".into(),
            chart: None,
        };
        let one = render(
            &rows(serde_json::json!([{"total_km": 1234.5}]), 0),
            &p,
            "SELECT …",
        );
        assert!(one.text.contains("**1,234.50**"), "{}", one.text);
        assert!(one.table.is_none());
        let many = render(
            &rows(
                serde_json::json!([{"month": "2024-01", "km": 10}, {"month": "2024-02", "km": 12}]),
                0,
            ),
            &p,
            "q",
        );
        let table = many.table.unwrap();
        assert_eq!(table.columns, ["month", "km"]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(many.sql.as_deref(), Some("q"));
    }
}
