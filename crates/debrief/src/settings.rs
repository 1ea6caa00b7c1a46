//! The typed, layered configuration: code defaults < `debrief.toml` < `DEBRIEF_*` environment
//! variables (`__` nests) < command-line flags. Loaded once in `main` and passed down.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Environment variables read elsewhere that are not settings.
const NON_SETTING_VARIABLES: [&str; 1] = ["DEBRIEF_TEST_DATABASE_URL"];

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the `debrief` binary.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://FILE` (the default, created on first start) or `postgres://…`.
    pub database_url: String,
    /// Address the server listens on.
    pub listen: String,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub log_format: LogFormat,
    /// How often the server runs its background work (conversations that became due,
    /// sessions waiting for a summary), in milliseconds.
    pub evaluation_interval_ms: u64,
    /// A background worker without progress for this long makes `/readyz` answer 503.
    pub worker_stall_seconds: u64,
    /// A sign-in token unused for this long stops working (the web session ends).
    pub sign_in_idle_minutes: u64,
    /// A sign-in token stops working this long after the sign-in, used or not.
    pub sign_in_max_hours: u64,
    /// The LLM check of automated resolutions: `builtin`, `always-pass` or `always-fail`.
    pub resolution_judge: String,
    /// A TrueType font for PDF exports; empty: the first one found among the usual system
    /// fonts (DejaVu Sans, Liberation Sans, Noto Sans).
    pub export_font: String,
    /// 64 hex characters (32 bytes) that seal connector credentials at rest; keep it out of
    /// the database. Empty: connectors cannot be set.
    pub secret_key: String,
    /// Whether webhooks and connectors may send to loopback, private and link-local addresses
    /// (an on-premises ServiceNow); off, a company's admin cannot make the server reach its
    /// own network (`debrief_workflows::outbound`).
    pub allow_internal_targets: bool,
    /// The LLM engines: `[llm.openai]` (any OpenAI-compatible server) and `[llm.local]` (a
    /// GGUF file, with the `local-llm` build feature).
    pub llm: debrief_llm::configure::LlmConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://debrief.db".into(),
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 16 * 1024 * 1024,
            log_format: LogFormat::Text,
            evaluation_interval_ms: 1_000,
            worker_stall_seconds: 900,
            sign_in_idle_minutes: 60,
            sign_in_max_hours: 12,
            resolution_judge: "builtin".into(),
            export_font: String::new(),
            secret_key: String::new(),
            allow_internal_targets: false,
            llm: debrief_llm::configure::LlmConfig::default(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Settings")
            .field(
                "database_url",
                &debrief_store::redact_url(&self.database_url),
            )
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_format", &self.log_format)
            .field("evaluation_interval_ms", &self.evaluation_interval_ms)
            .field("worker_stall_seconds", &self.worker_stall_seconds)
            .field("sign_in_idle_minutes", &self.sign_in_idle_minutes)
            .field("sign_in_max_hours", &self.sign_in_max_hours)
            .field("resolution_judge", &self.resolution_judge)
            .field("export_font", &self.export_font)
            .field(
                "secret_key",
                &if self.secret_key.is_empty() {
                    ""
                } else {
                    "********"
                },
            )
            .field("allow_internal_targets", &self.allow_internal_targets)
            .field("llm", &self.llm)
            .finish()
    }
}

