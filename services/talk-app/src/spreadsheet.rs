//! Text bound for a spreadsheet: the activities CSV export (and, in app.js, the same
//! rule for a copied answer's tab-separated rows).
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and some read a
//! leading tab or carriage return the same way) as a formula, so an activity named
//! `=HYPERLINK(…)` could act when its owner opens the export. Such a cell gets a
//! leading `'`, which spreadsheets show as text and do not evaluate. A cell that is
//! a plain number (`-5`, `+3.2`, `1e3`) stays as it is: it is no formula, and a
//! spreadsheet must still read it as a number.

/// `text` safe to open in a spreadsheet: a leading `'` when it would run as a formula.
pub fn neutral(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Whether `text` is a number and nothing else: an optional sign, digits with at most
/// one decimal point, an optional exponent.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, frac)) => {
            (digits(whole) || whole.is_empty())
                && (digits(frac) || frac.is_empty())
                && !(whole.is_empty() && frac.is_empty())
        }
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

/// One CSV field (RFC 4180): neutralised, then quoted when it holds a comma, a quote
/// or a line break.
pub fn csv_field(text: &str) -> String {
    let text = neutral(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// One CSV line from its fields, ending in CRLF as RFC 4180 writes it.
pub fn csv_line<I, S>(fields: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut line = fields
        .into_iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        for bad in [
            "=1+1",
            "=HYPERLINK(\"http://x\")",
            "+SUM(A1)",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
            "+",
            "-e5",
            "-.",
        ] {
            assert_eq!(neutral(bad), format!("'{bad}"), "{bad:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_stay() {
        for good in [
            "-5",
            "+3.2",
            "-0.5",
            "-.5",
            "-5.",
            "1e3",
            "-1.5E-3",
            "42",
            "Morning Run",
            "",
            "5 - 3",
            "a=b",
            "x@y.z",
        ] {
            assert_eq!(neutral(good), good, "{good:?}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_field("-5"), "-5");
        assert_eq!(csv_line(["a", "=b", "-7"]), "a,'=b,-7\r\n");
    }
}
