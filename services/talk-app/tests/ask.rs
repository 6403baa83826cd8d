//! The question engine end to end against a real database: the question set,
//! conversations, isolation between athletes, and the `talk-app ask` command.
//!
//! The question set is split by origin: `questions.json` (the first set, shape
//! "legacy"), `questions_real.json` (phrasings found in public projects, each with its
//! source), `questions_wild.json` (phrasings from sources used for nothing else,
//! collected and labelled before the engine was tuned on them, each with its source;
//! kinds only, no figures), `questions_shapes.json` (every shape of question the engine must answer,
//! follow-ups and data we do not store) and `questions_unhandled.json` (a handled
//! question plus one phrase the engine cannot use: it must decline). Each case comes out
//! correct, declined (asked back or said it cannot answer, where an answer was
//! expected) or wrong; the test fails on any wrong and on any legacy case not correct,
//! and writes a per-shape table to `target/ask-report.txt`.
//!
//! The database holds the demo athlete (id 1, metric, Paris, three years) and a second
//! athlete (id 2, imperial, New York, one year of other activities, every name
//! ending in "(athlete 2)", no calories: Strava's activity list leaves them out).
//! Expected figures are computed in `ask/figure.rs` from the same generated
//! activities in plain Rust, independently of the SQL the engine writes.
//! Set `ASK_PRINT=1` to print every answer.

#[path = "ask/figure.rs"]
mod figure;
#[path = "ask/report.rs"]
mod report;

use ask::AnswerKind;
use chrono::{DateTime, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, Units};
use figure::{Cell, Figure};
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
                a.calories = None;
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

/// What a case expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Text,
    Table,
    Clarify,
    Unsupported,
    /// Honesty: the answer must ask back or say what it cannot do (clarify or
    /// unsupported), never a confident text or table.
    Decline,
}

impl Expect {
    fn kind(self) -> Option<AnswerKind> {
        match self {
            Self::Text => Some(AnswerKind::Text),
            Self::Table => Some(AnswerKind::Table),
            Self::Clarify => Some(AnswerKind::Clarify),
            Self::Unsupported => Some(AnswerKind::Unsupported),
            Self::Decline => None,
        }
    }
}

/// One case of the question set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    q: String,
    #[serde(default = "demo_id")]
    athlete: i64,
    /// Cases of one file with the same name share a conversation, in file order.
    conv: Option<String>,
    kind: Expect,
    /// Which shape of question this is, for the per-shape report.
    #[serde(default = "legacy")]
    shape: String,
    /// Where a real phrasing was found (a URL or owner/repo:path).
    source: Option<String>,
    /// Why the expectation is what it is, where a reader could doubt it.
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    not_contains: Vec<String>,
    /// A key figure computed from the generated activities; must appear in bold.
    figure: Option<Figure>,
    /// More key figures (both sides of a comparison); each must appear in bold.
    #[serde(default)]
    figures: Vec<Figure>,
    /// Table cells that must hold a figure (a per-weekday average, a month's total).
    #[serde(default)]
    cells: Vec<Cell>,
    /// The table lists exactly these activities.
    ids: Option<Figure>,
    /// Every activity the table lists is one of these, and it lists at least one.
    within: Option<Figure>,
    /// Expected number of table rows.
    rows: Option<usize>,
    /// Expected table columns (a subset, in any order).
    #[serde(default)]
    columns: Vec<String>,
    /// Expected chart x column.
    chart_x: Option<String>,
    /// The answer draws a chart (a series), whatever its x column.
    #[serde(default)]
    series: bool,
}

fn demo_id() -> i64 {
    DEMO.get()
}

fn legacy() -> String {
    LEGACY.into()
}

const LEGACY: &str = "legacy";

/// The question files, by origin; conversations never span files.
const FILES: [(&str, &str); 5] = [
    ("questions.json", include_str!("questions.json")),
    ("questions_real.json", include_str!("questions_real.json")),
    (
        "questions_shapes.json",
        include_str!("questions_shapes.json"),
    ),
    (
        "questions_unhandled.json",
        include_str!("questions_unhandled.json"),
    ),
    ("questions_wild.json", include_str!("questions_wild.json")),
];

