//! Activities as the (fake) Strava API sends them convert to exactly what Strava
//! holds, with the local start time unshifted.

use super::sync_support::Harness;
use chrono::{NaiveDate, TimeZone, Utc};
use domain::{ActivityId, ActivitySource};
use strava_fake::{NewActivity, NewAthlete};
use strava_gateway::convert::activity_from_strava;
use strava_gateway::strava::StravaClient;

#[tokio::test(flavor = "multi_thread")]
async fn listed_and_detailed_activities_convert_with_local_time_unshifted() {
    let h = Harness::plain(&[]).await;
    let athlete = h
        .fake
        .add_athlete(NewAthlete {
            firstname: "Conv".into(),
            timezone: "(GMT+09:00) Asia/Tokyo".into(),
            ..NewAthlete::default()
        })
        .unwrap();
    h.store_athlete(athlete, "Conv").await;
    h.fake.generate_activities(athlete, 30).unwrap();
    // Late evening in Tokyo is still the morning in UTC: a shifted local time would
    // land on another day.
    let id = h
        .fake
        .upload_activity(
            athlete,
            NewActivity {
                name: Some("Evening run".into()),
                sport_type: "Run".into(),
                start_date: Some(Utc.with_ymd_and_hms(2026, 3, 1, 13, 30, 0).unwrap()),
                ..NewActivity::default()
            },
        )
        .unwrap();
    let client = StravaClient::new(&h.settings.strava, h.db.pool().clone());
    let access = {
        let mut conn = h.db.pool().get().await.unwrap();
        db::tokens::load(&mut conn, &h.settings.token_cipher, athlete, false)
            .await
            .unwrap()
            .unwrap()
            .access_token
    };

    let listed = client
        .list_activities(&access, 1, 200, None, None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 31);
    for item in &listed {
        let read = item.activity.as_ref().unwrap();
        // The object is kept as sent, and reads the same through the import path.
        assert_eq!(
            activity_from_strava(&read.raw, ActivitySource::Api).unwrap(),
            read.to_activity(ActivitySource::Api)
        );
        let mut got = read.to_activity(ActivitySource::Api);
        let mut want = h.fake.activity(got.id).unwrap();
        // Strava's summary has no calories or device; the source is ours to set.
        got.calories = None;
        want.calories = None;
        want.device_name = None;
        want.source = ActivitySource::Api;
        assert_eq!(got, want);
    }

    let detailed = client.get_activity(&access, id).await.unwrap().unwrap();
    let a = detailed.to_activity(ActivitySource::Api);
    assert_eq!(a.name, "Evening run");
    assert_eq!(
        a.start_date,
        Utc.with_ymd_and_hms(2026, 3, 1, 13, 30, 0).unwrap()
    );
    assert_eq!(
        a.start_date_local,
        NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(22, 30, 0)
            .unwrap()
    );
    assert_eq!(a.timezone.as_deref(), Some("(GMT+09:00) Asia/Tokyo"));

    assert_eq!(
        client
            .get_activity(&access, ActivityId(424_242_424))
            .await
            .unwrap(),
        None
    );
}
