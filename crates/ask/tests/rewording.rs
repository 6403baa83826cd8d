//! Everyday wording, at the parser: every question of the question sets that reads
//! as a plan reads as the same plan when it is worded in ways that keep its meaning
//! (a greeting, thanks, a hedge, politeness, the case of its letters), and not as a
//! plan when words that change its meaning are added. A typo in a long word reads as
//! the same plan (saying which word it read), or is declined: never as another plan.
//! The rewordings are made by rule from the word classes that carry no constraint,
//! not listed per question.

use ask::{Context, Parsed};
use chrono::NaiveDate;
use domain::Units;

/// The question sets talk-app's answer tests score (single-turn questions only: a
/// turn of a conversation depends on the turns before it).
const SETS: &[(&str, &str)] = &[
    (
        "questions",
        include_str!("../../../services/talk-app/tests/questions.json"),
    ),
    (
        "questions_real",
        include_str!("../../../services/talk-app/tests/questions_real.json"),
    ),
    (
        "questions_shapes",
        include_str!("../../../services/talk-app/tests/questions_shapes.json"),
    ),
    (
        "questions_unhandled",
        include_str!("../../../services/talk-app/tests/questions_unhandled.json"),
    ),
    (
        "questions_wild",
        include_str!("../../../services/talk-app/tests/questions_wild.json"),
    ),
];

fn ctx() -> Context {
    Context {
        today: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        units: Units::Metric,
        previous: None,
    }
}

/// Every single-turn question of every set.
fn questions() -> Vec<String> {
    let mut out = Vec::new();
    for (name, text) in SETS {
        let items: Vec<serde_json::Value> =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for item in items {
            if item.get("conv").is_some() {
                continue;
            }
            if let Some(q) = item.get("q").and_then(|q| q.as_str()) {
                out.push(q.to_owned());
            }
        }
    }
    out
}

/// The question without its closing punctuation, so words can follow it.
fn bare(q: &str) -> &str {
    q.trim().trim_end_matches(['?', '.', '!'])
}

/// Rewordings that keep the meaning of `q`, one family per class of words.
fn keeping(q: &str) -> Vec<String> {
    let b = bare(q);
    let mut lower_first = b.to_owned();
    if let Some(first) = lower_first.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    vec![
        // Greetings and politeness.
        format!("hey, {lower_first}?"),
        format!("Hi! {b}"),
        format!("hello {lower_first}"),
        format!("{b}, thanks"),
        format!("{b} please"),
        format!("{b}? thank you!"),
        format!("{b}, cheers"),
        // Hedges and lead-ins.
        format!("quick question: {lower_first}?"),
        format!("just wondering, {lower_first}"),
        format!("out of curiosity, {lower_first}?"),
        format!("ok so {lower_first}"),
        // Case and punctuation (a quoted name is looked for as typed, so it keeps its
        // case).
        outside_quotes(b, str::to_lowercase),
        format!("{}?", outside_quotes(b, str::to_uppercase)),
    ]
    .into_iter()
    .chain(synonyms(q))
    .collect()
}

/// Words athletes use for the same thing, as (word in a question, another word for
/// it): each question holding the first is also asked with the second.
const SYNONYMS: &[(&str, &str)] = &[
    ("distance", "mileage"),
    ("elevation", "climbing"),
    ("elevation gain", "vert"),
    ("kilometres", "km"),
    ("kilometers", "kms"),
    ("miles", "mi"),
    ("activities", "workouts"),
    ("did I do", "did I log"),
    ("did I do", "did I get in"),
    ("have I done", "have I logged"),
    ("how many", "how many total"),
    ("show me", "give me"),
    ("last year", "last year's"),
];

/// `q` with each synonym of a word it holds put in its place, one at a time.
fn synonyms(q: &str) -> Vec<String> {
    let lower = q.to_lowercase();
    SYNONYMS
        .iter()
        .filter_map(|(from, to)| {
            let at = lower.match_indices(from).find(|(i, _)| {
                let before = lower[..*i].chars().last();
                let after = lower[i + from.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })?;
            let i = at.0;
            Some(format!("{}{to}{}", &q[..i], &q[i + from.len()..]))
        })
        .collect()
}

/// `q` with `change` applied to the text outside double quotes.
fn outside_quotes(q: &str, change: fn(&str) -> String) -> String {
    q.split('"')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                change(part)
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// Additions that change the meaning: the engine cannot answer them, so they must not
/// read as a plan (they name what is left, or ask back).
fn changing(q: &str) -> Vec<String> {
    let b = bare(q);
    vec![
        format!("{b} with my dog"),
        format!("{b} in the rain"),
        format!("{b} barefoot"),
    ]
}

#[test]
fn meaning_keeping_rewordings_give_the_identical_plan() {
    let ctx = ctx();
    let mut checked = 0;
    let mut failures = Vec::new();
    for q in questions() {
        let Parsed::Plan(plan) = ask::parse(&q, &ctx) else {
            continue;
        };
        checked += 1;
        for reworded in keeping(&q) {
            match ask::parse(&reworded, &ctx) {
                Parsed::Plan(p) if p == plan => {}
                other => failures.push(format!("{q:?} → {reworded:?}: {other:?}")),
            }
        }
    }
    assert!(checked > 300, "only {checked} questions read as a plan");
    assert!(
        failures.is_empty(),
        "{} of {} rewordings read differently:\n{}",
        failures.len(),
        checked * keeping("q").len(),
        failures.join("\n")
    );
}

/// `q` with two neighbouring letters of its first long word swapped ("distnace"), or
/// `None` when it has no word of seven letters or more outside quotes.
fn with_typo(q: &str) -> Option<String> {
    let mut inside = false;
    let mut start = None;
    let mut run = 0;
    for (i, c) in q.char_indices() {
        if c == '"' {
            inside = !inside;
        }
        if !inside && c.is_ascii_lowercase() {
            run += 1;
            if run == 7 {
                start = Some(i + 1 - 7);
                break;
            }
        } else {
            run = 0;
        }
    }
    let at = start? + 3;
    let mut bytes = q.as_bytes().to_vec();
    if bytes[at] == bytes[at + 1] {
        return None;
    }
    bytes.swap(at, at + 1);
    String::from_utf8(bytes).ok()
}

#[test]
fn a_typo_reads_as_the_same_plan_and_says_so_or_declines() {
    let ctx = ctx();
    let (mut same, mut declined, mut wrong) = (0, 0, Vec::new());
    for q in questions() {
        let Parsed::Plan(plan) = ask::parse(&q, &ctx) else {
            continue;
        };
        let Some(typo) = with_typo(&q) else { continue };
        match ask::parse(&typo, &ctx) {
            Parsed::Plan(mut p) => {
                assert_eq!(
                    p.respelt.len(),
                    1,
                    "{typo:?}: the read-as line names the word"
                );
                p.respelt.clear();
                if p == plan {
                    same += 1;
                } else {
                    wrong.push(format!("{q:?} → {typo:?}: {p:?}"));
                }
            }
            _ => declined += 1,
        }
    }
    assert!(
        same > 100,
        "{same} typos read as the plan ({declined} declined)"
    );
    assert!(
        wrong.is_empty(),
        "{} typos read as another plan:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn meaning_changing_additions_never_read_as_a_plan() {
    let ctx = ctx();
    let mut failures = Vec::new();
    for q in questions() {
        if !matches!(ask::parse(&q, &ctx), Parsed::Plan(_)) {
            continue;
        }
        for changed in changing(&q) {
            if let Parsed::Plan(p) = ask::parse(&changed, &ctx) {
                failures.push(format!("{changed:?}: {p:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} additions were read as a plan:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
