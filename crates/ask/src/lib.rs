//! The built-in question engine: plain English in, a typed [`Plan`] out, compiled to
//! one parameterised SQL query, and the rows rendered into an [`Answer`].
//!
//! ```text
//! parse(question, ctx) -> Parsed::{Plan, Clarify, Unsupported, NotUnderstood}
//! compile(plan, ctx)   -> Query { sql, binds }   (user text only in binds)
//! render(plan, rows, ctx) -> Answer              (the JSON answer contract)
//! ```
//!
//! Parsing is keyword and phrase matching over a normalised token list: no model, no
//! network, total on any input. Follow-ups ("and in November?", "what about rides?")
//! start from `ctx.previous`, the plan of the conversation's last answer.

pub mod answer;
pub mod compile;
pub mod lexicon;
pub mod parse;
pub mod plan;
pub mod render;
pub mod time;

pub use answer::{
    Answer, AnswerKind, CELL_CHARS, Chart, SQL_CHARS, TABLE_BYTES, TEXT_CHARS, Table, Trimmed,
};
pub use compile::{Bind, MAX_ROWS, Query, compile};
pub use parse::parse;
pub use plan::{
    Aggregation, ChartKind, Cmp, DayPart, Filters, GroupBy, Metric, Order, Period, Plan, Race,
    SportSel,
};
pub use render::{not_understood, render};

use chrono::NaiveDate;
use domain::Units;

/// Longest question accepted, in characters. Every way in (web form, JSON API, CLI)
/// refuses a longer one with a message, and [`parse`] refuses it too rather than
/// answer a question cut short. Plain questions about one's training fit well
/// inside it; the bound keeps parsing work small.
pub const MAX_QUESTION_CHARS: usize = 500;

/// Whether `question` has more than [`MAX_QUESTION_CHARS`] characters.
pub fn is_too_long(question: &str) -> bool {
    question.chars().nth(MAX_QUESTION_CHARS).is_some()
}

/// The sentence shown when a question is over [`MAX_QUESTION_CHARS`].
pub fn too_long_text() -> String {
    format!(
        "That question is longer than {MAX_QUESTION_CHARS} characters. \
         Please ask it in fewer words."
    )
}

/// What the engine needs to know besides the question.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Today in the athlete's time zone.
    pub today: NaiveDate,
    /// The athlete's unit preference.
    pub units: Units,
    /// The plan behind the previous answer in this conversation, for follow-ups.
    pub previous: Option<Plan>,
}

/// What a question turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Answerable with one query.
    Plan(Plan),
    /// Ambiguous: ask back, offering these options.
    Clarify {
        /// The question back.
        text: String,
        /// Full questions the athlete can pick from.
        options: Vec<String>,
    },
    /// Outside what StravaTalk knows or does.
    Unsupported {
        /// One sentence why, and what can be asked instead.
        text: String,
    },
    /// No idea what was meant.
    NotUnderstood,
}

impl Parsed {
    /// The answer for anything that needs no query; `None` for a plan.
    pub fn direct_answer(&self) -> Option<Answer> {
        match self {
            Parsed::Plan(_) => None,
            Parsed::Clarify { text, options } => Some(Answer::clarify(text, options)),
            Parsed::Unsupported { text } => Some(Answer::unsupported(text.clone())),
            Parsed::NotUnderstood => Some(not_understood()),
        }
    }
}
