//! The bytes on their way to the `csv` reader, watched for what `csv` does not do.
//!
//! - Quoting: `csv` is lenient where an import must not be: it ends a quoted field
//!   that never closes at the end of the input, and it keeps text that follows a
//!   closing quote as part of the field. Both are how one stray quote swallows the
//!   following rows into one cell. This watches quote structure only (`csv` still
//!   does the reading) and remembers the first problem with its line.
//! - Line numbers: `csv` (csv-core 0.1) does not count line breaks inside quoted
//!   fields, so its line numbers drift after a multi-line description. Its byte
//!   offsets are exact (a record's offset is where the previous one ended, before
//!   any CRLF remainder or blank lines), so lines are counted here and a record's
//!   line is the line of the first byte after its offset that is not a line break.
//! - Size: `csv` builds each record whole in memory, so one field of a gigabyte (a
//!   hostile file, or a quote that never closes) would cost a gigabyte. A record
//!   longer than [`MAX_RECORD_BYTES`] ends the read with an error naming its line,
//!   before `csv` has buffered more than that.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The longest record read: a row of Strava's export, its description included, is
/// a few kilobytes.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// A quoting problem and the line it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteProblem {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Copy)]
enum State {
    FieldStart,
    Unquoted,
    /// Inside a quoted field that opened on this line.
    Quoted(u64),
    /// A quote inside a quoted field: it closes the field or starts a doubled `""`.
    QuoteInQuoted(u64),
}

/// Passes bytes through unchanged while checking their quoting and counting lines.
pub struct CsvInput<R> {
    inner: R,
    state: State,
    /// The line of the next byte.
    line: u64,
    /// Bytes passed on so far.
    offset: u64,
    /// Where text resumes after line breaks, as (offset, line), for those passed on
    /// but not yet looked up past: `csv` reads ahead by a buffer, so this holds
    /// about a buffer's worth.
    line_starts: VecDeque<(u64, u64)>,
    after_break: bool,
    problem: Option<QuoteProblem>,
    reported: bool,
    /// Bytes of the record being read so far, and the line it starts on.
    record_bytes: u64,
    record_line: u64,
}

impl<R: Read> CsvInput<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            state: State::FieldStart,
            line: 1,
            offset: 0,
            line_starts: VecDeque::new(),
            after_break: true,
            problem: None,
            reported: false,
            record_bytes: 0,
            record_line: 1,
        }
    }

    /// The line (1-based) of the first text at or after byte `offset`. Offsets must
    /// not go backwards between calls: records are looked up in the order read.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self.line_starts.front().is_some_and(|&(at, _)| at < offset) {
            self.line_starts.pop_front();
        }
        self.line_starts
            .front()
            .map_or(self.line, |&(_, line)| line)
    }

    /// The first problem seen so far, handed out once.
    pub fn take_problem(&mut self) -> Option<QuoteProblem> {
        if self.reported {
            return None;
        }
        let problem = self.problem.clone()?;
        self.reported = true;
        Some(problem)
    }

    fn step(&mut self, byte: u8) {
        let ends_field = matches!(byte, b',' | b'\r' | b'\n');
        self.state = match (self.state, byte) {
            (State::FieldStart, b'"') => State::Quoted(self.line),
            (State::FieldStart | State::Unquoted, _) if ends_field => State::FieldStart,
            (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            (State::Quoted(since), b'"') => State::QuoteInQuoted(since),
            (State::Quoted(since), _) => State::Quoted(since),
            (State::QuoteInQuoted(since), b'"') => State::Quoted(since),
            (State::QuoteInQuoted(_), _) if ends_field => State::FieldStart,
            (State::QuoteInQuoted(since), _) => {
                let reason = if since == self.line {
                    "text follows the closing quote of a field".to_owned()
                } else {
                    format!(
                        "a quoted field runs on to line {} and text follows its closing quote: a quote is probably never closed",
                        self.line
                    )
                };
                self.note(since, reason);
                State::Unquoted
            }
        };
        // A line break outside quotes ends the record (the next starts after it).
        if byte == b'\n' && matches!(self.state, State::FieldStart) {
            self.record_bytes = 0;
        } else {
            if self.record_bytes == 0 {
                self.record_line = self.line;
            }
            self.record_bytes += 1;
        }
        let is_break = matches!(byte, b'\r' | b'\n');
        if self.after_break && !is_break {
            self.line_starts.push_back((self.offset, self.line));
        }
        self.after_break = is_break;
        if byte == b'\n' {
            self.line += 1;
        }
        self.offset += 1;
    }

    fn at_end(&mut self) {
        if let State::Quoted(since) = self.state {
            self.note(since, "a quoted field opens here and never closes".into());
        }
    }

    fn note(&mut self, line: u64, reason: String) {
        if self.problem.is_none() {
            self.problem = Some(QuoteProblem { line, reason });
        }
    }
}

