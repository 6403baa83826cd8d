//! The question engine end to end against a real database: the question set in
//! `tests/questions.json`, conversations, isolation between athletes, and the
//! `talk-app ask` command.
//!
//! The database holds the demo athlete (id 1, metric, Paris, three years) and a second
//! athlete (id 2, imperial, New York, one year of other activities, every name
//! ending in "(athlete 2)"). Expected figures are computed here from the same
//! generated activities in plain Rust, independently of the SQL the engine writes.
//! Set `ASK_PRINT=1` to print every answer.

use ask::AnswerKind;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use domain::format::{self, PaceUnit};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportFamily, Units};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use testkit::TestDb;
use uuid::Uuid;

const NOW: &str = "2026-11-29T12:00:00Z";
const DEMO: AthleteId = AthleteId(1);
const OTHER: AthleteId = AthleteId(2);
const OTHER_TZ: &str = "(GMT-05:00) America/New_York";
/// Athlete 2's ids are the generator's minus this, so they never collide with the demo's.
const OTHER_ID_SHIFT: i64 = 1_000_000_000_000;
const OTHER_MARK: &str = "(athlete 2)";

fn now() -> DateTime<Utc> {
    NOW.parse().expect("fixed now")
}

struct World {
    db: TestDb,
    demo: Vec<Activity>,
    other: Vec<Activity>,
}

impl World {
    fn activities(&self, athlete: AthleteId) -> &[Activity] {
        if athlete == OTHER {
            &self.other
        } else {
            &self.demo
        }
    }
}

async fn world() -> World {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    db::demo::seed(&mut conn, now()).await.expect("seed demo");
    let paris = domain::dates::parse_strava_timezone(demo::DEMO_TIMEZONE).unwrap();
    let demo = demo::demo_activities(domain::dates::today(now(), paris), db::demo::DEMO_YEARS);
    athletes::upsert(
        &mut conn,
        &AthleteUpsert {
            id: OTHER.get(),
            firstname: "Other".into(),
            lastname: "Athlete".into(),
            measurement_preference: domain::Units::Imperial,
            timezone: Some(OTHER_TZ.into()),
            is_demo: false,
        },
    )
    .await
    .expect("second athlete");
    let ny = domain::dates::parse_strava_timezone(OTHER_TZ).unwrap();
    let other: Vec<Activity> =
        demo::demo_activities_with_seed(domain::dates::today(now(), ny), 1, 42)
            .into_iter()
            .map(|mut a| {
                a.id = ActivityId(a.id.get() - OTHER_ID_SHIFT);
                a.athlete_id = OTHER;
                a.name = format!("{} {OTHER_MARK}", a.name);
                a.source = ActivitySource::Import;
                a
            })
            .collect();
    let rows: Vec<ActivityRow> = other
        .iter()
        .map(|a| ActivityRow::new(a, None, now()))
        .collect();
    activities::upsert_many(&mut conn, &rows)
        .await
        .expect("second athlete's activities");
    World { db, demo, other }
}

/// One case of the question set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    q: String,
    #[serde(default = "demo_id")]
    athlete: i64,
    /// Cases with the same name share a conversation, in file order.
    conv: Option<String>,
    kind: AnswerKind,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    not_contains: Vec<String>,
    /// A key figure computed from the generated activities; must appear in bold.
    figure: Option<Figure>,
    /// Expected number of table rows.
    rows: Option<usize>,
    /// Expected table columns (a subset, in any order).
    #[serde(default)]
    columns: Vec<String>,
    /// Expected chart x column.
    chart_x: Option<String>,
}

fn demo_id() -> i64 {
    DEMO.get()
}

