//! One answer in the conversation: its text (sanitised Markdown), table, chart, the
//! SQL behind it, and for a clarifying question its options as buttons.

use super::AnswerTable;
use crate::markdown;
use ask::{Answer, AnswerKind};
use leptos::prelude::*;
use uuid::Uuid;

/// An answer; `conversation` lets clarify options continue the same conversation, and
/// `about` (which answer to which question) names its table.
#[component]
pub fn AnswerView(
    answer: Answer,
    conversation: Option<Uuid>,
    #[prop(optional, into)] about: String,
    /// Follow-up questions offered as buttons under the answer.
    #[prop(optional)]
    suggestions: Vec<String>,
) -> impl IntoView {
    // Answers are bounded when stored; one stored before that may not be.
    let mut answer = answer;
    answer.fit();
    let Answer {
        kind,
        text,
        table,
        chart,
        sql,
        read_as,
    } = answer;
    let (text, options) = if kind == AnswerKind::Clarify {
        (
            markdown::without_bullets(&text),
            markdown::bullet_items(&text),
        )
    } else {
        (text, Vec::new())
    };
    let svg = match (&table, &chart) {
        (Some(t), Some(c)) => crate::chart::svg(t, c),
        _ => None,
    };
    let has_chart = svg.is_some();
    let options = (!options.is_empty()).then(|| {
        let buttons = options
            .into_iter()
            .map(|o| {
                let label = o.clone();
                view! { <button type="submit" name="question" value=o class="chip">{label}</button> }
            })
            .collect_view();
        view! {
            <form method="post" action="/chat/ask" class="options ask-form">
                {conversation.map(|c| view! { <input type="hidden" name="conversation" value=c.to_string()/> })}
                {buttons}
            </form>
        }
    });
    let suggestions = (!suggestions.is_empty()).then(|| {
        let buttons = suggestions
            .into_iter()
            .map(|q| {
                let label = q.clone();
                view! { <button type="submit" name="question" value=q class="chip">{label}</button> }
            })
            .collect_view();
        view! {
            <form method="post" action="/chat/ask" class="suggestions ask-form">
                {conversation.map(|c| view! { <input type="hidden" name="conversation" value=c.to_string()/> })}
                <p class="muted small" id="suggestions-title">"Ask next:"</p>
                <div class="chips" role="group" aria-labelledby="suggestions-title">{buttons}</div>
            </form>
        }
    });
    let class = match kind {
        AnswerKind::Unsupported => "answer unsupported",
        AnswerKind::Clarify => "answer clarify",
        _ => "answer",
    };
    view! {
        <div class=class>
            {(!read_as.is_empty()).then(|| view! { <p class="read-as">"Read as: " {read_as}</p> })}
            <div class="text" inner_html=markdown::to_html(&text)></div>
            {options}
            {svg.map(|s| view! { <figure class="chart-box" inner_html=s></figure> })}
            {table.map(|t| {
                // Beside a chart the rows are the same figures again: keep them one
                // click away instead of making the page long.
                if has_chart {
                    let summary = format!("Table ({} rows)", t.rows.len());
                    view! { <details class="rows"><summary>{summary}</summary><AnswerTable table=t about=about/></details> }.into_any()
                } else {
                    view! { <AnswerTable table=t about=about/> }.into_any()
                }
            })}
            {sql.map(|q| view! {
                <details class="sql"><summary>"SQL"</summary><pre><code>{q}</code></pre></details>
            })}
        </div>
        // Below the answer, not inside it: next steps, not part of what was said.
        {suggestions}
    }
    .into_any()
}
