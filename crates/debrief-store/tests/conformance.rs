//! The store conformance suite, run against SQLite always and against PostgreSQL when
//! `DEBRIEF_TEST_DATABASE_URL` is set; without it the PostgreSQL trials are ignored, and fail
//! when asked for (`-- --include-ignored`, as `scripts/test.sh` does).

use debrief_store::testing::{
    conformance_cases, open_test_store, postgres_test_url, TestDatabase, TEST_DATABASE_URL_VAR,
};
use libtest_mimic::{Arguments, Failed, Trial};

fn run_case(
    case: debrief_store::testing::Case,
    postgres_url: Option<String>,
) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Failed::from(format!("runtime: {error}")))?;
    runtime.block_on(async move {
        let database = match postgres_url {
            Some(url) => TestDatabase::postgres(&url)
                .await
                .map_err(|error| Failed::from(format!("cannot create a test database: {error}")))?,
            None => TestDatabase::sqlite(),
        };
        let store = open_test_store(&database.url).await;
        let outcome = tokio::spawn(case(store)).await;
        database.remove().await;
        outcome.map_err(|error| Failed::from(format!("case panicked: {error}")))
    })
}

fn main() {
    let arguments = Arguments::from_args();
    let postgres_url = postgres_test_url();
    let mut trials = Vec::new();
    for (name, case) in conformance_cases() {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            run_case(case, None)
        }));
        let url = postgres_url.clone();
        trials.push(
            Trial::test(format!("postgres::{name}"), move || match &url {
                Some(url) => run_case(case, Some(url.clone())),
                None => Err(Failed::from(format!(
                    "needs PostgreSQL: set {TEST_DATABASE_URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test)"
                ))),
            })
            .with_ignored_flag(postgres_url.is_none()),
        );
    }
    libtest_mimic::run(&arguments, trials).exit();
}