/// Which activities a figure covers, and what to compute over them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Figure {
    /// count, sum, avg, max, min, streak, top_weekday
    agg: String,
    /// distance, time, elapsed, elevation, pace, speed, hr, kudos, calories
    #[serde(default)]
    metric: String,
    sports: Option<Vec<String>>,
    /// First local date included.
    from: Option<NaiveDate>,
    /// First local date excluded.
    to: Option<NaiveDate>,
    name: Option<String>,
    dist_min: Option<f64>,
    dist_max: Option<f64>,
    dur_min: Option<f64>,
    dur_max: Option<f64>,
    elev_min: Option<f64>,
    /// ISO weekday, Monday = 1.
    weekday: Option<u32>,
    /// Local start hour range [from, to); wraps when from > to.
    hours: Option<(u32, u32)>,
    commute: Option<bool>,
    trainer: Option<bool>,
    month_day: Option<(u32, u32)>,
    /// "imperial" to format in miles and feet; default: the athlete's.
    units: Option<String>,
}

impl Figure {
    fn keeps(&self, a: &Activity) -> bool {
        let d = a.start_date_local.date();
        let hour = a.start_date_local.hour();
        self.sports
            .as_ref()
            .is_none_or(|s| s.iter().any(|t| t == a.sport_type.as_str()))
            && self.from.is_none_or(|f| d >= f)
            && self.to.is_none_or(|t| d < t)
            && self
                .name
                .as_ref()
                .is_none_or(|n| a.name.to_lowercase().contains(&n.to_lowercase()))
            && self.dist_min.is_none_or(|m| a.distance_m >= m)
            && self.dist_max.is_none_or(|m| a.distance_m <= m)
            && self.dur_min.is_none_or(|m| f64::from(a.moving_time_s) >= m)
            && self.dur_max.is_none_or(|m| f64::from(a.moving_time_s) <= m)
            && self.elev_min.is_none_or(|m| a.total_elevation_gain_m >= m)
            && self
                .weekday
                .is_none_or(|w| d.weekday().number_from_monday() == w)
            && self.hours.is_none_or(|(lo, hi)| {
                if lo <= hi {
                    hour >= lo && hour < hi
                } else {
                    hour >= lo || hour < hi
                }
            })
            && self.commute.is_none_or(|c| a.commute == c)
            && self.trainer.is_none_or(|t| a.trainer == t)
            && self
                .month_day
                .is_none_or(|(m, day)| d.month() == m && d.day() == day)
    }

