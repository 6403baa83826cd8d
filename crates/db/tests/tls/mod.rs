//! `sslmode` against real PostgreSQL servers: each test starts its own throwaway
//! cluster (TLS-only with a certificate from a test CA, or without TLS at all).

use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use testkit::{Accepts, TlsServer};

/// Whether this connection's session is encrypted, as the server sees it.
async fn server_says_tls(conn: &mut AsyncPgConnection) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = Bool)]
        ssl: bool,
    }
    diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Ssl>(conn)
        .await
        .unwrap()
        .ssl
}

async fn connect_error(url: &str) -> String {
    match db::connect(url).await {
        Ok(_) => panic!("connected with {url}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_tls_only_server_takes_require_and_prefer_and_refuses_disable() {
    let server = TlsServer::start("modes", Accepts::TlsOnly);

    let require = server.url("127.0.0.1", "sslmode=require");
    let mut conn = db::connect(&require).await.unwrap();
    assert!(server_says_tls(&mut conn).await);
    // Migrations, through the same function, over TLS.
    diesel::sql_query("CREATE DATABASE app")
        .execute(&mut conn)
        .await
        .unwrap();
    let app = require.replace("/postgres?", "/app?");
    let applied = db::migrate::run_pending(&app).await.unwrap();
    assert_eq!(applied, db::migrate::embedded_versions());
    // The pool (and so the workers' listener and /readyz) as well.
    let pool = db::connect_pool(&app, 2).unwrap();
    let mut pooled = pool.get().await.unwrap();
    assert!(server_says_tls(&mut pooled).await);
    assert!(db::migrate::pending(&mut pooled).await.unwrap().is_empty());

    // No sslmode is libpq's `prefer`: TLS, since the server offers it.
    let mut preferred = db::connect(&server.url("127.0.0.1", "application_name=t"))
        .await
        .unwrap();
    assert!(server_says_tls(&mut preferred).await);

    // The server takes nothing else, which is what makes the above worth showing.
    let plain = connect_error(&server.url("127.0.0.1", "sslmode=disable")).await;
    assert!(
        plain.contains("no pg_hba.conf entry") && plain.contains("no encryption"),
        "{plain}"
    );
}

#[tokio::test]
async fn verify_modes_check_the_certificate_authority_and_the_host_name() {
    let server = TlsServer::start("verify", Accepts::TlsOnly);
    let (ca, other_ca) = (server.ca_file(), server.other_ca_file());

    let full = format!("sslmode=verify-full&sslrootcert={ca}");
    let mut conn = db::connect(&server.url("localhost", &full)).await.unwrap();
    assert!(server_says_tls(&mut conn).await);

    let wrong_ca = connect_error(&server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other_ca}"),
    ))
    .await;
    assert!(
        wrong_ca.contains("TLS handshake")
            && wrong_ca.contains("UnknownIssuer")
            && wrong_ca.contains("not signed by a CA in sslrootcert"),
        "{wrong_ca}"
    );
    // The machine's CA bundle does not know the test CA either.
    let system = connect_error(&server.url("localhost", "sslmode=verify-full")).await;
    assert!(
        system.contains("UnknownIssuer") && system.contains("machine's CA bundle"),
        "{system}"
    );

    // Same server, reached by an address its certificate does not name.
    let wrong_host = connect_error(&server.url("127.0.0.1", &full)).await;
    assert!(
        wrong_host.contains("TLS handshake")
            && wrong_host.contains("not valid for name \"127.0.0.1\""),
        "{wrong_host}"
    );
    // verify-ca checks the chain only, so the address is fine there...
    let chain_only = format!("sslmode=verify-ca&sslrootcert={ca}");
    let mut conn = db::connect(&server.url("127.0.0.1", &chain_only))
        .await
        .unwrap();
    assert!(server_says_tls(&mut conn).await);
    // ...but not a foreign CA; and `require` with a root file checks it, as in libpq.
    for mode in ["verify-ca", "require"] {
        let err = connect_error(&server.url(
            "127.0.0.1",
            &format!("sslmode={mode}&sslrootcert={other_ca}"),
        ))
        .await;
        assert!(err.contains("UnknownIssuer"), "{mode}: {err}");
    }
}

#[tokio::test]
async fn prefer_falls_back_to_plain_where_the_server_has_no_tls_and_require_refuses() {
    let cluster = pg_cluster::Cluster::start(
        &std::env::temp_dir(),
        &format!("stravatalk-plain-{}", std::process::id()),
        &pg_cluster::Options::default().setting("ssl", "off"),
    )
    .unwrap_or_else(|e| panic!("cannot start the PostgreSQL this test needs: {e}"));

    let mut conn = db::connect(&cluster.url()).await.unwrap();
    assert!(!server_says_tls(&mut conn).await);

    let err = connect_error(&format!("{}?sslmode=require", cluster.url())).await;
    assert!(err.contains("server does not support TLS"), "{err}");
}
