//! Changes to the fake's world shared by the Rust handle and the control API:
//! seeding athletes and activities, and "uploads" (create/update/delete) that push
//! the webhook events Strava would send.

use crate::json::legacy_type;
use crate::model::{ActivityUpdate, Athlete, FakeError, NewActivity, NewAthlete};
use crate::state::{Shared, State, Stored};
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use demo::{DEMO_SEED, DEMO_TIMEZONE, MAX_DEMO_YEARS, demo_activities_with_seed};
use domain::dates::{parse_strava_timezone, to_utc};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportType};
use std::collections::BTreeMap;

/// Cap on one generation call, so a typo cannot exhaust memory.
pub const MAX_GENERATED: usize = 200_000;

/// Strava's automatic title: "Morning Run", "Evening Ride"...
fn default_name(local_hour: u32, sport: &str) -> String {
    let part = match local_hour {
        5..=10 => "Morning",
        11..=13 => "Lunch",
        14..=17 => "Afternoon",
        18..=21 => "Evening",
        _ => "Night",
    };
    format!("{part} {}", SportType::new(sport).display_name())
}

impl Shared {
    /// Adds an athlete; its id is the one asked for or the next free one.
    pub fn add_athlete(&self, spec: NewAthlete) -> Result<Athlete, FakeError> {
        parse_strava_timezone(&spec.timezone)
            .map_err(|e| FakeError::Invalid(format!("timezone: {e}")))?;
        let mut st = self.lock();
        let id = match spec.id {
            Some(id) if st.athletes.contains_key(&id.get()) => {
                return Err(FakeError::Duplicate(id.get()));
            }
            Some(id) if id.get() <= 0 => {
                return Err(FakeError::Invalid("athlete id must be positive".into()));
            }
            Some(id) => id.get(),
            None => {
                while st.athletes.contains_key(&st.next_athlete_id) {
                    st.next_athlete_id += 1;
                }
                st.next_athlete_id
            }
        };
        let now = st.now();
        let athlete = Athlete {
            id: AthleteId(id),
            username: spec
                .username
                .or_else(|| Some(format!("{}{id}", spec.firstname.to_lowercase()))),
            firstname: spec.firstname,
            lastname: spec.lastname,
            city: spec.city,
            state: None,
            country: spec.country,
            sex: spec.sex,
            summit: false,
            measurement_preference: spec.measurement_preference,
            weight: spec.weight,
            ftp: None,
            timezone: spec.timezone,
            created_at: now - TimeDelta::days(3 * 365),
            updated_at: now - TimeDelta::days(30),
        };
        st.athletes.insert(id, athlete.clone());
        Ok(athlete)
    }