impl<R: Read> Read for CsvInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.record_bytes > MAX_RECORD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the row on line {} is longer than {} MiB, far more than any row of \
                     Strava's export: is a quote never closed?",
                    self.record_line,
                    MAX_RECORD_BYTES >> 20
                ),
            ));
        }
        // Never more than the rest of a record's allowance at once, so the limit
        // holds to within one read.
        let room = usize::try_from(MAX_RECORD_BYTES + 1 - self.record_bytes).unwrap_or(usize::MAX);
        let len = buf.len().min(room.max(1));
        let n = self.inner.read(&mut buf[..len])?;
        if n == 0 {
            self.at_end();
        }
        for &byte in &buf[..n] {
            self.step(byte);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<QuoteProblem> {
        let mut check = CsvInput::new(text.as_bytes());
        io::copy(&mut check, &mut io::sink()).unwrap();
        check.take_problem()
    }

    #[test]
    fn well_formed_quoting_passes() {
        let text =
            "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n3,,\"\"\n4,bare\"quote,5";
        assert_eq!(problem(text), None);
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opens_on() {
        let p = problem("a,b\n1,\"open\n2,x\n").unwrap();
        assert_eq!(p.line, 2);
        assert!(p.reason.contains("never closes"), "{}", p.reason);
        // A stray quote that a later row's quote "closes": the line of the stray one.
        let p = problem("a,b,c\n1,\"Morning run,x\n2,\"Nov 3, 2023\",y\n").unwrap();
        assert_eq!(p.line, 2, "{p:?}");
        assert!(p.reason.contains("line 3"), "{}", p.reason);
        let p = problem("a,b\n1,\"x\"y\n").unwrap();
        assert_eq!(p.line, 2);
    }

    #[test]
    fn a_record_longer_than_the_limit_ends_the_read_at_its_line() {
        // The header, a good row, then a row whose quoted name never ends: nothing
        // past the limit is handed on.
        let mut text = b"a,b\n1,x\n2,\"".to_vec();
        let mut input = CsvInput::new(io::Read::chain(
            text.as_slice(),
            io::repeat(b'n').take(4 * MAX_RECORD_BYTES),
        ));
        let mut passed = 0u64;
        let mut buf = vec![0; 64 << 10];
        let error = loop {
            match input.read(&mut buf) {
                Ok(0) => panic!("read to the end"),
                Ok(n) => passed += n as u64,
                Err(e) => break e,
            }
        };
        assert!(passed <= MAX_RECORD_BYTES + 16, "{passed} bytes passed on");
        let message = error.to_string();
        assert!(message.contains("line 3"), "{message}");
        // Quoted line breaks stay inside their record; rows of any count pass.
        text = b"a,b\n".to_vec();
        for i in 0..5000 {
            text.extend_from_slice(format!("{i},\"two\nlines\"\n").as_bytes());
        }
        let mut input = CsvInput::new(text.as_slice());
        assert_eq!(
            io::copy(&mut input, &mut io::sink()).unwrap(),
            text.len() as u64
        );
    }

    #[test]
    fn lines_are_found_by_byte_offset_across_quoted_line_breaks() {
        let text = "h\r\n\"a\nb\"\r\n\nc\n";
        let mut input = CsvInput::new(text.as_bytes());
        io::copy(&mut input, &mut io::sink()).unwrap();
        assert_eq!(input.line_at(0), 1);
        // After the CR of the header's CRLF.
        assert_eq!(input.line_at(2), 2);
        // After the CR that ends the two-line record, before its LF and a blank line.
        assert_eq!(input.line_at(9), 5);
    }
}
