//! Benchmark: what each `sslmode` costs to open a connection, against a throwaway
//! cluster of its own that offers TLS (certificate from a test CA) and takes plain too.
//! Run with `cargo xtask bench` (release build; needs the PostgreSQL server binaries).

use std::time::{Duration, Instant};
use testkit::{Accepts, TlsServer};

const CONNECTIONS: usize = 200;

#[tokio::main]
async fn main() {
    let server = TlsServer::start("bench", Accepts::TlsOrPlain);
    let ca = server.ca_file();
    let modes = [
        ("disable", server.url("127.0.0.1", "sslmode=disable")),
        ("prefer (default)", server.url("127.0.0.1", "")),
        ("require", server.url("127.0.0.1", "sslmode=require")),
        (
            "verify-full",
            server.url(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
        ),
    ];
    println!("connect_latency: {CONNECTIONS} connections per sslmode, one after another");
    for (name, url) in &modes {
        // The URL is read once, as the pool does; only opening is timed.
        let options = db::ConnectOptions::from_url(url).expect("url");
        let mut took = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let start = Instant::now();
            let conn = options.connect().await.expect("connect");
            took.push(start.elapsed());
            drop(conn);
        }
        took.sort();
        let mean = took.iter().sum::<Duration>() / CONNECTIONS as u32;
        println!(
            "  {name:<17} mean {:>6.2} ms  p50 {:>6.2} ms  p95 {:>6.2} ms",
            ms(mean),
            ms(took[CONNECTIONS / 2]),
            ms(took[CONNECTIONS * 95 / 100])
        );
    }
    // verify-* without sslrootcert reads the machine's CA bundle once per URL parse.
    let start = Instant::now();
    let parsed = db::ConnectOptions::from_url(&server.url("localhost", "sslmode=verify-full"));
    println!(
        "  reading a verify-full URL with the machine's CA bundle: {:.2} ms ({})",
        ms(start.elapsed()),
        if parsed.is_ok() {
            "bundle found"
        } else {
            "no bundle"
        }
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
