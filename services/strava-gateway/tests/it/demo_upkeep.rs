//! The upkeep sweep deletes talk-app's demo copies once their day is over, with
//! everything of theirs, and leaves live copies and the demo template alone. It also
//! deletes accounts made from an upload once nobody can sign into them.

use crate::sync_support::{Harness, wait_until};
use chrono::Utc;
use db::demo::CopyOutcome;
use std::time::Duration;

async fn athletes(h: &Harness) -> Vec<i64> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = h.db.pool().get().await.unwrap();
    db::schema::athletes::table
        .select(db::schema::athletes::id)
        .order(db::schema::athletes::id)
        .load(&mut conn)
        .await
        .unwrap()
}

/// A client that may hold as many copies as the test makes.
fn anyone() -> db::demo::DemoClient {
    db::demo::DemoClient {
        key: vec![1],
        max_copies: 1000,
    }
}

#[tokio::test]
async fn upkeep_deletes_expired_demo_copies_and_unreachable_upload_accounts_only() {
    let h = Harness::plain(&[("UPKEEP_INTERVAL_SECS", "1")]).await;
    let mut conn = h.db.pool().get().await.unwrap();
    db::demo::seed(&mut conn, Utc::now()).await.unwrap();
    let mut copies = Vec::new();
    for _ in 0..2 {
        match db::demo::create_copy(&mut conn, chrono::Duration::hours(24), 10, &anyone())
            .await
            .unwrap()
        {
            CopyOutcome::Created { athlete, .. } => copies.push(athlete.get()),
            other => panic!("{other:?}"),
        }
    }
    // Accounts made from an upload: one signed in, one whose only session was
    // revoked (signed out) and one that expired, one with an API token only, and one
    // without either whose upload still waits for the worker.
    let mut locals = Vec::new();
    for _ in 0..5 {
        locals.push(
            db::uploads::create_local_athlete(&mut conn)
                .await
                .unwrap()
                .get(),
        );
    }
    let [signed_in, signed_out, lapsed, token_only, importing] = locals[..] else {
        unreachable!()
    };
    db::uploads::create(&mut conn, domain::AthleteId(importing), "export_1.zip")
        .await
        .unwrap();
    drop(conn);
    h.exec(&format!(
        "INSERT INTO app_sessions (id, athlete_id, expires_at, revoked_at) VALUES \
           (gen_random_uuid(), {signed_in}, now() + interval '30 days', NULL), \
           (gen_random_uuid(), {signed_out}, now() + interval '30 days', now()), \
           (gen_random_uuid(), {lapsed}, now() - interval '1 second', NULL)"
    ))
    .await;
    h.exec(&format!(
        "INSERT INTO api_tokens (id, athlete_id, name, token_hash) \
         VALUES (gen_random_uuid(), {token_only}, 'script', '\\x01')"
    ))
    .await;
    let (expired, live) = (copies[0], copies[1]);
    h.exec(&format!(
        "UPDATE athletes SET demo_expires_at = now() - interval '1 second' WHERE id = {expired}"
    ))
    .await;
    let template = demo::DEMO_ATHLETE_ID.get();

    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            !athletes(&h).await.contains(&expired)
        })
        .await,
        "the expired copy is deleted"
    );
    assert!(
        wait_until(Duration::from_secs(20), || async {
            let left = athletes(&h).await;
            !left.contains(&signed_out) && !left.contains(&lapsed)
        })
        .await,
        "upload accounts nobody can sign into are deleted"
    );
    workers.shutdown(Duration::from_secs(5)).await;
    let left = athletes(&h).await;
    assert!(left.contains(&live) && left.contains(&template), "{left:?}");
    assert!(
        left.contains(&signed_in) && left.contains(&token_only) && left.contains(&importing),
        "{left:?}"
    );
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = h.db.pool().get().await.unwrap();
    let orphans: N = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM activities WHERE athlete_id = {expired}"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(orphans.n, 0);
}
