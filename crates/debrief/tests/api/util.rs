//! `TestApp`: a server on a fresh database and a real TCP port, with a company and its token.

use std::sync::Arc;

use debrief_llm::configure::Backends;
use debrief_llm::engine::ResolutionCheck;
use debrief_server::{AppState, Limits};
use debrief_store::testing::{create_test_company, postgres_test_url, TestDatabase};
use debrief_store::Store;
use debrief_workflows::outbound::Reach;
use debrief_workflows::webhooks::Deliverer;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;

/// The key that seals connector credentials in tests.
pub const TEST_SECRET_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// A running server for one test.
pub struct TestApp {
    pub address: String,
    pub store: Arc<dyn Store>,
    /// The admin token of the company `acme`.
    pub token: String,
    pub client: Client,
    /// The LLM engines the server was given.
    pub llm: Backends,
    /// The server's metrics (workers run by a test count into them too).
    pub metrics: Arc<debrief_workflows::metrics::Metrics>,
    /// The server's outbox deliverer (webhooks and connectors), run by the tests' own rounds.
    pub deliverer: Deliverer,
    database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// How to build a [`TestApp`].
pub struct TestAppBuilder {
    limits: Limits,
    postgres: bool,
    clock: debrief_workflows::clock::Clock,
    llm: Backends,
    stall_after: std::time::Duration,
    reach: Reach,
}

impl TestAppBuilder {
    /// Sets the largest accepted body.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_body_bytes = bytes;
        self
    }

    /// Handlers read this clock instead of the system's.
    pub fn with_clock(mut self, clock: debrief_workflows::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// `/readyz` fails for a worker without progress for this long.
    pub fn with_stall_after(mut self, stall_after: std::time::Duration) -> Self {
        self.stall_after = stall_after;
        self
    }

    /// Sets the sign-in tokens' idle and absolute limits.
    pub fn with_sign_in_lifetime(mut self, lifetime: debrief_store::TokenLifetime) -> Self {
        self.limits.sign_in = lifetime;
        self
    }

    /// Sends webhooks and connector pushes to public addresses only, as a server does unless
    /// its operator allows internal targets (tests' stand-ins are on loopback, so the default
    /// here is any address).
    pub fn with_public_targets_only(mut self) -> Self {
        self.reach = Reach::PublicOnly;
        self
    }

    /// Gives the server LLM engines.
    pub fn with_llm(mut self, llm: Backends) -> Self {
        self.llm = llm;
        self
    }

    /// Runs on PostgreSQL instead of SQLite; `None` when no test server is configured.
    /// On PostgreSQL: the tests that use it are ignored unless asked for
    /// (`-- --include-ignored`), and then fail without `DEBRIEF_TEST_DATABASE_URL`.
    pub fn on_postgres(mut self) -> Self {
        assert!(
            postgres_test_url().is_some(),
            "this test needs PostgreSQL: set DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh does)"
        );
        self.postgres = true;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let database = match postgres_test_url().filter(|_| self.postgres) {
            Some(url) => TestDatabase::postgres(&url)
                .await
                .expect("postgres test database"),
            None => TestDatabase::sqlite(),
        };
        let store = debrief_store::connect(&database.url)
            .await
            .expect("store opens");
        let created = create_test_company(store.as_ref(), "acme").await;
        let token = created.admin_token.secret.expose().to_string();
        let mut app = self.serve(store, token).await;
        app.database = Some(database);
        app
    }

    /// A server on `store` (whose database it does not own) acting for `token`'s company.
    async fn serve(self, store: Arc<dyn Store>, token: String) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let (shutdown, stop) = oneshot::channel::<()>();
        let metrics = Arc::new(debrief_workflows::metrics::Metrics::new(self.stall_after));
        let secrets =
            debrief_workflows::secrets::SecretBox::from_hex(TEST_SECRET_KEY).expect("test key");
        let deliverer = Deliverer::new(
            Arc::clone(&store),
            Arc::clone(&metrics),
            Some(secrets.clone()),
            self.reach,
        )
        .expect("deliverer");
        let state = AppState {
            metrics: Arc::clone(&metrics),
            clock: self.clock.clone(),
            export_font: None,
            secrets: Some(secrets),
            deliverer: deliverer.clone(),
            store: Arc::clone(&store),
            limits: self.limits,
            judge: ResolutionCheck::InProcess(debrief_engine::judge::Judge::AlwaysPass),
            llm: self.llm.clone(),
        };
        let server = tokio::spawn(async move {
            debrief_server::serve(listener, state, async {
                let _ = stop.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            address,
            store,
            token,
            client: Client::new(),
            llm: self.llm,
            metrics,
            deliverer,
            database: None,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            limits: Limits::default(),
            postgres: false,
            clock: debrief_workflows::clock::Clock::system(),
            llm: Backends::default(),
            stall_after: debrief_workflows::metrics::DEFAULT_STALL_AFTER,
            reach: Reach::Any,
        }
    }

    /// A server on SQLite with default limits.
    pub async fn spawn() -> TestApp {
        TestApp::builder().spawn().await
    }

    /// A second server process on the same database (its own pool), acting for the same
    /// company; stopping it leaves the database to the first.
    pub async fn second_server(&self) -> TestApp {
        let store = debrief_store::connect(&self.database_url())
            .await
            .expect("a second pool opens");
        TestApp::builder().serve(store, self.token.clone()).await
    }

    /// Creates another company and returns its admin token.
    pub async fn other_company(&self, name: &str) -> String {
        create_test_company(self.store.as_ref(), name)
            .await
            .admin_token
            .secret
            .expose()
            .to_string()
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
    }

    pub fn post_raw(
        &self,
        path: &str,
        token: &str,
        body: impl Into<reqwest::Body>,
    ) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.address))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
    }

