//! The per-shape score of the question set, printed and written to
//! `target/ask-report.txt` so the engine's gaps are visible at a glance.

use super::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One scored case, kept for the list of wrong answers.
pub struct Line {
    pub index: usize,
    pub question: String,
    pub legacy: bool,
    pub problems: String,
    pub answer: String,
}

#[derive(Default)]
struct Row {
    correct: usize,
    declined: usize,
    wrong: usize,
}

impl Row {
    fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Correct => self.correct += 1,
            Verdict::Declined => self.declined += 1,
            Verdict::Wrong => self.wrong += 1,
        }
    }

    fn line(&self, out: &mut String, label: &str) {
        let n = self.correct + self.declined + self.wrong;
        let _ = writeln!(
            out,
            "{label:<24} {n:>6} {:>8} {:>9} {:>6}",
            self.correct, self.declined, self.wrong
        );
    }
}

/// Verdicts by shape, and the cases that were not correct.
#[derive(Default)]
pub struct Tally {
    shapes: BTreeMap<String, Row>,
    files: BTreeMap<String, Row>,
    wrong: Vec<Line>,
    declined: Vec<Line>,
    legacy_failures: usize,
}

impl Tally {
    pub fn add(&mut self, file: &str, shape: &str, verdict: Verdict, line: Line) {
        if line.legacy && verdict != Verdict::Correct {
            self.legacy_failures += 1;
        }
        for row in [
            self.shapes.entry(shape.to_string()).or_default(),
            self.files.entry(file.to_string()).or_default(),
        ] {
            row.count(verdict);
        }
        match verdict {
            Verdict::Correct => {}
            Verdict::Declined => self.declined.push(line),
            Verdict::Wrong => self.wrong.push(line),
        }
    }

    pub fn wrong(&self) -> usize {
        self.wrong.len()
    }

    pub fn legacy_failures(&self) -> usize {
        self.legacy_failures
    }

    /// No confident wrong answer, and the first question set fully correct.
    pub fn passes(&self) -> bool {
        self.wrong.is_empty() && self.legacy_failures == 0
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let header = format!(
            "{:<24} {:>6} {:>8} {:>9} {:>6}",
            "shape", "cases", "correct", "declined", "wrong"
        );
        let _ = writeln!(out, "{header}");
        let mut total = Row::default();
        for (shape, r) in &self.shapes {
            r.line(&mut out, shape);
            total.correct += r.correct;
            total.declined += r.declined;
            total.wrong += r.wrong;
        }
        total.line(&mut out, "total");
        let _ = writeln!(out, "\n{}", header.replacen("shape", "file ", 1));
        for (file, r) in &self.files {
            r.line(&mut out, file);
        }
        let _ = writeln!(out, "legacy cases not correct: {}", self.legacy_failures);
        for (title, lines) in [("wrong", &self.wrong), ("declined", &self.declined)] {
            let _ = writeln!(out, "\n== {title} ({}) ==", lines.len());
            for l in lines {
                let _ = writeln!(
                    out,
                    "#{} {:?}: {}\n    {}",
                    l.index, l.question, l.problems, l.answer
                );
            }
        }
        out
    }
}

/// `target/ask-report.txt` of the workspace (or of CARGO_TARGET_DIR).
pub fn path() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("ask-report.txt")
}
