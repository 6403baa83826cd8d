//! Answer texts are Markdown, rendered by `pulldown-cmark`. Answers carry the asker's
//! own words (and, with an LLM, its words), so nothing in them may become markup of its
//! own: raw HTML is shown as text, links and images as their text only. Line breaks
//! inside a paragraph are kept, as answers are written line by line.
//!
//! Every `<` is handed to the parser as `&lt;`, so it never starts an HTML block
//! (which would also stop the Markdown around it from being read); raw HTML events are
//! turned into text as well, in case a construct reaches the parser anyway.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// Renders answer Markdown to HTML that carries no markup of the text's own.
pub fn to_html(markdown: &str) -> String {
    let source = markdown.replace('<', "&lt;");
    let events = Parser::new(&source).filter_map(|event| match event {
        // Escaped by the HTML writer like any other text.
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::SoftBreak => Some(Event::HardBreak),
        // A link or image keeps its text (an image its alt text) and loses its target,
        // so no `javascript:` URL or remote image gets onto the page.
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
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
    fn html_in_the_text_is_shown_as_text() {
        assert_eq!(
            to_html("<script>alert('x')</script> **5.0 km**"),
            "<p>&lt;script&gt;alert('x')&lt;/script&gt; <strong>5.0 km</strong></p>\n"
        );
        // A block of raw HTML on its own lines, and an attribute trying to run script.
        let html = to_html("<div onmouseover=\"alert(1)\">\n<script>alert(2)</script>\n</div>");
        assert!(
            !html.contains("<script") && !html.contains("<div"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;div onmouseover="), "{html}");
        assert_eq!(to_html("a ** b"), "<p>a ** b</p>\n");
        assert_eq!(
            to_html("**a** and **b** **c"),
            "<p><strong>a</strong> and <strong>b</strong> **c</p>\n"
        );
    }

    #[test]
    fn links_and_images_keep_only_their_text() {
        assert_eq!(
            to_html(
                "[click](javascript:alert(1)) ![a map](https://example.com/x.png) <https://example.com>"
            ),
            "<p>click a map &lt;https://example.com&gt;</p>\n"
        );
    }

    #[test]
    fn lists_paragraphs_and_breaks() {
        assert_eq!(
            to_html("Which?\n- by distance\n- by **time**\n\nOr\nelse"),
            "<p>Which?</p>\n<ul>\n<li>by distance</li>\n<li>by <strong>time</strong></li>\n</ul>\n<p>Or<br />\nelse</p>\n"
        );
        assert_eq!(
            bullet_items("Which?\n- a b\n* c"),
            vec!["a b".to_string(), "c".to_string()]
        );
        assert_eq!(without_bullets("Which?\n- a\n- b"), "Which?");
    }
}