    pub fn post_json(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.post_raw(path, token, body.to_string())
    }

    /// Sends `method path` with the token and an optional JSON body; status and JSON answer.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        json_of(request.send().await).await
    }

    /// Turns AI and session insights on, both directions, for the token's company.
    pub async fn enable_insights(&self, token: &str) {
        let response = self
            .client
            .put(format!("{}/api/v1/settings/ai", self.address))
            .bearer_auth(token)
            .json(&serde_json::json!({"ai": {"enabled": true}, "insights": {
                "outgoing": {"enabled": true}, "incoming": {"enabled": true}}}))
            .send()
            .await
            .expect("settings are answered");
        assert_eq!(response.status().as_u16(), 200, "settings are stored");
    }

    /// The URL of the test's database.
    pub fn database_url(&self) -> String {
        self.database
            .as_ref()
            .map(|database| database.url.clone())
            .unwrap_or_default()
    }

    /// Runs one round of the summary worker; the summaries stored.
    pub async fn summarize_now(&self) -> usize {
        debrief_workflows::summaries::Summarizer {
            store: self.store.clone(),
            engine: std::sync::Arc::new(debrief_engine::summarize::BuiltinEngine::default()),
            llm: self.llm.clone(),
            metrics: Arc::clone(&self.metrics),
        }
        .run_once(chrono::Utc::now())
        .await
        .expect("summary round")
    }

    /// Stops the server and removes the database.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
    }
}

/// Serves `stand_in` (a local imitation of another system) on a free port: its
/// `http://HOST:PORT` base.
pub async fn spawn_stand_in(stand_in: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, stand_in).await;
    });
    address
}

/// A response's `content-type`, empty when it has none.
pub fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Status and JSON body of a response.
pub async fn json_of(response: reqwest::Result<Response>) -> (u16, Value) {
    let response = response.expect("request is answered");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// A valid session record with the given id.
pub fn session_json(id: &str) -> Value {
    serde_json::json!({
        "id": id,
        "channel": "remote_session",
        "direction": "outgoing",
        "started_at": "2026-11-20T10:00:00Z",
        "supporter": {"id": "u-17", "name": "Ana Souza"},
        "device": {"id": "d-1", "platform": "windows"},
        "consent": "allowed",
        "turns": [{"speaker": "customer", "text": "Outlook keeps asking for my password"}],
        "events": [{"at": "2026-11-20T10:02:00Z", "type": "app_focus", "app": "OUTLOOK.EXE"}]
    })
}
