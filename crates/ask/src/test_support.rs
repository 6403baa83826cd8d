//! What the engine's unit tests share: one fixed day and the plan a question reads as.

use crate::plan::Plan;
use crate::{Context, Parsed, parse};
use chrono::NaiveDate;
use domain::Units;

/// Sunday 29 November 2026, metric, no previous turn.
pub(crate) fn ctx() -> Context {
    Context {
        today: NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
        units: Units::Metric,
        previous: None,
    }
}

/// The plan `q` reads as on [`ctx`]; panics on anything else.
pub(crate) fn plan(q: &str) -> Plan {
    match parse(q, &ctx()) {
        Parsed::Plan(p) => p,
        other => panic!("{q}: {other:?}"),
    }
}