    /// Adds `count` realistic activities (from `demo`) ending today, or just
    /// before the athlete's oldest activity when it has some, so repeated calls
    /// extend the history backwards. Home activities move to the athlete's zone.
    /// No webhook events: this is seeding, not uploading.
    pub fn generate_activities(
        &self,
        athlete: AthleteId,
        count: usize,
    ) -> Result<Vec<ActivityId>, FakeError> {
        if count > MAX_GENERATED {
            return Err(FakeError::Invalid(format!(
                "at most {MAX_GENERATED} activities per call"
            )));
        }
        let mut st = self.lock();
        let who = st.athlete(athlete)?.clone();
        let zone = parse_strava_timezone(&who.timezone).ok();
        let now = st.now();
        let mut end = st
            .activities
            .values()
            .filter(|s| s.activity.athlete_id == athlete)
            .map(|s| s.activity.start_date_local.date())
            .min()
            .and_then(|d| d.pred_opt())
            .unwrap_or_else(|| now.date_naive());
        let seed = DEMO_SEED ^ (who.id.get() as u64);
        // Demo activities recorded "at home" (Paris) move to the athlete's own zone,
        // keeping their local wall-clock time.
        let rehome = |mut a: Activity| {
            if let Some(tz) = zone
                && who.timezone != DEMO_TIMEZONE
                && a.timezone.as_deref() == Some(DEMO_TIMEZONE)
            {
                a.start_date = to_utc(a.start_date_local, tz);
                a.timezone = Some(who.timezone.clone());
            }
            a
        };
        let mut batches: Vec<Vec<Activity>> = Vec::new();
        let mut found = 0;
        while found < count {
            let years = u32::try_from((count - found) / 200 + 1)
                .unwrap_or(MAX_DEMO_YEARS)
                .min(MAX_DEMO_YEARS);
            let mut batch: Vec<Activity> = demo_activities_with_seed(end, years, seed)
                .into_iter()
                .map(&rehome)
                .filter(|a| a.start_date <= now)
                .collect();
            if batch.is_empty() {
                break;
            }
            let keep = (count - found).min(batch.len());
            batch.drain(..batch.len() - keep);
            found += keep;
            end = match batch[0].start_date_local.date().pred_opt() {
                Some(d) => d,
                None => break,
            };
            batches.push(batch);
        }
        // Oldest first, so ids grow with time as Strava's do.
        let mut ids = Vec::with_capacity(found);
        for batch in batches.into_iter().rev() {
            for mut a in batch {
                let id = st.take_activity_id();
                a.id = ActivityId(id);
                a.athlete_id = athlete;
                a.source = ActivitySource::Api;
                ids.push(a.id);
                st.activities.insert(
                    id,
                    Stored {
                        activity: a,
                        description: None,
                    },
                );
            }
        }
        Ok(ids)
    }

    /// Seeds activities as given (ids and athletes must be free / known). No events.
    pub fn add_activities(&self, activities: Vec<Activity>) -> Result<(), FakeError> {
        let mut st = self.lock();
        for a in &activities {
            st.athlete(a.athlete_id)?;
            if st.activities.contains_key(&a.id.get()) {
                return Err(FakeError::Duplicate(a.id.get()));
            }
        }
        for a in activities {
            st.activities.insert(
                a.id.get(),
                Stored {
                    activity: a,
                    description: None,
                },
            );
        }
        Ok(())
    }

    /// Creates an activity and pushes the `create` event.
    pub fn upload_activity(
        &self,
        athlete: AthleteId,
        spec: NewActivity,
    ) -> Result<ActivityId, FakeError> {
        let mut st = self.lock();
        let who = st.athlete(athlete)?.clone();
        let id = match spec.id {
            Some(id) if st.activities.contains_key(&id) || id <= 0 => {
                return Err(FakeError::Duplicate(id));
            }
            Some(id) => id,
            None => st.take_activity_id(),
        };
        let activity = build_activity(&st, &who, id, &spec);
        st.activities.insert(
            id,
            Stored {
                activity,
                description: spec.description,
            },
        );
        self.emit(
            &mut st,
            "create",
            "activity",
            id,
            athlete.get(),
            BTreeMap::new(),
        );
        Ok(ActivityId(id))
    }

    /// Changes an activity; title, type and privacy changes push an `update` event
    /// listing them, as Strava does (a description change sends nothing).
    pub fn update_activity(&self, id: ActivityId, change: ActivityUpdate) -> Result<(), FakeError> {
        let mut st = self.lock();
        let stored = st
            .activities
            .get_mut(&id.get())
            .ok_or(FakeError::UnknownActivity(id.get()))?;
        let mut updates = BTreeMap::new();
        if let Some(name) = change.name {
            updates.insert("title".to_string(), name.clone());
            stored.activity.name = name;
        }
        if let Some(sport) = change.sport_type {
            // Today's events name the new `sport_type`; `type` carries the legacy
            // type it maps to, for clients that only read that.
            updates.insert("type".to_string(), legacy_type(&sport).to_string());
            updates.insert("sport_type".to_string(), sport.clone());
            stored.activity.sport_type = SportType::new(sport);
        }
        if let Some(private) = change.private {
            updates.insert("private".to_string(), private.to_string());
            stored.activity.private = private;
        }
        if let Some(d) = change.description {
            stored.description = Some(d);
        }
        let owner = stored.activity.athlete_id.get();
        if !updates.is_empty() {
            self.emit(&mut st, "update", "activity", id.get(), owner, updates);
        }
        Ok(())
    }

