//! Misspelt words: a word the engine does not know, one edit (two for long words)
//! from exactly one word it knows, is read as that word, and the read-as line says
//! so.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Shorter words are not corrected: "rain" is one letter from "train", "rest" from
/// "best", and reading either as the other would answer a different question.
const MIN_LETTERS: usize = 6;
/// From this length, two edits are allowed.
const LONG_WORD: usize = 8;

/// The words of the engine's own tables: every word written in quotes in the
/// lexicon and the time phrases is one some rule reads. Taken from their source,
/// so a word added to a table is known here without a second list to keep.
fn known() -> &'static HashSet<&'static str> {
    static KNOWN: OnceLock<HashSet<&'static str>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        [include_str!("lexicon.rs"), include_str!("time.rs")]
            .into_iter()
            // The tables, not their tests (which may spell words wrong on purpose).
            .flat_map(|source| {
                source
                    .lines()
                    .take_while(|line| !line.starts_with("#[cfg(test)]"))
            })
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| line.split('"').skip(1).step_by(2))
            .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            .collect()
    })
}

/// The known word `word` is a misspelling of, when there is exactly one.
pub fn correction(word: &str) -> Option<&'static str> {
    let letters = word.chars().count();
    if letters < MIN_LETTERS
        || !word.chars().all(|c| c.is_ascii_lowercase())
        || known().contains(word)
        || crate::lexicon::is_filler(word)
    {
        return None;
    }
    // Two edits only between long words: "insights" is two from "nights", which is
    // another word, not a slip.
    let max = |k: &str| {
        if letters.min(k.len()) >= LONG_WORD {
            2
        } else {
            1
        }
    };
    let close: Vec<(usize, &'static str)> = known()
        .iter()
        .filter(|k| k.len() >= MIN_LETTERS && k.len().abs_diff(word.len()) <= max(k))
        .map(|k| (edits(word.as_bytes(), k.as_bytes()), *k))
        .filter(|(n, k)| *n <= max(k))
        .collect();
    // The closest, when one word alone is that close ("elevaton" is one edit from
    // "elevation", two from "elevations").
    let nearest = close.iter().map(|(n, _)| *n).min()?;
    let mut at_nearest = close.iter().filter(|(n, _)| *n == nearest);
    let (_, first) = at_nearest.next()?;
    at_nearest.next().is_none().then_some(*first)
}

/// Edits between two words: letters inserted, deleted, replaced or two
/// neighbours swapped ("elevaton", "distnace").
fn edits(a: &[u8], b: &[u8]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelling_close_to_one_known_word_is_read_as_it() {
        assert_eq!(correction("elevaton"), Some("elevation"));
        assert_eq!(correction("distnace"), Some("distance"));
        assert_eq!(correction("swiming"), Some("swimming"));
        assert_eq!(correction("fastets"), Some("fastest"));
        // Known words, short words and words far from any stay as typed.
        assert_eq!(correction("distance"), None);
        assert_eq!(correction("rain"), None);
        assert_eq!(correction("barefoot"), None);
        assert_eq!(correction("headwind"), None);
        // Close to two known words: nothing is guessed.
        assert_eq!(edits(b"abcdef", b"abcdfe"), 1);
    }
}
