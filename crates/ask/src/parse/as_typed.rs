//! The words a question could not use, found again in the question as it was typed:
//! a decline quotes them the way the person wrote them ("Pegasus", not "pegasus"), and
//! the question without them is offered as the reading to ask instead.

use crate::lexicon::split_words;
use std::ops::Range;

/// Where `phrase` (normalised words, as [`crate::lexicon::Tokens`] keeps them) stands
/// in `question`: the smallest run of whitespace-separated chunks whose words are
/// exactly the phrase's, trimmed of the punctuation around it.
fn span(question: &str, phrase: &str) -> Option<Range<usize>> {
    let want: Vec<&str> = phrase.split(' ').collect();
    let chunks: Vec<Range<usize>> = question
        .split_whitespace()
        .map(|c| {
            let start = c.as_ptr() as usize - question.as_ptr() as usize;
            start..start + c.len()
        })
        .collect();
    for (i, first) in chunks.iter().enumerate() {
        for last in &chunks[i..] {
            let words = split_words(&question[first.start..last.end]);
            if words.len() > want.len() {
                break;
            }
            if words == want {
                let text = &question[first.start..last.end];
                let lead = text.len() - text.trim_start_matches(is_edge).len();
                let tail = text.len() - text.trim_end_matches(is_edge).len();
                return Some(first.start + lead..last.end - tail);
            }
        }
    }
    None
}

fn is_edge(c: char) -> bool {
    !c.is_alphanumeric()
}

/// Each phrase as the person typed it, or as read when it cannot be found again.
pub(super) fn as_typed(question: &str, phrases: &[String]) -> Vec<String> {
    phrases
        .iter()
        .map(|p| span(question, p).map_or_else(|| p.clone(), |r| question[r].to_string()))
        .collect()
}

/// The question with every phrase taken out, its spacing tidied; `None` when a
/// phrase cannot be found again or nothing would be left.
pub(super) fn without(question: &str, phrases: &[String]) -> Option<String> {
    let mut rest = question.to_string();
    for p in phrases {
        let r = span(&rest, p)?;
        rest.replace_range(r, " ");
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let mut out = words.join(" ");
    // "runs in may, ?" after taking "vibes": no stray marks left where words were.
    for (from, to) in [
        (" ,", ","),
        (" ?", "?"),
        (" .", "."),
        (",?", "?"),
        (",.", "."),
        (",,", ","),
    ] {
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    let out = out
        .trim_matches(|c: char| c == ',' || c.is_whitespace())
        .to_string();
    (!split_words(&out).is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_found_as_typed() {
        let q = "How many runs on Tuesdays, Pegasus-style?";
        assert_eq!(as_typed(q, &["pegasus style".into()]), ["Pegasus-style"]);
        assert_eq!(as_typed(q, &["tuesdays".into()]), ["Tuesdays"]);
        // Not in the question: the normalised words stand.
        assert_eq!(as_typed(q, &["vo2 max".into()]), ["vo2 max"]);
    }

    #[test]
    fn the_question_without_them_keeps_the_rest() {
        assert_eq!(
            without("What was my MOOD on my runs in May?", &["mood".into()]).as_deref(),
            Some("What was my on my runs in May?")
        );
        assert_eq!(
            without("runs in may, vibes?", &["vibes".into()]).as_deref(),
            Some("runs in may?")
        );
        assert_eq!(without("vibes", &["vibes".into()]), None);
        assert_eq!(without("runs", &["vibes".into()]), None);
    }
}
