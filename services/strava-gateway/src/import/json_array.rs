//! A JSON array of SummaryActivity (what `/athlete/activities` returns), read one
//! element at a time: memory holds one element, not the array.
//!
//! Each element goes through the same strict conversion as the API's activities
//! ([`crate::convert`]); an element without `athlete` belongs to the athlete named on
//! the command line, one with another athlete's id is an error.

use super::rows::{Batcher, Parsed, Place, ReadError, RowContext};
use db::activities::ActivityRow;
use domain::ActivitySource;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::Read;

/// Reads every element of the array in `input`, handing each row (or its error) to
/// `out`. Broken JSON inside the array is reported at the element it breaks, and
/// reading stops there: nothing after it can be trusted.
pub fn read(input: impl Read, ctx: &RowContext, out: &mut Batcher) -> Result<(), ReadError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut progress = Progress::default();
    let outcome = Elements {
        ctx,
        out: &mut *out,
        progress: &mut progress,
    }
    .deserialize(&mut de);
    if progress.stopped {
        return Err(ReadError::Stopped);
    }
    let place = Place::Index(progress.next_index);
    let broken = match outcome {
        Ok(()) => de
            .end()
            .err()
            .map(|e| format!("text after the array ({e})")),
        Err(_) if !progress.started => {
            return Err(ReadError::File(
                "expected a JSON array of activities".into(),
            ));
        }
        Err(e) => Some(format!("not valid JSON ({e})")),
    };
    if let Some(reason) = broken {
        out.push(Parsed {
            place,
            row: Err(reason),
        })?;
    }
    Ok(())
}

#[derive(Default)]
struct Progress {
    /// The array opened.
    started: bool,
    /// The index of the next element.
    next_index: u64,
    /// The writer has gone.
    stopped: bool,
}

/// Visits the array, converting and handing on each element as it is parsed.
struct Elements<'a> {
    ctx: &'a RowContext,
    out: &'a mut Batcher,
    progress: &'a mut Progress,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of activities")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.progress.started = true;
        while let Some(item) = seq.next_element::<Value>()? {
            let index = self.progress.next_index;
            self.progress.next_index += 1;
            let parsed = Parsed {
                place: Place::Index(index),
                row: row_of(item, self.ctx),
            };
            if self.out.push(parsed).is_err() {
                self.progress.stopped = true;
                return Err(de::Error::custom("the import stopped"));
            }
        }
        Ok(())
    }
}

fn row_of(mut item: Value, ctx: &RowContext) -> Result<ActivityRow, String> {
    // Exports of one athlete may leave out the athlete: it is the one named.
    if let Some(obj) = item.as_object_mut()
        && !obj.contains_key("athlete")
    {
        obj.insert(
            "athlete".into(),
            serde_json::json!({ "id": ctx.athlete.get() }),
        );
    }
    let activity = crate::convert::activity_from_strava(&item, ActivitySource::Import)?;
    if activity.athlete_id != ctx.athlete {
        return Err(format!(
            "activity {} belongs to athlete {}",
            activity.id.get(),
            activity.athlete_id.get()
        ));
    }
    Ok(ActivityRow::new(&activity, Some(item), ctx.fetched_at))
}
