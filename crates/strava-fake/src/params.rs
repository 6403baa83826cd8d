//! Request parameters the way Strava takes them: in the query string or in the body,
//! which may be URL-encoded, JSON or multipart (Strava's own examples use `curl -F`).

use crate::json::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, Query};
use std::collections::HashMap;

/// Body size accepted by endpoints that read one.
pub const MAX_BODY: usize = 64 * 1024;

/// Merged parameters; body values win over query values.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Reads the query string and the body.
    pub fn read(req: &HttpRequest, body: &Bytes) -> Result<Self, ApiError> {
        let mut map = parse_urlencoded(req.query_string())?;
        if !body.is_empty() {
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("Request", "body", "invalid"))?;
            let from_body = if content_type.starts_with("application/json") {
                parse_json(text)?
            } else if content_type.starts_with("multipart/form-data") {
                parse_multipart(text, &content_type)?
            } else {
                parse_urlencoded(text)?
            };
            map.extend(from_body);
        }
        Ok(Self(map))
    }

    /// Only the query string.
    pub fn query(req: &HttpRequest) -> Result<Self, ApiError> {
        Ok(Self(parse_urlencoded(req.query_string())?))
    }

    /// A value, trimmed; empty counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A required value, else 400 naming the field.
    pub fn require(&self, resource: &str, key: &str) -> Result<&str, ApiError> {
        self.get(key)
            .ok_or_else(|| ApiError::bad_request(resource, key, "missing"))
    }

    /// An optional integer; a present but malformed one is a 400.
    pub fn int(&self, resource: &str, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(resource, key, "invalid")),
        }
    }
}

fn parse_urlencoded(s: &str) -> Result<HashMap<String, String>, ApiError> {
    Query::<Vec<(String, String)>>::from_query(s)
        .map(|q| q.into_inner().into_iter().collect())
        .map_err(|_| ApiError::bad_request("Request", "query", "invalid"))
}

fn parse_json(s: &str) -> Result<HashMap<String, String>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_str(s).map_err(|_| ApiError::bad_request("Request", "body", "invalid"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Request", "body", "invalid"))?;
    Ok(obj
        .iter()
        .filter_map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k.clone(), s))
        })
        .collect())
}

/// Enough of multipart/form-data for text fields.
fn parse_multipart(body: &str, content_type: &str) -> Result<HashMap<String, String>, ApiError> {
    let bad = || ApiError::bad_request("Request", "body", "invalid");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(bad)?;
    // The boundary was lower-cased with the header; find it case-insensitively.
    let delimiter = format!("--{boundary}");
    let lower = body.to_ascii_lowercase();
    let mut out = HashMap::new();
    let starts: Vec<usize> = lower.match_indices(&delimiter).map(|(i, _)| i).collect();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))
            .map(|n| {
                n.split("\r\n")
                    .next()
                    .unwrap_or(n)
                    .trim_matches('"')
                    .to_string()
            });
        if let Some(name) = name {
            out.insert(name, value.trim_end_matches("\r\n").to_string());
        }
    }
    Ok(out)
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` with `pairs` appended to its query string.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let mut out = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in pairs {
        out.push(sep);
        out.push_str(&encode(k));
        out.push('=');
        out.push_str(&encode(v));
        sep = '&';
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_text_fields() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n1234\r\n--XyZ\r\nContent-Disposition: form-data; name=\"verify_token\"\r\n\r\na b\r\n--XyZ--\r\n";
        let m = parse_multipart(body, "multipart/form-data; boundary=xyz").unwrap();
        assert_eq!(m.get("client_id").map(String::as_str), Some("1234"));
        assert_eq!(m.get("verify_token").map(String::as_str), Some("a b"));
    }

    #[test]
    fn query_appending() {
        assert_eq!(
            with_query("http://x/cb?a=1#f", &[("state", "s t"), ("code", "c")]),
            "http://x/cb?a=1&state=s%20t&code=c#f"
        );
    }
}
