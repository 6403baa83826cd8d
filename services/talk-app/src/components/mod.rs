//! Pieces of pages: an answer with its text, table, chart and SQL.

pub mod answer;
pub mod table;

pub use answer::AnswerView;
pub use table::AnswerTable;