    /// Deletes an activity and pushes the `delete` event.
    pub fn delete_activity(&self, id: ActivityId) -> Result<(), FakeError> {
        let mut st = self.lock();
        let stored = st
            .activities
            .remove(&id.get())
            .ok_or(FakeError::UnknownActivity(id.get()))?;
        let owner = stored.activity.athlete_id.get();
        self.emit(
            &mut st,
            "delete",
            "activity",
            id.get(),
            owner,
            BTreeMap::new(),
        );
        Ok(())
    }

    /// The athlete revokes access: every token and code dies and the athlete
    /// `update` event with `{"authorized": "false"}` is pushed. Data stays on "Strava".
    pub fn deauthorize_athlete(&self, athlete: AthleteId) -> Result<(), FakeError> {
        let mut st = self.lock();
        st.athlete(athlete)?;
        st.access_tokens.retain(|_, g| g.athlete != athlete);
        st.refresh_tokens.retain(|_, g| g.athlete != athlete);
        st.codes.retain(|_, c| c.athlete != athlete);
        let updates = BTreeMap::from([("authorized".to_string(), "false".to_string())]);
        self.emit(
            &mut st,
            "update",
            "athlete",
            athlete.get(),
            athlete.get(),
            updates,
        );
        Ok(())
    }
}

fn build_activity(st: &State, who: &Athlete, id: i64, spec: &NewActivity) -> Activity {
    let now: DateTime<Utc> = st.now();
    let start = spec.start_date.unwrap_or(now - TimeDelta::hours(1));
    let zone = parse_strava_timezone(&who.timezone).ok();
    let local = match zone {
        Some(tz) => start.with_timezone(&tz).naive_local(),
        None => start.naive_utc(),
    };
    let moving = spec.moving_time_s.max(0);
    let speed = if moving > 0 {
        spec.distance_m / f64::from(moving)
    } else {
        0.0
    };
    Activity {
        id: ActivityId(id),
        athlete_id: who.id,
        name: spec
            .name
            .clone()
            .unwrap_or_else(|| default_name(local.hour(), &spec.sport_type)),
        sport_type: SportType::new(spec.sport_type.clone()),
        start_date: start,
        start_date_local: local,
        timezone: Some(who.timezone.clone()),
        distance_m: spec.distance_m,
        moving_time_s: moving,
        elapsed_time_s: spec.elapsed_time_s.unwrap_or(moving).max(moving),
        total_elevation_gain_m: spec.total_elevation_gain_m,
        elev_high_m: None,
        elev_low_m: None,
        average_speed_mps: (speed * 1000.0).round() / 1000.0,
        max_speed_mps: (speed * 1300.0).round() / 1000.0,
        average_heartrate: spec.average_heartrate,
        max_heartrate: spec.average_heartrate.map(|h| (h + 15.0).round()),
        average_cadence: None,
        average_watts: None,
        weighted_average_watts: None,
        max_watts: None,
        kilojoules: None,
        calories: Some((spec.distance_m / 1000.0 * 65.0).round()),
        device_watts: false,
        kudos_count: 0,
        comment_count: 0,
        achievement_count: 0,
        pr_count: 0,
        commute: spec.commute,
        trainer: spec.trainer,
        manual: spec.manual,
        private: spec.private,
        flagged: false,
        workout_type: spec.workout_type,
        gear_id: None,
        device_name: None,
        source: ActivitySource::Api,
    }
}