/// Flags that override the other layers when given.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl Settings {
    /// Loads the layers; `config_file` defaults to `debrief.toml` in the working directory and
    /// may be absent.
    pub fn load(config_file: Option<&Path>, flags: FlagOverrides) -> anyhow::Result<Settings> {
        let file = config_file.unwrap_or(Path::new("debrief.toml"));
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("DEBRIEF_").split("__").filter(|key| {
                setting_names().any(|name| key.as_str().eq_ignore_ascii_case(name))
                    || is_llm_key(key.as_str())
            }))
            .merge(Serialized::defaults(flags))
            .extract()
            .with_context(|| format!("invalid configuration (file {})", file.display()))?;
        debrief_store::Backend::from_url(&settings.database_url).context(
            "database_url must start with sqlite:// or postgres:// (set DEBRIEF_DATABASE_URL or --db)",
        )?;
        if settings.resolution_judge != "llm"
            && debrief_engine::judge::Judge::from_name(&settings.resolution_judge).is_none()
        {
            anyhow::bail!(
                "resolution_judge {:?} is unknown: use builtin, llm, always-pass or always-fail",
                settings.resolution_judge
            );
        }
        Ok(settings)
    }

    /// `DEBRIEF_*` variables that name no setting: most likely typos, so they are reported.
    pub fn unknown_environment_variables() -> Vec<String> {
        std::env::vars()
            .map(|(key, _)| key)
            .filter(|key| key.starts_with("DEBRIEF_"))
            .filter(|key| !NON_SETTING_VARIABLES.contains(&key.as_str()))
            .filter(|key| {
                let name = key["DEBRIEF_".len()..].to_ascii_lowercase();
                !setting_names().any(|known| known == name) && !is_llm_key(&name)
            })
            .collect()
    }

    /// A commented configuration file with the defaults.
    pub fn example() -> String {
        let defaults = Settings::default();
        format!(
            "# debrief.toml: every setting with its default. Environment variables\n\
             # DEBRIEF_<NAME> override this file; command-line flags override both.\n\n\
             # sqlite://FILE (created on first start) or postgres://user:password@host/db\n\
             database_url = {:?}\n\n\
             # address the HTTP server listens on\n\
             listen = {:?}\n\n\
             # largest accepted request body, in bytes\n\
             max_body_bytes = {}\n\n\
             # text or json logs on standard error\n\
             log_format = \"text\"\n\n\
             # how often due conversations are evaluated, in milliseconds\n\
             evaluation_interval_ms = {}\n\n\
             # a background worker without progress for this long makes /readyz answer 503\n\
             worker_stall_seconds = {}\n\n\
             # sign-in tokens (the web session) end after this many idle minutes, and this many\n\
             # hours after the sign-in in any case\n\
             sign_in_idle_minutes = {}\n\
             sign_in_max_hours = {}\n\n\
             # the LLM check of automated resolutions: builtin, llm (a model below), always-pass\n\
             # or always-fail; a company can choose its own in /api/v1/settings/engine\n\
             resolution_judge = {:?}\n\n\
             # a TrueType font for PDF exports; empty: DejaVu Sans, Liberation Sans or Noto Sans\n\
             # from the system\n\
             export_font = \"\"\n\n\
             # 64 hex characters that seal connector credentials (ServiceNow, Salesforce) at rest;\n\
             # empty: connectors cannot be set. `openssl rand -hex 32` makes one.\n\
             secret_key = \"\"\n\n\
             # whether webhooks and connectors may send to loopback, private and link-local\n\
             # addresses (an on-premises ServiceNow); off, redirects are not followed either\n\
             allow_internal_targets = false\n\n\
             # LLM engines a company can choose for summaries and the resolution check. Before any\n\
             # text leaves for a model, personal data and secrets are redacted.\n\
             # [llm.openai]                      # any OpenAI-compatible server\n\
             # base_url = \"http://127.0.0.1:8081/v1\"\n\
             # model = \"qwen2.5-7b-instruct\"\n\
             # api_key_env = \"OPENAI_API_KEY\"   # or api_key_file = \"/run/secrets/openai\"\n\
             # azure_key_header = false          # true: send the key as `api-key` (Azure OpenAI)\n\
             # timeout_seconds = 60\n\
             # max_retries = 3                   # on 429 and 5xx, honouring Retry-After\n\
             # concurrency = 4                   # requests in flight at once\n\
             # json_mode = true                  # response_format json_object\n\
             # [llm.local]                       # a GGUF model in-process (build with --features local-llm)\n\
             # model_path = \"/var/lib/debrief/model.gguf\"\n\
             # threads = 8                       # default: every core\n\
             # context_tokens = 8192\n",
            defaults.database_url,
            defaults.listen,
            defaults.max_body_bytes,
            defaults.evaluation_interval_ms,
            defaults.worker_stall_seconds,
            defaults.sign_in_idle_minutes,
            defaults.sign_in_max_hours,
            defaults.resolution_judge
        )
    }
}

/// Whether an environment key names a part of `[llm]` (`DEBRIEF_LLM__OPENAI__MODEL`).
fn is_llm_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("llm.") || key.starts_with("llm__")
}

fn setting_names() -> impl Iterator<Item = &'static str> {
    [
        "database_url",
        "listen",
        "max_body_bytes",
        "log_format",
        "evaluation_interval_ms",
        "worker_stall_seconds",
        "sign_in_idle_minutes",
        "sign_in_max_hours",
        "resolution_judge",
        "export_font",
        "secret_key",
        "allow_internal_targets",
    ]
    .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags_override_the_defaults() {
        let directory = tempfile::tempdir().expect("tempdir");
        let file = directory.path().join("debrief.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1024\n").expect("write");

        let settings = Settings::load(
            Some(&file),
            FlagOverrides {
                database_url: Some("postgres://u:secret@h/db".into()),
                listen: None,
            },
        )
        .expect("loads");

        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.max_body_bytes, 1024);
        assert_eq!(settings.database_url, "postgres://u:secret@h/db");
        assert!(
            !format!("{settings:?}").contains(":secret@"),
            "the password is redacted"
        );
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure returns figment::Error"
    )]
    fn environment_variables_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "debrief.toml",
                "resolution_judge = \"always-fail\"\nlisten = \"0.0.0.0:1\"",
            )?;
            jail.set_env("DEBRIEF_RESOLUTION_JUDGE", "always-pass");
            jail.set_env("DEBRIEF_EVALUATION_INTERVAL_MS", "25");
            let settings = Settings::load(None, FlagOverrides::default())
                .map_err(|error| figment::Error::from(error.to_string()))?;
            assert_eq!(settings.resolution_judge, "always-pass");
            assert_eq!(settings.evaluation_interval_ms, 25);
            assert_eq!(settings.listen, "0.0.0.0:1");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_urls_fail_with_a_message() {
        let directory = tempfile::tempdir().expect("tempdir");
        let file = directory.path().join("debrief.toml");
        std::fs::write(&file, "lissten = \"x\"\n").expect("write");
        assert!(Settings::load(Some(&file), FlagOverrides::default()).is_err());

        let error = Settings::load(
            Some(&directory.path().join("absent.toml")),
            FlagOverrides {
                database_url: Some("mysql://x".into()),
                listen: None,
            },
        )
        .expect_err("bad scheme");
        assert!(format!("{error:#}").contains("sqlite://"), "{error:#}");
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let directory = tempfile::tempdir().expect("tempdir");
        let file = directory.path().join("debrief.toml");
        std::fs::write(&file, Settings::example()).expect("write");
        assert_eq!(
            Settings::load(Some(&file), FlagOverrides::default()).expect("loads"),
            Settings::default()
        );
    }
}