/// How one case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Correct,
    /// Asked back or said it cannot answer, where an answer was expected: honest.
    Declined,
    /// A confident answer that fails a check, or one where a decline was expected.
    Wrong,
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
    let mut cases: Vec<(&str, Case)> = Vec::new();
    for (file, text) in FILES {
        let parsed: Vec<Case> =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{file} parses: {e}"));
        cases.extend(parsed.into_iter().map(|c| (file, c)));
    }
    let mut broken: Vec<String> = cases
        .iter()
        .filter(|(file, c)| {
            matches!(*file, "questions_real.json" | "questions_wild.json") && c.source.is_none()
        })
        .map(|(_, c)| format!("{:?}: a real phrasing needs its source", c.q))
        .collect();
    let before = table_counts(&w.db).await;
    let print = std::env::var_os("ASK_PRINT").is_some();
    let mut conversations: HashMap<String, Uuid> = HashMap::new();
    let mut tally = report::Tally::default();
    let ids: HashMap<AthleteId, HashSet<i64>> = [DEMO, OTHER]
        .into_iter()
        .map(|a| (a, w.activities(a).iter().map(|x| x.id.get()).collect()))
        .collect();

    for (i, (file, case)) in cases.iter().enumerate() {
        let athlete = AthleteId(case.athlete);
        let conversation = case.conv.as_ref().map(|name| {
            *conversations
                .entry(format!("{file}/{}/{name}", case.athlete))
                .or_insert_with(Uuid::new_v4)
        });
        let result =
            talk_app::ask::ask(w.db.pool(), None, athlete, conversation, &case.q, now()).await;
        let answer = match result {
            Ok((_, a)) => a,
            Err(e) => {
                broken.push(format!("#{i} {:?}: error {e:?}", case.q));
                continue;
            }
        };
        let json = serde_json::to_string(&answer).unwrap();
        if print {
            println!("#{i} [{}] {}\n    {json}", case.athlete, case.q);
        }
        let all = w.activities(athlete);
        let problems = match check(case, &answer, &json, all, athlete, &ids[&athlete]) {
            Ok(p) => p,
            Err(e) => {
                broken.push(format!("#{i} {:?} ({file}): bad case: {e}", case.q));
                continue;
            }
        };
        let verdict = verdict(case.kind, &answer, &problems);
        let leaked = problems.iter().any(|p| p.starts_with(LEAK));
        tally.add(
            file,
            &case.shape,
            verdict,
            report::Line {
                index: i,
                question: case.q.clone(),
                legacy: case.shape == LEGACY,
                problems: problems.join("; "),
                answer: json,
            },
        );
        if leaked {
            broken.push(format!("#{i} {:?}: {}", case.q, problems.join("; ")));
        }
    }
    assert_eq!(table_counts(&w.db).await, before, "asking changed data");
    let summary = tally.render();
    println!("{summary}");
    let path = report::path();
    std::fs::write(&path, &summary).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    assert!(cases.len() >= 600, "only {} questions", cases.len());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(
        tally.passes(),
        "{} wrong, {} legacy not correct (report in {})",
        tally.wrong(),
        tally.legacy_failures(),
        path.display()
    );
}

/// A problem that is never only the engine misreading a question: another
/// athlete's data in the answer.
const LEAK: &str = "isolation:";

