//! Helpers for tests that run a service binary as a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, ExitStatus};
use std::time::{Duration, Instant};

/// Reads the child's JSON log lines (`LOG_FORMAT=json`) until one carries a `port`
/// field, the "listening" line, and returns that port.
pub fn listening_port(stderr: ChildStderr) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let port = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v["port"].as_u64());
            if let Some(port) = port {
                let _ = tx.send(port as u16);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("a `listening` log line with the port")
}

/// Sends SIGTERM and waits for the exit; `None` (and a kill) when it takes over `timeout`.
pub fn terminate(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}
