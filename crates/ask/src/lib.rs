//! The built-in question engine: plain English in, a typed [`Plan`] out, compiled to
//! one parameterised SQL query, and the rows rendered into an [`Answer`].
//!
//! ```text
//! parse(question, ctx) -> Parsed::{Plan, Partial, Clarify, Unsupported, NotUnderstood}
//! compile(plan, ctx)   -> Query { sql, binds }   (user text only in binds)
//! render(plan, rows, ctx) -> Answer              (the JSON answer contract)
//! ```
//!
//! Parsing is keyword and phrase matching over a normalised token list: no model, no
//! network, total on any input. Every word is either used by the plan or known filler;
//! a question with words left over is never answered as if it had been understood
//! ([`Parsed::Partial`]). Follow-ups ("and in November?", "what about rides?") start
//! from `ctx.previous`, the plan of the conversation's last answer.

pub mod answer;
pub mod compile;
pub mod lexicon;
pub mod model_plan;
pub mod parse;
pub mod plan;
pub mod read_as;
pub mod render;
mod spelling;
pub mod suggest;
#[cfg(test)]
mod test_support;
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
pub use suggest::suggestions;

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
    /// Understood only in part: answering would answer a different question, so the
    /// answer says which part cannot be used instead.
    Partial {
        /// What was understood, if it makes a plan.
        plan: Option<Plan>,
        /// The phrases no rule could use, as typed, in question order.
        unused: Vec<String>,
        /// The question without them, when it reads on its own as `plan`: offered as
        /// the one-tap way to ask what was understood.
        retry: Option<String>,
    },
    /// Ambiguous: ask back, offering these options.
    Clarify {
        /// The question back.
        text: String,
        /// Full questions the athlete can pick from.
        options: Vec<String>,
        /// The question as far as it was understood, so that the reply ("by time",
        /// "runs") completes it.
        plan: Option<Plan>,
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
    pub fn direct_answer(&self, ctx: &Context) -> Option<Answer> {
        match self {
            Parsed::Plan(_) => None,
            Parsed::Partial {
                plan,
                unused,
                retry,
            } => Some(render::partial(
                plan.as_ref(),
                unused,
                retry.as_deref(),
                ctx,
            )),
            Parsed::Clarify {
                text,
                options,
                plan,
            } => {
                let mut answer = Answer::clarify(text, options);
                answer.read_as = match plan {
                    Some(p) => format!("{} · asked back", read_as::read_as(p, ctx)),
                    None => "asked back".into(),
                };
                Some(answer)
            }
            Parsed::Unsupported { text } => Some(Answer::unsupported(text.clone())),
            Parsed::NotUnderstood => Some(not_understood()),
        }
    }

    /// The plan a follow-up to this answer starts from: the plan answered, or the part
    /// understood of a question that was asked back. A question declined for words it
    /// could not use leaves none: nothing was answered, so a next turn such as "and
    /// yesterday?" must not quietly complete the declined one.
    pub fn context_plan(&self) -> Option<Plan> {
        match self {
            Parsed::Plan(p) => Some(p.clone()),
            Parsed::Partial { .. } => None,
            Parsed::Clarify { plan, .. } => plan.clone().map(|mut p| {
                p.asked_back = true;
                p
            }),
            Parsed::Unsupported { .. } | Parsed::NotUnderstood => None,
        }
    }
}