/// Everything about the answer that does not match the case; Err when the case
/// itself is unsound (a figure over no activities).
fn check(
    case: &Case,
    answer: &ask::Answer,
    json: &str,
    all: &[Activity],
    athlete: AthleteId,
    own: &HashSet<i64>,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    // Outside the first set a sentence and a table are both answers: the figures,
    // rows and ids say whether it is the right one.
    let confident = |k: AnswerKind| matches!(k, AnswerKind::Text | AnswerKind::Table);
    if let Some(kind) = case.kind.kind()
        && answer.kind != kind
        && (case.shape == LEGACY || !(confident(kind) && confident(answer.kind)))
    {
        problems.push(format!("kind {:?}, expected {kind:?}", answer.kind));
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
    let units = if athlete == OTHER {
        Units::Imperial
    } else {
        Units::Metric
    };
    for f in case.figure.iter().chain(&case.figures) {
        let alts = f.expected(all, units)?;
        let zero_count = f.agg == "count" && alts[0] == "0";
        let found = alts
            .iter()
            .any(|a| answer.text.contains(&format!("**{a}**")))
            || (zero_count && answer.text.contains("You have no"));
        if !found {
            problems.push(format!("text lacks figure **{}**", alts[0]));
        }
    }
    let table = answer.table.as_ref();
    if let Some(n) = case.rows {
        let got = table.map_or(0, |t| t.rows.len());
        if got != n {
            problems.push(format!("{got} rows, expected {n}"));
        }
    }
    for c in &case.columns {
        if !table.is_some_and(|t| t.columns.contains(c)) {
            problems.push(format!("no column {c}"));
        }
    }
    for cell in &case.cells {
        let want = cell.want(all)?;
        if let Err(e) = cell_holds(table, &cell.x, &cell.column, want) {
            problems.push(e);
        }
    }
    if let Some(x) = &case.chart_x
        && answer.chart.as_ref().map(|c| &c.x) != Some(x)
    {
        problems.push(format!("chart x is not {x}"));
    }
    if case.series && answer.chart.is_none() {
        problems.push("no chart".into());
    }
    let shown = table_ids(table);
    if let Some(f) = &case.ids {
        let want = f.ids(all);
        if want.is_empty() || case.rows.is_some_and(|n| n != want.len()) {
            return Err(format!("ids over {} activities", want.len()));
        }
        match &shown {
            Some(got) if *got == want => {}
            Some(got) => problems.push(format!(
                "lists {} activities, expected {} ({} missing, {} extra)",
                got.len(),
                want.len(),
                want.difference(got).count(),
                got.difference(&want).count()
            )),
            None => problems.push("no table of activities".into()),
        }
    }
    if let Some(f) = &case.within {
        let allowed = f.ids(all);
        match &shown {
            Some(got) if !got.is_empty() && got.is_subset(&allowed) => {}
            Some(got) => problems.push(format!(
                "lists {} activities, {} outside the expected set",
                got.len(),
                got.difference(&allowed).count()
            )),
            None => problems.push("no table of activities".into()),
        }
    }
    // Isolation: every activity shown belongs to the asker; nobody else's names.
    for id in shown.iter().flatten() {
        if !own.contains(id) {
            problems.push(format!("{LEAK} activity {id} is not the asker's"));
        }
    }
    if athlete == DEMO && json.contains(OTHER_MARK) {
        problems.push(format!("{LEAK} shows athlete 2's data"));
    }
    Ok(problems)
}

/// The activity ids a table lists, when it has an id column.
fn table_ids(table: Option<&ask::Table>) -> Option<BTreeSet<i64>> {
    let t = table?;
    let col = t.columns.iter().position(|c| c == "id")?;
    Some(
        t.rows
            .iter()
            .map(|r| r[col].as_i64().unwrap_or(-1))
            .collect(),
    )
}

/// Whether the row labelled `x` holds `want` in `column`, within rounding.
fn cell_holds(table: Option<&ask::Table>, x: &str, column: &str, want: f64) -> Result<(), String> {
    let t = table.ok_or("no table")?;
    let col = t
        .columns
        .iter()
        .position(|c| c == column)
        .ok_or(format!("no column {column}"))?;
    let label = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    };
    let row = t
        .rows
        .iter()
        .find(|r| r.iter().any(|v| label(v) == x.to_lowercase()))
        .ok_or(format!("no row {x}"))?;
    let got = row[col]
        .as_f64()
        .ok_or(format!("{column} of {x} is not a number"))?;
    let tolerance = (want.abs() * 0.005).max(0.011);
    if (got - want).abs() <= tolerance {
        Ok(())
    } else {
        Err(format!("{column} of {x} is {got}, expected {want:.2}"))
    }
}