    /// The figure as the answer must show it (without the bold markers).
    fn expected(&self, all: &[Activity], athlete_units: Units) -> String {
        let units = match self.units.as_deref() {
            Some("imperial") => Units::Imperial,
            Some("metric") => Units::Metric,
            _ => athlete_units,
        };
        let acts: Vec<&Activity> = all.iter().filter(|a| self.keeps(a)).collect();
        let swim = self.sports.as_ref().is_some_and(|s| s == &["Swim"]);
        let family = if swim {
            SportFamily::Swim
        } else {
            self.sports
                .as_ref()
                .and_then(|s| s.first())
                .map_or(SportFamily::Other, |s| SportFamily::of(s))
        };
        let values: Vec<f64> = acts
            .iter()
            .filter_map(|a| match self.metric.as_str() {
                "distance" => Some(a.distance_m),
                "time" => Some(f64::from(a.moving_time_s)),
                "elapsed" => Some(f64::from(a.elapsed_time_s)),
                "elevation" => Some(a.total_elevation_gain_m),
                "speed" | "pace" => (a.distance_m > 0.0).then_some(a.average_speed_mps),
                "hr" => a.average_heartrate,
                "kudos" => Some(f64::from(a.kudos_count)),
                "calories" => a.calories,
                _ => Some(1.0),
            })
            .collect();
        let show = |v: f64| -> String {
            match self.metric.as_str() {
                "distance" if swim => format::swim_distance(v, units),
                "distance" => format::distance(v, units),
                "time" | "elapsed" => format::duration_f64(v),
                "elevation" => format::elevation(v, units),
                "pace" => format::pace(
                    v,
                    PaceUnit::for_family(family, units).unwrap_or(PaceUnit::PerKilometre),
                ),
                "speed" => match PaceUnit::for_family(family, units) {
                    Some(p) => format::pace(v, p),
                    None => format::speed(v, units),
                },
                "hr" => format!("{} bpm", format::number(v, 0)),
                "calories" => format!("{} kcal", format::number(v, 0)),
                _ => format::group_thousands(v.round() as i64),
            }
        };
        match self.agg.as_str() {
            "count" => format::group_thousands(acts.len() as i64),
            "sum" => show(values.iter().sum()),
            "avg" if matches!(self.metric.as_str(), "pace" | "speed") => {
                let moving: Vec<&&Activity> = acts.iter().filter(|a| a.distance_m > 0.0).collect();
                let d: f64 = moving.iter().map(|a| a.distance_m).sum();
                let t: f64 = moving.iter().map(|a| f64::from(a.moving_time_s)).sum();
                show(d / t)
            }
            "avg" => show(values.iter().sum::<f64>() / values.len() as f64),
            "max" => show(values.iter().copied().fold(f64::MIN, f64::max)),
            "min" => show(
                values
                    .iter()
                    .copied()
                    .filter(|v| *v > 0.0)
                    .fold(f64::MAX, f64::min),
            ),
            "streak" => {
                let days: BTreeSet<NaiveDate> =
                    acts.iter().map(|a| a.start_date_local.date()).collect();
                let (mut best, mut cur, mut prev) = (0, 0, None::<NaiveDate>);
                for d in days {
                    cur = match prev {
                        Some(p) if p.succ_opt() == Some(d) => cur + 1,
                        _ => 1,
                    };
                    best = best.max(cur);
                    prev = Some(d);
                }
                best.to_string()
            }
            "top_weekday" => {
                let mut per_day: HashMap<u32, usize> = HashMap::new();
                for a in &acts {
                    *per_day
                        .entry(a.start_date_local.weekday().number_from_monday())
                        .or_default() += 1;
                }
                let (day, _) = per_day
                    .into_iter()
                    .max_by_key(|(d, n)| (*n, std::cmp::Reverse(*d)))
                    .unwrap_or((7, 0));
                [
                    "Monday",
                    "Tuesday",
                    "Wednesday",
                    "Thursday",
                    "Friday",
                    "Saturday",
                    "Sunday",
                ][day as usize - 1]
                    .to_string()
            }
            other => panic!("unknown figure aggregate {other}"),
        }
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    let row: N = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
    row.n
}

async fn table_counts(db: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT count(*) AS n FROM activities WHERE athlete_id = 1",
        "SELECT count(*) AS n FROM activities WHERE athlete_id = 2",
        "SELECT count(*) AS n FROM athletes",
        "SELECT count(*)::bigint AS n FROM pg_tables WHERE schemaname = 'public'",
    ] {
        out.push(count(db, sql).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_set() {
    let w = world().await;
    let file = include_str!("questions.json");
    let cases: Vec<Case> = serde_json::from_str(file).expect("questions.json parses");
    let before = table_counts(&w.db).await;
    let print = std::env::var_os("ASK_PRINT").is_some();
    let mut conversations: HashMap<String, Uuid> = HashMap::new();
    let mut failures = Vec::new();
    let ids: HashMap<AthleteId, HashSet<i64>> = [DEMO, OTHER]
        .into_iter()
        .map(|a| (a, w.activities(a).iter().map(|x| x.id.get()).collect()))
        .collect();

    for (i, case) in cases.iter().enumerate() {
        let athlete = AthleteId(case.athlete);
        let conversation = case.conv.as_ref().map(|name| {
            *conversations
                .entry(format!("{}/{name}", case.athlete))
                .or_insert_with(Uuid::new_v4)
        });
        let result =
            talk_app::ask::ask(w.db.pool(), None, athlete, conversation, &case.q, now()).await;
        let answer = match result {
            Ok((_, a)) => a,
            Err(e) => {
                failures.push(format!("#{i} {:?}: error {e:?}", case.q));
                continue;
            }
        };
        let json = serde_json::to_string(&answer).unwrap();
        if print {
            println!("#{i} [{}] {}\n    {json}", case.athlete, case.q);
        }
        let mut problems = Vec::new();
        if answer.kind != case.kind {
            problems.push(format!("kind {:?}, expected {:?}", answer.kind, case.kind));
        }
        for s in &case.contains {
            if !answer.text.contains(s.as_str()) {
                problems.push(format!("text lacks {s:?}"));
            }
        }
        for s in &case.not_contains {
            if json.contains(s.as_str()) {
                problems.push(format!("answer contains {s:?}"));
            }
        }
        if let Some(f) = &case.figure {
            let units = if athlete == OTHER {
                Units::Imperial
            } else {
                Units::Metric
            };
            let want = format!("**{}**", f.expected(w.activities(athlete), units));
            if !answer.text.contains(&want) {
                problems.push(format!("text lacks figure {want}"));
            }
        }
        if let Some(n) = case.rows {
            let got = answer.table.as_ref().map_or(0, |t| t.rows.len());
            if got != n {
                problems.push(format!("{got} rows, expected {n}"));
            }
        }
        for c in &case.columns {
            if !answer.table.as_ref().is_some_and(|t| t.columns.contains(c)) {
                problems.push(format!("no column {c}"));
            }
        }
        if let Some(x) = &case.chart_x
            && answer.chart.as_ref().map(|c| &c.x) != Some(x)
        {
            problems.push(format!("chart x is not {x}"));
        }
        // Isolation: every activity shown belongs to the asker; nobody else's names.
        if let Some(t) = &answer.table
            && let Some(col) = t.columns.iter().position(|c| c == "id")
        {
            for row in &t.rows {
                let id = row[col].as_i64().unwrap_or(-1);
                if !ids[&athlete].contains(&id) {
                    problems.push(format!("activity {id} is not the asker's"));
                }
            }
        }
        if athlete == DEMO && json.contains(OTHER_MARK) {
            problems.push("shows athlete 2's data".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "#{i} {:?}: {}\n    {json}",
                case.q,
                problems.join("; ")
            ));
        }
    }
    assert_eq!(table_counts(&w.db).await, before, "asking changed data");
    assert!(cases.len() >= 200, "only {} questions", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} questions failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_stored_and_private() {
    let w = world().await;
    let pool = w.db.pool();
    let (id, first) = talk_app::ask::ask(
        pool,
        None,
        DEMO,
        None,
        "how many runs in October 2026",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(first.kind, AnswerKind::Text);
    let (same, _) = talk_app::ask::ask(pool, None, DEMO, Some(id), "and in November?", now())
        .await
        .unwrap();
    assert_eq!(same, id);
    let mut conn = pool.get().await.unwrap();
    let messages = db::chats::messages(&mut conn, id).await.unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0].role.as_str(), "user");
    assert_eq!(messages[1].role.as_str(), "assistant");
    assert!(messages[1].plan.is_some() && messages[1].answer.is_some());
    assert!(messages.iter().all(|m| m.athlete_id == DEMO.get()));
    let listed = db::chats::list(&mut conn, DEMO, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "how many runs in October 2026");
    assert!(
        db::chats::list(&mut conn, OTHER, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Another athlete cannot continue (or read) this conversation.
    let err = talk_app::ask::ask(pool, None, OTHER, Some(id), "and in 2025?", now())
        .await
        .unwrap_err();
    assert!(err.is_bad_request(), "{err:?}");
    // A chosen id that is new starts a conversation with that id.
    let fresh = Uuid::new_v4();
    let (got, _) = talk_app::ask::ask(
        pool,
        None,
        OTHER,
        Some(fresh),
        "how many runs this year",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(got, fresh);
    // Unknown athletes and empty questions are the caller's mistake.
    let err = talk_app::ask::ask(pool, None, AthleteId(999), None, "runs", now())
        .await
        .unwrap_err();
    assert!(err.is_bad_request());
    let err = talk_app::ask::ask(pool, None, DEMO, None, "   ", now())
        .await
        .unwrap_err();
    assert!(err.is_bad_request());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_one_json_line_and_exits_2_on_bad_input() {
    let w = world().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_talk-app"))
            .args(args)
            .env("DATABASE_URL", w.db.url())
            .output()
            .expect("run talk-app")
    };
    let conv = Uuid::new_v4().to_string();
    let out = run(&[
        "ask",
        "--athlete",
        "1",
        "--now",
        NOW,
        "--conversation",
        &conv,
        "how many runs in November 2026?",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim_end().lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["kind"], "text");
    assert!(v["sql"].as_str().unwrap().contains("FROM activities"));
    assert!(v["text"].as_str().unwrap().contains("in November 2026"));
    // The follow-up continues the same conversation.
    let out = run(&[
        "ask",
        "--athlete",
        "1",
        "--now",
        NOW,
        "--conversation",
        &conv,
        "what about rides?",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("rides in November 2026"),
        "{v}"
    );
    // Over the limit, even when only padding: the engine never reads a cut question.
    let long = format!("runs{}this year", " ".repeat(ask::MAX_QUESTION_CHARS));
    for bad in [
        vec!["ask", "--athlete", "1", "--now", NOW, long.as_str()],
        vec!["ask", "--athlete", "424242", "runs this year"],
        vec!["ask", "--athlete", "abc", "runs"],
        vec!["ask", "--athlete", "1", "--now", "yesterday", "runs"],
        vec!["ask", "--athlete", "1"],
        vec![
            "ask",
            "--athlete",
            "2",
            "--conversation",
            &conv,
            "and in 2025?",
        ],
    ] {
        let out = run(&bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_sees_only_the_askers_rows_and_writes_nothing() {
    use ask::Query;
    let w = world().await;
    let mut conn = w.db.conn().await;
    let timeout = std::time::Duration::from_secs(5);
    // Hand-written SQL that forgets the athlete condition still sees one athlete.
    let everyone = Query {
        sql: "SELECT coalesce(json_agg(r), '[]'::json)::text AS result \
              FROM (SELECT DISTINCT athlete_id FROM activities) r"
            .into(),
        binds: vec![],
    };
    let rows = db::questions::run(&mut conn, OTHER, &everyone, timeout)
        .await
        .unwrap();
    assert_eq!(rows, serde_json::json!([{"athlete_id": 2}]));
    // Writes fail: the transaction is read-only and the role may only SELECT.
    let write = Query {
        sql: "WITH d AS (DELETE FROM activities RETURNING id) \
              SELECT count(*)::text AS result FROM d"
            .into(),
        binds: vec![],
    };
    assert!(
        db::questions::run(&mut conn, DEMO, &write, timeout)
            .await
            .is_err()
    );
    // Other tables are out of reach.
    let tokens = Query {
        sql: "SELECT count(*)::text AS result FROM strava_tokens".into(),
        binds: vec![],
    };
    assert!(
        db::questions::run(&mut conn, DEMO, &tokens, timeout)
            .await
            .is_err()
    );
    // A slow query is cancelled by the statement timeout.
    let slow = Query {
        sql: "SELECT pg_sleep(2)::text AS result".into(),
        binds: vec![],
    };
    let err = db::questions::run(
        &mut conn,
        DEMO,
        &slow,
        std::time::Duration::from_millis(100),
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        count(&w.db, "SELECT count(*) AS n FROM activities").await as usize,
        w.demo.len() + w.other.len()
    );
}
