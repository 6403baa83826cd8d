//! Helpers for tests that run a service binary as a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, ExitStatus};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reads the child's JSON log lines (`LOG_FORMAT=json`) until one carries a `port`
/// field, the "listening" line, and returns that port.
pub fn listening_port(stderr: ChildStderr) -> u16 {
    follow_logs(stderr).port()
}

/// A child's log lines, collected as they are written.
pub struct Logs {
    lines: Arc<Mutex<Vec<String>>>,
    port: Receiver<u16>,
}

impl Logs {
    /// Waits for the "listening" line and returns its port.
    pub fn port(&self) -> u16 {
        self.port
            .recv_timeout(Duration::from_secs(20))
            .expect("a `listening` log line with the port")
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Collects the child's stderr lines in the background.
pub fn follow_logs(stderr: ChildStderr) -> Logs {
    let (tx, port) = std::sync::mpsc::channel();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let found = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v["port"].as_u64());
            if let Some(p) = found {
                let _ = tx.send(p as u16);
            }
            if let Ok(mut l) = sink.lock() {
                l.push(line);
            }
        }
    });
    Logs { lines, port }
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
