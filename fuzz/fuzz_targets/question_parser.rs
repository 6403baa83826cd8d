//! The question parser must answer, never panic, whatever an athlete types.
#![no_main]

use ask::{Context, parse};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(question) = std::str::from_utf8(data) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid date");
        let _ = parse(question, &Context { today, units: domain::Units::Metric, previous: None });
    }
});
