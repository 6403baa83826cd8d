//! A deliberately small Markdown subset for answer texts: everything is HTML-escaped
//! first, then only `**bold**`, bullet lists (`- ` or `* `), paragraphs (blank lines)
//! and line breaks become markup. No links, images or raw HTML, so an answer can never
//! inject markup into the page.

use service::html::escape;

/// Escaped text with `**…**` pairs turned into `<strong>`; an unpaired `**` stays text.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let parts: Vec<&str> = escaped.split("**").collect();
    // An even number of parts means an odd number of markers: the last is unpaired.
    let paired = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            if i < paired {
                out.push_str(if i % 2 == 1 { "<strong>" } else { "</strong>" });
            } else {
                out.push_str("**");
            }
        }
        out.push_str(part);
    }
    out
}

/// Renders the subset to safe HTML.
pub fn to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<String> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    let flush_paragraph = |out: &mut String, p: &mut Vec<String>| {
        if !p.is_empty() {
            out.push_str("<p>");
            out.push_str(&p.join("<br>"));
            out.push_str("</p>");
            p.clear();
        }
    };
    let flush_list = |out: &mut String, l: &mut Vec<String>| {
        if !l.is_empty() {
            out.push_str("<ul>");
            for item in l.drain(..) {
                out.push_str("<li>");
                out.push_str(&item);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
    };
    for line in markdown.lines() {
        let trimmed = line.trim();
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            flush_paragraph(&mut out, &mut paragraph);
            list.push(inline(item.trim()));
        } else if trimmed.is_empty() {
            flush_paragraph(&mut out, &mut paragraph);
            flush_list(&mut out, &mut list);
        } else {
            flush_list(&mut out, &mut list);
            paragraph.push(inline(trimmed));
        }
    }
    flush_paragraph(&mut out, &mut paragraph);
    flush_list(&mut out, &mut list);
    out
}

/// The bullet items of a text (a clarify answer's options).
pub fn bullet_items(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter_map(|l| {
            let t = l.trim();
            t.strip_prefix("- ").or_else(|| t.strip_prefix("* "))
        })
        .map(|s| s.replace("**", "").trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The text without its bullet lines (a clarify answer's question).
pub fn without_bullets(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("- ") || t.starts_with("* "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_before_formatting() {
        assert_eq!(
            to_html("<script>alert('x')</script> **5.0 km**"),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <strong>5.0 km</strong></p>"
        );
        assert_eq!(to_html("a ** b"), "<p>a ** b</p>");
        assert_eq!(
            to_html("**a** and **b** **c"),
            "<p><strong>a</strong> and <strong>b</strong> **c</p>"
        );
    }

    #[test]
    fn lists_paragraphs_and_breaks() {
        assert_eq!(
            to_html("Which?\n- by distance\n- by **time**\n\nOr\nelse"),
            "<p>Which?</p><ul><li>by distance</li><li>by <strong>time</strong></li></ul><p>Or<br>else</p>"
        );
        assert_eq!(
            bullet_items("Which?\n- a b\n* c"),
            vec!["a b".to_string(), "c".to_string()]
        );
        assert_eq!(without_bullets("Which?\n- a\n- b"), "Which?");
    }
}