/// Correct when every check passes; declined when it asked back or said it could
/// not answer instead of answering; wrong otherwise. A sentence that ran no query
/// and shows no table ("I didn't understand") claims nothing about the data, so it
/// counts as honest too.
fn verdict(expect: Expect, answer: &ask::Answer, problems: &[String]) -> Verdict {
    let honest = matches!(answer.kind, AnswerKind::Clarify | AnswerKind::Unsupported)
        || (answer.sql.is_none() && answer.table.is_none());
    match expect {
        Expect::Decline if honest => Verdict::Correct,
        Expect::Decline => Verdict::Wrong,
        _ if problems.is_empty() => Verdict::Correct,
        _ if honest => Verdict::Declined,
        _ => Verdict::Wrong,
    }
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
    let rows = talk_app::ask::run_query(&mut conn, OTHER, &everyone, timeout)
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
        talk_app::ask::run_query(&mut conn, DEMO, &write, timeout)
            .await
            .is_err()
    );
    // Other tables are out of reach.
    let tokens = Query {
        sql: "SELECT count(*)::text AS result FROM strava_tokens".into(),
        binds: vec![],
    };
    assert!(
        talk_app::ask::run_query(&mut conn, DEMO, &tokens, timeout)
            .await
            .is_err()
    );
    // A slow query is cancelled by the statement timeout.
    let slow = Query {
        sql: "SELECT pg_sleep(2)::text AS result".into(),
        binds: vec![],
    };
    let err = talk_app::ask::run_query(
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

/// Every follow-up offered under an answer is one the engine answers: asked right after
/// its answer, on the demo data, none is asked back, declined or refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggested_follow_ups_are_answered() {
    let w = world().await;
    let pool = w.db.pool();
    let paris = domain::dates::parse_strava_timezone(demo::DEMO_TIMEZONE).unwrap();
    let ctx = ask::Context {
        today: domain::dates::today(now(), paris),
        units: Units::Metric,
        previous: None,
    };
    let mut offered = 0;
    for base in [
        "How many runs did I do last month?",
        "Show my runs last week",
        "Weekly running distance this year as a chart",
        "What was my longest run?",
        "how far did I ride in 2025",
        "total elevation this year",
        "average pace of my runs this month",
        "how many activities",
        "how long did I swim this year",
        "monthly ride distance in 2025",
        "my last 3 rides",
    ] {
        let (id, answer) = talk_app::ask::ask(pool, None, DEMO, None, base, now())
            .await
            .unwrap();
        assert!(
            matches!(answer.kind, AnswerKind::Text | AnswerKind::Table),
            "{base}: {answer:?}"
        );
        let conn = pool.get().await.unwrap();
        let db::chats::Opened::Existing { plan: Some(plan) } =
            db::chats::open(&conn, id, DEMO).await.unwrap()
        else {
            panic!("{base}: no plan stored");
        };
        let plan: ask::Plan = serde_json::from_value(plan).unwrap();
        drop(conn);
        let suggestions = ask::suggestions(&plan, &ctx);
        assert!(
            (2..=ask::suggest::MAX_SUGGESTIONS).contains(&suggestions.len()),
            "{base}: two or three follow-ups, got {suggestions:?}"
        );
        for s in &suggestions {
            // Each one right after the base answer, as the button under it asks it.
            talk_app::ask::ask(pool, None, DEMO, Some(id), base, now())
                .await
                .unwrap();
            let (_, follow) = talk_app::ask::ask(pool, None, DEMO, Some(id), s, now())
                .await
                .unwrap();
            assert!(
                matches!(follow.kind, AnswerKind::Text | AnswerKind::Table)
                    && follow.read_as != "not answered",
                "{base} -> {s}: {follow:?}"
            );
            offered += 1;
        }
    }
    assert!(offered >= 22, "{offered} follow-ups offered");
}
