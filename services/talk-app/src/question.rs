//! What a question's text must be before it is counted or answered: text PostgreSQL
//! can store and a person could have typed. A NUL character cannot be stored in a
//! `text` column (it failed as a 500 when the exchange was saved); other control
//! characters (tabs and line breaks aside) are never typed, only injected.

/// Whether `question` holds a control character other than tab, line feed or
/// carriage return.
pub fn has_control_characters(question: &str) -> bool {
    question
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_typed_text_passes() {
        assert!(!has_control_characters("how many runs\tthis year?\r\n"));
        assert!(!has_control_characters("Läufe 🏃 \u{202e}"));
        assert!(has_control_characters("runs\u{0}"));
        assert!(has_control_characters("runs\u{1b}[31m"));
        assert!(has_control_characters("runs\u{85}"));
    }
}
