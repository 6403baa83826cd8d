//! Prints how the engine reads each question of one or more question files (JSON lists
//! of strings or of objects with a "q" field): the `read_as` line, or what it asked
//! back, refused or could not use. For reviewing the vocabulary against real phrasings:
//! `cargo run -p ask --example read_questions -- FILE... [--only-partial]`.

use ask::{Context, Parsed, parse, read_as::read_as};
use chrono::NaiveDate;
use domain::Units;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only_partial = args.iter().any(|a| a == "--only-partial");
    let ctx = Context {
        today: NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
        units: Units::Metric,
        previous: None,
    };
    let (mut total, mut partial) = (0, 0);
    for file in args.iter().filter(|a| !a.starts_with("--")) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for item in items {
            let Some(q) = item.as_str().or_else(|| item["q"].as_str()) else {
                continue;
            };
            // Follow-ups are read without their conversation here.
            if item.get("conv").is_some() {
                continue;
            }
            total += 1;
            let line = match parse(q, &ctx) {
                Parsed::Plan(p) => format!("PLAN     {}", read_as(&p, &ctx)),
                Parsed::Partial { unused, .. } => {
                    partial += 1;
                    format!("PARTIAL  not used: {}", unused.join(" | "))
                }
                Parsed::Clarify { text, .. } => {
                    format!("CLARIFY  {}", text.lines().next().unwrap_or(""))
                }
                Parsed::Unsupported { text } => format!("REFUSED  {}", &text[..text.len().min(60)]),
                Parsed::NotUnderstood => "NOT UNDERSTOOD".into(),
            };
            if !only_partial || line.starts_with("PARTIAL") {
                println!("{q}\n    {line}");
            }
        }
    }
    eprintln!("{partial} of {total} questions only partly understood");
}
