//! Pieces of pages: an answer with its text, table, chart and SQL; the time-zone
//! picker.

pub mod answer;
pub mod table;
pub mod zone_select;

pub use answer::AnswerView;
pub use table::AnswerTable;
pub use zone_select::ZoneSelect;
