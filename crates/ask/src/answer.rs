//! The answer contract shared by `talk-app ask` and `POST /api/ask` (see
//! ARCHITECTURE.md, "The answer contract").

use crate::plan::ChartKind;
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
    /// One short line saying how the question was read ("Runs · 1–30 Nov 2026 ·
    /// count"), so a misreading shows at a glance. Added after the first version of
    /// the contract: answers stored before it read as empty.
    #[serde(default)]
    pub read_as: String,
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
            read_as: String::new(),
        }
    }

    /// A sentence and a table, no chart.
    pub fn table(text: impl Into<String>, table: Table) -> Self {
        Self {
            kind: AnswerKind::Table,
            table: Some(table),
            ..Self::text(text)
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
            read_as: "asked back".into(),
            ..Self::text(out)
        }
    }

    /// A refusal with its reason.
    pub fn unsupported(text: impl Into<String>) -> Self {
        Self {
            kind: AnswerKind::Unsupported,
            read_as: "not answered".into(),
            ..Self::text(text)
        }
    }
}

/// Longest value a table cell keeps, in characters; a longer one keeps its start and
/// ends in "…". Applied by the database to generated queries and again to every answer.
pub const CELL_CHARS: usize = 200;
/// Most bytes an answer's rows may take as JSON; rows past the budget are left out.
pub const TABLE_BYTES: usize = 256 * 1024;
/// Longest answer text kept, in characters (answers are written by code and short;
/// this only bounds what a stored answer from elsewhere could hold).
pub const TEXT_CHARS: usize = 8 * 1024;
/// Longest SQL shown with an answer, in characters.
pub const SQL_CHARS: usize = 16 * 1024;

/// What [`Answer::fit`] left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Cells cut to [`CELL_CHARS`].
    pub cut_cells: usize,
    /// Rows dropped to stay within [`TABLE_BYTES`].
    pub dropped_rows: usize,
}

/// `text` cut to `max` characters, the last being "…", when it is longer.
pub fn shorten(text: &str, max: usize) -> Option<String> {
    // Only the first `max + 1` characters are looked at, however long the text.
    if text.len() <= max || text.chars().nth(max).is_none() {
        return None;
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Some(out)
}

/// The sentence saying what a size limit left out, or `None` when nothing was.
pub fn trimmed_note(cut_cells: usize, kept_rows: usize, dropped_rows: usize) -> Option<String> {
    let mut parts = Vec::new();
    if dropped_rows > 0 {
        parts.push(format!(
            "Only the first **{kept_rows}** rows are shown: {dropped_rows} more would make the answer larger than {} KB.",
            TABLE_BYTES / 1024
        ));
    }
    match cut_cells {
        0 => {}
        1 => parts.push(format!(
            "One long value was cut to {CELL_CHARS} characters."
        )),
        n => parts.push(format!(
            "{n} long values were cut to {CELL_CHARS} characters."
        )),
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

impl Answer {
    /// Keeps the answer within the size limits, before it is stored, sent or shown:
    /// long cells are cut, rows past [`TABLE_BYTES`] dropped, and the text says so.
    pub fn fit(&mut self) -> Trimmed {
        let mut trimmed = Trimmed::default();
        if let Some(table) = &mut self.table {
            for cell in table.rows.iter_mut().flatten() {
                let long = match cell {
                    serde_json::Value::String(s) => shorten(s, CELL_CHARS),
                    serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                        shorten(&cell.to_string(), CELL_CHARS)
                    }
                    _ => None,
                };
                if let Some(short) = long {
                    *cell = serde_json::Value::String(short);
                    trimmed.cut_cells += 1;
                }
            }
            let mut bytes = 0;
            let keep = table
                .rows
                .iter()
                .take_while(|row| {
                    bytes += serde_json::to_string(row).map_or(0, |s| s.len() + 1);
                    bytes <= TABLE_BYTES
                })
                .count();
            trimmed.dropped_rows = table.rows.len() - keep;
            table.rows.truncate(keep);
        }
        if let Some(short) = shorten(&self.text, TEXT_CHARS) {
            self.text = short;
        }
        if let Some(short) = shorten(&self.read_as, CELL_CHARS) {
            self.read_as = short;
        }
        if let Some(short) = self.sql.as_deref().and_then(|q| shorten(q, SQL_CHARS)) {
            self.sql = Some(short);
        }
        let kept = self.table.as_ref().map_or(0, |t| t.rows.len());
        if let Some(note) = trimmed_note(trimmed.cut_cells, kept, trimmed.dropped_rows) {
            self.text.push_str("\n\n");
            self.text.push_str(&note);
        }
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table_answer(rows: Vec<Vec<serde_json::Value>>) -> Answer {
        Answer {
            kind: AnswerKind::Table,
            text: "Rows.".into(),
            table: Some(Table {
                columns: vec!["n".into(), "blob".into()],
                rows,
            }),
            chart: None,
            sql: Some("SELECT …".into()),
            read_as: "Runs · all time · list".into(),
        }
    }

    #[test]
    fn fit_cuts_long_cells_and_drops_rows_past_the_budget_and_says_so() {
        let blob = "é".repeat(60_000);
        let rows = (0..800).map(|i| vec![json!(i), json!(blob)]).collect();
        let mut answer = table_answer(rows);
        let trimmed = answer.fit();
        let table = answer.table.as_ref().unwrap();
        assert!(serde_json::to_string(&table.rows).unwrap().len() <= TABLE_BYTES);
        assert_eq!(trimmed.dropped_rows, 800 - table.rows.len());
        assert!(trimmed.dropped_rows > 0);
        assert_eq!(trimmed.cut_cells, 800, "every blob is cut, kept or not");
        let cell = table.rows[0][1].as_str().unwrap();
        assert_eq!(cell.chars().count(), CELL_CHARS);
        assert!(cell.ends_with('…'));
        assert!(
            answer.text.contains("cut to 200 characters"),
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains("larger than 256 KB"),
            "{}",
            answer.text
        );
        // Fitting twice changes nothing more.
        let again = answer.clone().fit();
        assert_eq!(again, Trimmed::default());
    }

    #[test]
    fn fit_leaves_small_answers_alone() {
        let mut answer = table_answer(vec![vec![json!(1), json!("Morning Run")]]);
        let before = answer.clone();
        assert_eq!(answer.fit(), Trimmed::default());
        assert_eq!(answer, before);
    }
}
