//! A fake OpenAI-compatible chat-completions server on 127.0.0.1, for tests of the
//! optional language-model fallback. It answers `POST /v1/chat/completions` with
//! scripted replies and records every request body it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this text as the assistant message's content.
    Content(String),
    /// This HTTP status with a short error body.
    Status(u16),
    /// Wait this long, then answer like `Content`.
    Slow(Duration, String),
    /// Wait until [`FakeLlm::release`] is called, then answer like `Content`.
    Held(String),
}

/// A running fake; it serves until the test process ends.
pub struct FakeLlm {
    port: u16,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
    gate: Arc<Gate>,
}

/// Holds `Reply::Held` answers until opened.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl FakeLlm {
    /// Starts serving `replies` in order; the last one repeats.
    pub fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind fake LLM");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let gate = Arc::new(Gate::default());
        let held = gate.clone();
        std::thread::spawn(move || {
            for (next, stream) in listener.incoming().flatten().enumerate() {
                let reply = replies
                    .get(next)
                    .or(replies.last())
                    .cloned()
                    .unwrap_or(Reply::Status(500));
                let seen = seen.clone();
                let held = held.clone();
                std::thread::spawn(move || serve(stream, &reply, &seen, &held));
            }
        });
        Self {
            port,
            requests,
            gate,
        }
    }

    /// Lets every held reply (now and later) go out.
    pub fn release(&self) {
        *self.gate.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.gate.opened.notify_all();
    }

    /// The base URL to configure as `LLM_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, reply: &Reply, seen: &Mutex<Vec<serde_json::Value>>, gate: &Gate) {
    let mut reader = BufReader::new(stream);
    let mut content_length = 0usize;
    let mut line = String::new();
    // Request line and headers.
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    if let (Ok(json), Ok(mut s)) = (serde_json::from_slice(&body), seen.lock()) {
        s.push(json);
    }
    let (status, payload) = match reply {
        Reply::Status(code) => (
            *code,
            serde_json::json!({"error": {"message": "scripted failure"}}),
        ),
        Reply::Content(text) => (200, completion(text)),
        Reply::Slow(delay, text) => {
            std::thread::sleep(*delay);
            (200, completion(text))
        }
        Reply::Held(text) => {
            gate.wait();
            (200, completion(text))
        }
    };
    let body = payload.to_string();
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn completion(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake",
        "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant", "content": text } }],
    })
}
