//! The optional language-model fallback, used only for questions the built-in engine
//! does not understand and only when `LLM_BASE_URL` and `LLM_MODEL` are configured.
//!
//! The model (any OpenAI-compatible `/v1/chat/completions`, e.g. a local Ollama) sees
//! the question, today's date, the athlete's units, a description of the `activities`
//! relation and the conversation's recent questions — never a row of data. It answers
//! with JSON holding one SQL query. That query must pass `db::guard`, then runs in the
//! athlete-scoped read-only sandbox with a row cap; the answer text is written by code
//! from the result, not by the model.

use chrono::NaiveDate;
use domain::Secret;
use domain::Units;
use domain::ask::{Answer, AnswerKind, Chart, ChartKind, Table};
use serde::Deserialize;
use service::{ConfigError, Env};
use std::time::Duration;

/// Rows a generated query may return; one more is fetched to know there were more.
pub const ROW_CAP: usize = 200;

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

/// What the model proposes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Proposal {
    /// `text` for one figure, `table` for rows.
    #[serde(default)]
    pub kind: Option<String>,
    /// One PostgreSQL SELECT over `activities`.
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
        let reply: serde_json::Value = response.json().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Malformed
            }
        })?;
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
    if proposal.sql.trim().is_empty() {
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
    format!(
        "You write one PostgreSQL SELECT that answers an athlete's question about their own activities.\n\
         Today is {today}. The athlete prefers {units} units. Weeks start on Monday.\n\
         The only relation is `activities`, already limited to this athlete, with columns:\n\
         id bigint, name text, sport_type text (Strava sport_type such as Run, TrailRun, Ride, VirtualRide, Swim, Walk, Hike),\n\
         start_date timestamptz (UTC), start_date_local timestamp (athlete's local time; use it for dates),\n\
         distance_m float8, moving_time_s int, elapsed_time_s int, total_elevation_gain_m float8,\n\
         average_speed_mps float8, max_speed_mps float8, average_heartrate float8, max_heartrate float8,\n\
         average_cadence float8, average_watts float8, kilojoules float8, calories float8, kudos_count int,\n\
         commute bool, trainer bool, private bool, workout_type int (1 = run race, 11 = ride race).\n\
         Use only that relation (CTEs allowed), only plain aggregate, math, text and date functions, no schema names.\n\
         Name result columns with their unit, e.g. distance_km. Return at most {ROW_CAP} rows.\n\
         Recent questions in this conversation:\n{recent}\n\
         Reply with JSON only: {{\"kind\": \"text\" or \"table\", \"sql\": \"...\", \"chart\": null or {{\"kind\": \"bar\" or \"line\", \"x\": column, \"y\": [columns]}}}}",
        today = p.today,
    )
}

/// Answers a question the built-in engine did not understand, through the model.
/// Never fails: a timeout, a malformed reply, a refused or failing query each become
/// an answer that says what went wrong, in words.
pub async fn answer(
    conn: &mut db::AsyncPgConnection,
    llm: &LlmClient,
    athlete: domain::AthleteId,
    prompt: &Prompt<'_>,
    timeout: Duration,
) -> Answer {
    let proposal = match llm.propose(prompt).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "language model fallback failed");
            return Answer::text(format!(
                "I did not understand that question, and {e}. Try asking it another way, e.g. \"how far did I run last month?\""
            ));
        }
    };
    let checked = match db::guard::check(&proposal.sql) {
        Ok(sql) => sql,
        Err(e) => {
            tracing::warn!(reason = %e, "generated SQL refused");
            return Answer::unsupported(format!(
                "I could not answer that safely: the generated query was refused because {e}. Nothing was run."
            ));
        }
    };
    let query = domain::ask::Query {
        sql: wrap_for_sandbox(&checked),
        binds: Vec::new(),
    };
    match db::questions::run(conn, athlete, &query, timeout).await {
        Ok(rows) => render(&rows, &proposal, &checked),
        Err(e) if e.is_timeout() => Answer::text(
            "That question took too long to answer. Try a shorter period or a single sport.",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "generated SQL failed");
            let mut a = Answer::text(
                "The generated query did not run, so there is no answer. Try rephrasing the question.",
            );
            a.sql = Some(checked);
            a
        }
    }
}

/// Wraps checked SQL so it returns one JSON text value with at most `ROW_CAP + 1` rows,
/// as `db::questions::run` expects.
pub fn wrap_for_sandbox(checked_sql: &str) -> String {
    format!(
        "SELECT coalesce(json_agg(capped), '[]'::json)::text AS result \
         FROM (SELECT * FROM ({checked_sql}) AS generated LIMIT {}) AS capped",
        ROW_CAP + 1
    )
}

/// Turns the rows of a generated query into an answer, writing the text by code.
pub fn render(rows: &serde_json::Value, proposal: &Proposal, sql: &str) -> Answer {
    let rows = rows.as_array().cloned().unwrap_or_default();
    let more = rows.len() > ROW_CAP;
    let rows: Vec<_> = rows.into_iter().take(ROW_CAP).collect();
    let columns: Vec<String> = rows
        .first()
        .and_then(|r| r.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut answer = if rows.is_empty() {
        Answer::text("No activities match that question.")
    } else if rows.len() == 1 && columns.len() == 1 {
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
                .map(|r| columns.iter().map(|c| r[c].clone()).collect())
                .collect(),
        };
        let mut text = format!("**{}** rows.", rows.len());
        if more {
            text = format!("The first **{ROW_CAP}** rows (there are more).");
        }
        Answer {
            kind: AnswerKind::Table,
            text,
            table: Some(table),
            chart: None,
            sql: None,
        }
    };
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
        .push_str("\n\n_Answered with a generated query; check the SQL below._");
    answer.sql = Some(sql.to_owned());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fenced_and_plain_json() {
        let plain = parse_proposal(r#"{"kind":"text","sql":"SELECT 1"}"#).unwrap();
        assert_eq!(plain.sql, "SELECT 1");
        let fenced = parse_proposal("```json\n{\"sql\":\"SELECT 2\",\"chart\":null}\n```").unwrap();
        assert_eq!(fenced.sql, "SELECT 2");
        assert!(parse_proposal("I think you ran a lot").is_err());
        assert!(parse_proposal(r#"{"sql":""}"#).is_err());
    }

    #[test]
    fn renders_a_single_value_as_text_and_rows_as_a_table() {
        let p = Proposal {
            kind: None,
            sql: "x".into(),
            chart: None,
        };
        let one = render(&serde_json::json!([{"total_km": 1234.5}]), &p, "SELECT …");
        assert!(one.text.contains("**1,234.50**"), "{}", one.text);
        assert!(one.table.is_none());
        let many = render(
            &serde_json::json!([{"month": "2024-01", "km": 10}, {"month": "2024-02", "km": 12}]),
            &p,
            "q",
        );
        let table = many.table.unwrap();
        assert_eq!(table.columns, ["month", "km"]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(many.sql.as_deref(), Some("q"));
    }
}
