//! Configuration sources, in order of precedence: environment variables, an optional
//! TOML file (keys are the variable names in lower case), then the service's defaults.
//! Each service reads only what the subcommand at hand needs, into a typed struct;
//! a missing or malformed value stops start-up with the variable's name.

use ::config::{Config, Environment, File, FileFormat};
use domain::Secret;
use std::fmt::Display;
use std::path::Path;
use std::str::FromStr;

/// A configuration problem, naming the variable; never the value of a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The merged configuration sources.
#[derive(Debug, Clone)]
pub struct Env {
    merged: Config,
}

impl Env {
    /// Reads defaults, then `file` (when given; it must exist), then the environment.
    pub fn load(file: Option<&Path>, defaults: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::build(file, defaults, Environment::default())
    }

    /// Like [`Env::load`] but with the given variables in place of the process
    /// environment (for tests).
    pub fn from_pairs(
        file: Option<&Path>,
        defaults: &[(&str, &str)],
        vars: &[(&str, &str)],
    ) -> Result<Self, ConfigError> {
        let map = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::build(file, defaults, Environment::default().source(Some(map)))
    }

    fn build(
        file: Option<&Path>,
        defaults: &[(&str, &str)],
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let mut builder = Config::builder();
        for (key, value) in defaults {
            builder = builder
                .set_default(key.to_ascii_lowercase(), *value)
                .map_err(|e| ConfigError::Invalid {
                    var: "defaults",
                    reason: e.to_string(),
                })?;
        }
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    reason: "not found".into(),
                });
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let merged = builder
            .add_source(environment)
            .build()
            .map_err(|e| ConfigError::File {
                path: file.map(|p| p.display().to_string()).unwrap_or_default(),
                reason: e.to_string(),
            })?;
        Ok(Self { merged })
    }

    fn raw(&self, var: &'static str) -> Option<String> {
        self.merged
            .get_string(&var.to_ascii_lowercase())
            .ok()
            .filter(|v| !v.trim().is_empty())
    }

    /// A value that must be present and parse.
    pub fn required<T>(&self, var: &'static str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let raw = self.raw(var).ok_or(ConfigError::Missing { var })?;
        parse(var, &raw)
    }

    /// A value that may be absent; when present it must parse.
    pub fn optional<T>(&self, var: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.raw(var).map(|raw| parse(var, &raw)).transpose()
    }

    /// An http(s) base URL, without its trailing slash, when set. A bare host (what
    /// Render's `fromService … property: host` gives) means `https://{host}`.
    pub fn url(&self, var: &'static str) -> Result<Option<String>, ConfigError> {
        self.raw(var).map(|raw| base_url(var, &raw)).transpose()
    }

    /// A secret that must be present. Its value appears in no error or log.
    pub fn secret(&self, var: &'static str) -> Result<Secret<String>, ConfigError> {
        self.raw(var)
            .map(Secret::new)
            .ok_or(ConfigError::Missing { var })
    }

    /// A secret that may be absent.
    pub fn optional_secret(&self, var: &'static str) -> Option<Secret<String>> {
        self.raw(var).map(Secret::new)
    }
}

fn base_url(var: &'static str, raw: &str) -> Result<String, ConfigError> {
    let raw = raw.trim();
    let raw = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let parsed = url::Url::parse(&raw).map_err(|e| ConfigError::Invalid {
        var,
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
    {
        return Err(ConfigError::Invalid {
            var,
            reason: "must be an http:// or https:// URL without a query".into(),
        });
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn parse<T>(var: &'static str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    raw.trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            var,
            reason: format!("{raw:?}: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_beats_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("stravatalk-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "port = 7000\nlog_format = \"json\"\n").unwrap();
        let env = Env::from_pairs(
            Some(&file),
            &[("PORT", "8080"), ("BIND_ADDRESS", "0.0.0.0")],
            &[("PORT", "9000")],
        )
        .unwrap();
        assert_eq!(env.required::<u16>("PORT").unwrap(), 9000);
        assert_eq!(env.required::<String>("LOG_FORMAT").unwrap(), "json");
        assert_eq!(env.required::<String>("BIND_ADDRESS").unwrap(), "0.0.0.0");
    }

    #[test]
    fn errors_name_the_variable_and_hide_secrets() {
        let env = Env::from_pairs(
            None,
            &[],
            &[("PORT", "eighty"), ("SESSION_SECRET", "hunter2")],
        )
        .unwrap();
        assert_eq!(
            env.required::<u16>("DATABASE_URL").unwrap_err(),
            ConfigError::Missing {
                var: "DATABASE_URL"
            }
        );
        let invalid = env.required::<u16>("PORT").unwrap_err().to_string();
        assert!(invalid.starts_with("PORT is invalid"), "{invalid}");
        let secret = env.secret("SESSION_SECRET").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(env.optional::<u16>("NOT_SET").unwrap(), None);
    }

    #[test]
    fn urls_are_checked_and_bare_hosts_mean_https() {
        let env = Env::from_pairs(
            None,
            &[],
            &[
                ("A", "app.onrender.com"),
                ("B", "http://127.0.0.1:8080/"),
                ("C", "ftp://x"),
                ("D", "https://x/?q=1"),
            ],
        )
        .unwrap();
        assert_eq!(
            env.url("A").unwrap().as_deref(),
            Some("https://app.onrender.com")
        );
        assert_eq!(
            env.url("B").unwrap().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(env.url("C").is_err() && env.url("D").is_err());
        assert_eq!(env.url("UNSET").unwrap(), None);
    }

    #[test]
    fn a_named_file_must_exist() {
        let err =
            Env::from_pairs(Some(Path::new("/nonexistent/stravatalk.toml")), &[], &[]).unwrap_err();
        assert!(matches!(err, ConfigError::File { .. }));
    }
}
