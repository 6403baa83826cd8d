//! Starting the app, signing in, and reading responses.

use chrono::Utc;
use db::AsyncPgConnection;
use domain::AthleteId;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use service::Env;
use talk_app::Settings;
use talk_app::session::SessionKeys;
use testkit::TestDb;

pub const SECRET: &str = "test-session-secret-of-at-least-32-bytes!";
/// The support contact every test app shows.
pub const SUPPORT: &str = "help@stravatalk.example";
/// The demo template: loaded by `seed`, never signed into (visitors get copies).
pub const DEMO: AthleteId = demo::DEMO_ATHLETE_ID;
pub const OTHER: AthleteId = AthleteId(2);

/// A running app with its own database.
pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub http: reqwest::Client,
    pub keys: SessionKeys,
    pub settings: Settings,
}

/// Starts the app with the test settings plus `extra` variables.
pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_with_pool(extra, None).await
}

/// Like [`spawn_with`], on a pool of `pool_size` connections when given.
pub async fn spawn_with_pool(extra: &[(&str, &str)], pool_size: Option<usize>) -> TestApp {
    let db = TestDb::new().await;
    let mut vars = vec![
        ("DATABASE_URL", db.url()),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("SESSION_SECRET", SECRET),
        ("SUPPORT_EMAIL", SUPPORT),
    ];
    vars.extend_from_slice(extra);
    let env = Env::from_pairs(None, talk_app::settings::DEFAULTS, &vars).unwrap();
    let settings = Settings::from_env(&env).unwrap();
    let keys = SessionKeys::new(&settings.web).unwrap();
    let pool = match pool_size {
        Some(size) => db::connect_pool(db.url(), size).unwrap(),
        None => db.pool().clone(),
    };
    let app = talk_app::startup::build(&settings, pool).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        db,
        base,
        http,
        keys,
        settings,
    }
}

/// Starts the app against a database that is not there (nothing listens on port 1):
/// every query fails as with PostgreSQL down. Returns its base URL and session keys.
pub async fn spawn_without_database() -> (String, SessionKeys) {
    let url = "postgres://postgres@127.0.0.1:1/nowhere";
    let vars = [
        ("DATABASE_URL", url),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("SESSION_SECRET", SECRET),
        ("SUPPORT_EMAIL", SUPPORT),
    ];
    let env = Env::from_pairs(None, talk_app::settings::DEFAULTS, &vars).unwrap();
    let settings = Settings::from_env(&env).unwrap();
    let keys = SessionKeys::new(&settings.web).unwrap();
    let pool = db::connect_pool(url, 2).unwrap();
    let app = talk_app::startup::build(&settings, pool).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    (base, keys)
}

/// Starts the app with the test settings.
pub async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

impl TestApp {
    /// A second talk-app on the same database with a pool of its own, as another
    /// replica would run; returns its base URL.
    pub fn replica(&self) -> String {
        let pool = db::connect_pool(self.db.url(), 5).unwrap();
        let app = talk_app::startup::build(&self.settings, pool).unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    /// Another talk-app on this database whose pool holds one connection; returns its
    /// base URL and the pool, so a test can take that connection away.
    pub fn replica_with_one_connection(&self) -> (String, db::Pool) {
        let pool = db::connect_pool(self.db.url(), 1).unwrap();
        let app = talk_app::startup::build(&self.settings, pool.clone()).unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        (base, pool)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        self.db.conn().await
    }

    /// Loads the demo athlete (with activities) and a second, empty athlete.
    pub async fn seed(&self) {
        let mut conn = self.conn().await;
        db::demo::seed(&mut conn, Utc::now()).await.unwrap();
        db::athletes::upsert(
            &mut conn,
            &db::athletes::AthleteUpsert {
                id: OTHER.get(),
                firstname: "Other".into(),
                lastname: "Athlete".into(),
                measurement_preference: domain::Units::Imperial,
                timezone: Some("(GMT-05:00) America/New_York".into()),
                is_demo: false,
            },
        )
        .await
        .unwrap();
    }

    /// A login ticket for `athlete`, as the gateway makes one after OAuth, bound to a
    /// browser; returns the ticket and that browser's pre-login cookie header.
    pub async fn ticket(&self, athlete: AthleteId) -> (String, String) {
        let mut conn = self.conn().await;
        let nonce = db::tickets::random_secret();
        let ticket = db::tickets::create(
            &mut conn,
            athlete,
            std::time::Duration::from_secs(60),
            &db::tickets::binding_of(&nonce),
        )
        .await
        .unwrap();
        let cookie = format!("{}={nonce}", talk_app::pages::auth::LOGIN_COOKIE);
        (ticket, cookie)
    }

    /// Signs `athlete` in through a login ticket, as after OAuth; returns the cookie
    /// header value.
    pub async fn sign_in(&self, athlete: AthleteId) -> String {
        let (ticket, browser) = self.ticket(athlete).await;
        let res = self
            .get(&format!("/auth/complete?ticket={ticket}"), Some(&browser))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/chat");
        session_cookie(&res).expect("a session cookie")
    }

    /// "Try the demo": a fresh copy of the demo athlete; returns the session cookie and
    /// the copy's id.
    pub async fn demo(&self) -> (String, AthleteId) {
        let res = self.post_form("/demo", None, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/chat");
        let cookie = session_cookie(&res).expect("a session cookie");
        let athlete = self.athlete_of(&cookie).await;
        assert!(athlete.get() < 0, "demo copies have negative ids");
        (cookie, athlete)
    }

    /// Creates a personal API token in settings as the signed-in `cookie`; returns
    /// the token, read from the page that shows it once.
    pub async fn create_token(&self, cookie: &str, name: &str) -> String {
        let page = self
            .post_form("/settings/tokens", Some(cookie), &[("name", name)])
            .await
            .text()
            .await
            .unwrap();
        page.split("value=\"")
            .find_map(|s| s.strip_prefix("stk_"))
            .map(|s| format!("stk_{}", &s[..s.find('"').unwrap()]))
            .expect("the new token on the page")
    }

    /// The athlete a session cookie (`name=value`) signs in.
    pub async fn athlete_of(&self, cookie: &str) -> AthleteId {
        let (_, token) = cookie.split_once('=').unwrap();
        let id = self.keys.session_id(token).expect("a valid cookie");
        let mut conn = self.conn().await;
        db::sessions::find_valid(&mut conn, id, Utc::now())
            .await
            .unwrap()
            .expect("a live session")
            .athlete()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    pub async fn post_form(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }
}

/// The `Location` header.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `name=value` of the session cookie the response sets, if it sets a non-empty one.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?.trim();
        let (name, value) = pair.split_once('=')?;
        (name == talk_app::session::COOKIE && !value.is_empty()).then(|| pair.to_owned())
    })
}

/// The raw `Set-Cookie` header for the session cookie.
pub fn set_cookie_header(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(talk_app::session::COOKIE))
        .map(str::to_owned)
}

/// Counts rows of `table` belonging to `athlete` (column `athlete_id`).
pub async fn count(conn: &mut AsyncPgConnection, table: &str, athlete: AthleteId) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = format!("SELECT count(*) AS n FROM {table} WHERE athlete_id = $1");
    diesel::sql_query(sql)
        .bind::<BigInt, _>(athlete.get())
        .get_result::<N>(conn)
        .await
        .unwrap()
        .n
}
