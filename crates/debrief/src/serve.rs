//! `debrief serve`: the store, the background workers and the HTTP server in one process,
//! stopped cleanly on Ctrl-C or SIGTERM; with `--demo`, the demo company staged first.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use debrief_server::{AppState, Limits};

use crate::settings::Settings;
use crate::{demo, open_store};

pub(crate) async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let address: SocketAddr = settings
        .listen
        .parse()
        .with_context(|| format!("listen address {:?} is not HOST:PORT", settings.listen))?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    tracing::info!(listen = %local, backend = store.backend().as_str(), "debrief is listening");
    let loaded = if demo {
        Some(demo::load(store.as_ref()).await?)
    } else {
        None
    };
    let llm =
        debrief_llm::configure::Backends::build(&settings.llm).context("the [llm] settings")?;
    let judge = match settings.resolution_judge.as_str() {
        "llm" => {
            debrief_llm::engine::ResolutionCheck::Llm(Arc::new(debrief_llm::engine::LlmJudge::new(
                llm.judge().context("resolution_judge = \"llm\"")?,
                debrief_llm::engine::LlmOptions::default(),
            )))
        }
        name => debrief_llm::engine::ResolutionCheck::InProcess(
            debrief_engine::judge::Judge::from_name(name).context("resolution_judge is unknown")?,
        ),
    };
    let metrics = Arc::new(debrief_workflows::metrics::Metrics::new(
        std::time::Duration::from_secs(settings.worker_stall_seconds.max(1)),
    ));
    let secrets = Some(settings.secret_key.as_str())
        .filter(|key| !key.is_empty())
        .map(debrief_workflows::secrets::SecretBox::from_hex)
        .transpose()
        .context("secret_key")?;
    let deliverer = debrief_workflows::webhooks::Deliverer::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        secrets.clone(),
        if settings.allow_internal_targets {
            debrief_workflows::outbound::Reach::Any
        } else {
            debrief_workflows::outbound::Reach::PublicOnly
        },
    )?;
    let state = AppState {
        clock: debrief_workflows::clock::Clock::system(),
        export_font: Some(settings.export_font.clone()).filter(|font| !font.is_empty()),
        secrets,
        deliverer: deliverer.clone(),
        store: Arc::clone(&store),
        limits: Limits {
            max_body_bytes: settings.max_body_bytes,
            sign_in: debrief_store::TokenLifetime {
                idle_seconds: i64::try_from(settings.sign_in_idle_minutes.saturating_mul(60))
                    .unwrap_or(i64::MAX),
                max_seconds: i64::try_from(settings.sign_in_max_hours.saturating_mul(3600))
                    .unwrap_or(i64::MAX),
            },
        },
        metrics: Arc::clone(&metrics),
        judge: judge.clone(),
        llm: llm.clone(),
    };
    let evaluator = debrief_workflows::evaluation::Evaluator {
        store: Arc::clone(&store),
        judge,
        llm: llm.clone(),
        metrics: Arc::clone(&metrics),
        name: format!(
            "debrief-{}-{}",
            std::process::id(),
            Utc::now().timestamp_micros() % 1_000_000
        ),
    };
    let summarizer = debrief_workflows::summaries::Summarizer {
        store: Arc::clone(&store),
        engine: Arc::new(debrief_engine::summarize::BuiltinEngine::default()),
        llm,
        metrics: Arc::clone(&metrics),
    };
    if let Some(loaded) = &loaded {
        // The demo shows both halves at once: credits, plan and conversations staged through
        // the API, a first round of summaries and verdicts, one summary edited by a person.
        let api = demo::DemoApi::new(debrief_server::router(state.clone()), &loaded.admin_token);
        api.stage(Utc::now()).await.context("staging the demo")?;
        summarizer
            .run_once(Utc::now())
            .await
            .context("summarizing the demo")?;
        evaluator
            .run_once(Utc::now())
            .await
            .context("deciding the demo's conversations")?;
        api.edit_one_summary()
            .await
            .context("editing a demo summary")?;
    }
    let (stop_evaluator, stopped) = tokio::sync::watch::channel(false);
    let evaluation = tokio::spawn(evaluator.run(
        std::time::Duration::from_millis(settings.evaluation_interval_ms.max(10)),
        stopped,
    ));
    let summarizing = tokio::spawn(summarizer.run(
        std::time::Duration::from_millis(settings.evaluation_interval_ms.max(10)),
        stop_evaluator.subscribe(),
    ));
    let delivering = tokio::spawn(deliverer.run(
        std::time::Duration::from_millis(settings.evaluation_interval_ms.max(10)),
        stop_evaluator.subscribe(),
    ));
    // The banner is written once; a closed stdout (`| head`) is no reason to stop serving.
    let mut banner = format!("Debrief is running at http://{local}/\n");
    if let Some(loaded) = &loaded {
        banner.push_str(&format!(
            "demo company {:?}: {} sessions ({} newly loaded)\nadmin API token, shown once:\n{}\n\
             sign in at http://{local}/sign-in with company {:?}:\n",
            loaded.company,
            loaded.sessions,
            loaded.newly_stored,
            loaded.admin_token,
            loaded.company
        ));
        for (email, role, password) in &loaded.sign_ins {
            banner.push_str(&format!("  {role}: {email} / {password}\n"));
        }
    }
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush());
    }
    debrief_server::serve(listener, state, shutdown_signal())
        .await
        .context("the server failed")?;
    let _ = stop_evaluator.send(true);
    let _ = evaluation.await;
    let _ = summarizing.await;
    let _ = delivering.await;
    tracing::info!("debrief stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
