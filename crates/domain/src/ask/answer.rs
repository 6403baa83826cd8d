//! The answer contract shared by `talk-app ask` and `POST /api/ask` (see
//! ARCHITECTURE.md, "The answer contract").

use super::plan::ChartKind;
use serde::{Deserialize, Serialize};

/// What sort of answer this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// A sentence (plus maybe a chart of nothing else).
    Text,
    /// A sentence and a table.
    Table,
    /// A question back, with the options in the text.
    Clarify,
    /// Something StravaTalk cannot answer, and why.
    Unsupported,
}

/// Rows and their column names; cells are JSON numbers or strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Column names; units are part of the name ("distance_km").
    pub columns: Vec<String>,
    /// One entry per row, in column order.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// How to draw the table: which column is x and which are y.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    /// Bar or line.
    pub kind: ChartKind,
    /// The x column.
    pub x: String,
    /// The y columns.
    pub y: Vec<String>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// What sort of answer.
    pub kind: AnswerKind,
    /// Markdown for a person; key figures in bold.
    pub text: String,
    /// Rows, when the answer has them.
    pub table: Option<Table>,
    /// A chart spec over `table`, when the answer is a series.
    pub chart: Option<Chart>,
    /// The SQL that ran, if any.
    pub sql: Option<String>,
}

impl Answer {
    /// A sentence only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: AnswerKind::Text,
            text: text.into(),
            table: None,
            chart: None,
            sql: None,
        }
    }

    /// A question back, listing the options as bullets.
    pub fn clarify(text: &str, options: &[String]) -> Self {
        let mut out = text.to_string();
        for o in options {
            out.push_str("\n- ");
            out.push_str(o);
        }
        Self {
            kind: AnswerKind::Clarify,
            ..Self::text(out)
        }
    }

    /// A refusal with its reason.
    pub fn unsupported(text: impl Into<String>) -> Self {
        Self {
            kind: AnswerKind::Unsupported,
            ..Self::text(text)
        }
    }
}
