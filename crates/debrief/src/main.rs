//! `debrief`: the command line and composition root. It reads the settings, opens the store
//! the URL names, and starts the server or runs one command. No business rules live here.

mod bench;
mod billing;
mod cli;
mod credits;
mod demo;
mod files;
mod import;
mod judging;
mod llm;
mod resolutions;
mod serve;
mod settings;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{Datelike, Utc};
use clap::Parser;
use debrief_core::tenancy::{first_of_month, CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_store::Store;
use tracing_subscriber::EnvFilter;

use crate::cli::{
    AdminCommand, AdminCreateCompanyArgs, AdminSetCreditsArgs, AdminSetTierArgs, BillingCommand,
    BillingExportTimelineArgs, BillingSimulateArgs, BillingStatementArgs, ClassifyArgs, Cli,
    Command, CreditsCommand, CreditsReportArgs, DatabaseArgs, EvalCommand, EvalIssueTypesArgs,
    EvalJudgeArgs, EvalSummariesArgs, ExportArgs, ImportArgs, JudgeArgs, MigrateArgs,
    ResolutionsCommand, ResolutionsEvaluateArgs, ServeArgs, SummarizeArgs, TrainCommand,
    TrainJudgeArgs,
};
use crate::serve::serve;
use crate::settings::{FlagOverrides, LogFormat, Settings};

/// mimalloc: ingest allocates many small strings on one thread and frees them on another,
/// where the system allocator spends much of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The built-in engine with the taxonomy file given, or the built-in IT taxonomy.
fn builtin_engine(
    taxonomy: Option<&std::path::Path>,
) -> anyhow::Result<debrief_engine::summarize::BuiltinEngine> {
    let taxonomy = match taxonomy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            debrief_engine::classify::Taxonomy::parse_json(&text)?
        }
        None => debrief_engine::classify::Taxonomy::builtin(),
    };
    Ok(debrief_engine::summarize::BuiltinEngine::new(
        &taxonomy,
        debrief_engine::applications::AppCatalogue::builtin(),
    ))
}

/// Exit status 1 when any record was rejected (the others were still written), else 0.
fn exit_for(rejected: u64) -> ExitCode {
    if rejected > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The summary engine a command names (the built-in one backing an LLM engine), or the usage
/// error.
fn summary_engine<'a>(
    name: &str,
    builtin: &'a debrief_engine::summarize::BuiltinEngine,
    config: Option<&std::path::Path>,
) -> anyhow::Result<Result<judging::SummaryEngine<'a>, ExitCode>> {
    use debrief_llm::configure::EngineKind;
    Ok(match EngineKind::from_name(name) {
        Some(EngineKind::Builtin) => Ok(judging::SummaryEngine::Builtin(builtin)),
        Some(kind) => {
            let settings = load_settings(config, None, None)?;
            let backend = llm::backend(&settings, kind)?;
            let summarizer = debrief_llm::engine::LlmSummarizer::new(
                backend,
                debrief_llm::engine::LlmOptions::default(),
            );
            Ok(judging::SummaryEngine::Llm(summarizer, builtin))
        }
        None => {
            eprintln!("error: unknown engine {name:?}: use builtin, openai or local");
            Err(ExitCode::from(2))
        }
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour only for a person at a terminal: never in a file or a pipe, nor with NO_COLOR set.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    for variable in Settings::unknown_environment_variables() {
        tracing::warn!(variable = %variable, "unknown DEBRIEF_ environment variable ignored");
    }
}

pub(crate) fn load_settings(
    config: Option<&std::path::Path>,
    database: Option<&DatabaseArgs>,
    listen: Option<String>,
) -> anyhow::Result<Settings> {
    let settings = Settings::load(
        config,
        FlagOverrides {
            database_url: database.and_then(|args| args.database_url.clone()),
            listen,
        },
    )?;
    init_logging(settings.log_format);
    Ok(settings)
}

async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    debrief_store::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the store at {}",
                debrief_store::redact_url(&settings.database_url)
            )
        })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => serve_command(config, args).await,
        Command::Migrate(args) => migrate_command(config, args).await,
        Command::Import(args) => import_command(config, args).await,
        Command::Export(args) => export_command(config, args).await,
        Command::Credits(CreditsCommand::Report(args)) => credits_report(config, args).await,
        Command::Admin(AdminCommand::CreateCompany(args)) => {
            admin_create_company(config, args).await
        }
        Command::Admin(AdminCommand::SetCredits(args)) => admin_set_credits(config, args).await,
        Command::Admin(AdminCommand::SetTier(args)) => admin_set_tier(config, args).await,
        Command::Resolutions(ResolutionsCommand::Evaluate(args)) => {
            resolutions_evaluate(config, args).await
        }
        Command::Billing(BillingCommand::Statement(args)) => billing_statement(config, args).await,
        Command::Billing(BillingCommand::ExportTimeline(args)) => {
            billing_export_timeline(config, args).await
        }
        Command::Billing(BillingCommand::Simulate(args)) => billing_simulate(args).await,
        Command::Judge(args) => judge_command(config, args).await,
        Command::Summarize(args) => summarize_command(config, args).await,
        Command::Classify(args) => classify_command(args).await,
        Command::Eval(EvalCommand::Summaries(args)) => eval_summaries(config, args).await,
        Command::Eval(EvalCommand::IssueTypes(args)) => eval_issue_types(args).await,
        Command::Eval(EvalCommand::Judge(args)) => eval_judge(config, args).await,
        Command::Train(TrainCommand::Judge(args)) => train_judge(args),
        Command::ConfigExample => {
            print!("{}", Settings::example());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(command) => bench::run(command, config).await,
    }
}

/// The settings, the store and a company named on the command line.
async fn open_company(
    config: Option<&std::path::Path>,
    database: &DatabaseArgs,
    name: &str,
) -> anyhow::Result<(Settings, Arc<dyn Store>, debrief_store::Company)> {
    let settings = load_settings(config, Some(database), None)?;
    let store = open_store(&settings).await?;
    let company = store
        .company_by_name(name)
        .await
        .with_context(|| format!("no company named {name:?}"))?;
    Ok((settings, store, company))
}

/// `debrief serve`.
async fn serve_command(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        database,
        listen,
        demo,
    } = args;
    let settings = load_settings(config, Some(&database), listen)?;
    serve(settings, demo).await?;
    Ok(ExitCode::SUCCESS)
}

/// `debrief migrate`.
async fn migrate_command(config: Option<&Path>, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let MigrateArgs { database } = args;
    let settings = load_settings(config, Some(&database), None)?;
    open_store(&settings).await?;
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}

/// `debrief import`.
async fn import_command(config: Option<&Path>, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let ImportArgs {
        file,
        company,
        database,
        batch_size,
    } = args;
    let (_, store, company) = open_company(config, &database, &company).await?;
    let report = import::import_file(store, &company, &file, batch_size).await?;
    print!("{}", report.render());
    Ok(exit_for(report.rejected))
}

/// `debrief export`.
async fn export_command(config: Option<&Path>, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportArgs {
        company,
        format,
        language,
        out,
        from,
        to,
        search,
        issue_type,
        application,
        supporter,
        database,
    } = args;
    use debrief_workflows::exports;
    let (settings, store, company) = open_company(config, &database, &company).await?;
    let request = exports::ExportRequest {
        format: format.parse()?,
        language,
        session_ids: None,
        from,
        to,
        q: search,
        issue_type,
        application,
        supporter,
    };
    let ai = debrief_store::get_typed::<debrief_core::governance::AiSettings>(
        store.as_ref(),
        &company.id,
        debrief_store::ObjectKind::AiSettings,
        debrief_store::SINGLETON,
    )
    .await?
    .unwrap_or_default();
    let language = exports::language_of(request.language.as_deref(), &ai.insights.language)?;
    let summaries = exports::select(store.as_ref(), &company.id, &request).await?;
    let font = Some(settings.export_font.as_str()).filter(|font| !font.is_empty());
    let bytes = exports::file(&summaries, request.format, language, font)?;
    let mut writer = files::create_output(&out)?;
    writer.write_all(&bytes)?;
    writer.flush()?;
    eprintln!(
        "exported {} summaries as {} in {}",
        summaries.len(),
        request.format.extension(),
        language.code()
    );
    Ok(ExitCode::SUCCESS)
}

/// `debrief credits report`.
async fn credits_report(
    config: Option<&Path>,
    args: CreditsReportArgs,
) -> anyhow::Result<ExitCode> {
    let CreditsReportArgs {
        company,
        entries,
        database,
    } = args;
    let settings = load_settings(config, Some(&database), None)?;
    let store = open_store(&settings).await?;
    credits::report(store.as_ref(), &company, entries, Utc::now()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `debrief admin create-company`.
async fn admin_create_company(
    config: Option<&Path>,
    args: AdminCreateCompanyArgs,
) -> anyhow::Result<ExitCode> {
    let AdminCreateCompanyArgs {
        name,
        tier,
        time_zone,
        term_start,
        admin_name,
        database,
    } = args;
    if let Some(day) = term_start.filter(|day| day.day() != 1) {
        anyhow::bail!(
            "--term-start {day} is not the 1st of a month: license terms run in whole \
             months from a 1st (try {})",
            first_of_month(day)
        );
    }
    let settings = load_settings(config, Some(&database), None)?;
    let new_company = NewCompany {
        name: CompanyName::parse(&name)?,
        tier: tier.parse::<LicenseTier>()?,
        time_zone: TimeZoneName::parse(&time_zone)?,
        term_start: term_start.unwrap_or_else(|| first_of_month(Utc::now().date_naive())),
    };
    let store = open_store(&settings).await?;
    let created = store
        .create_company(&new_company, &admin_name)
        .await
        .with_context(|| format!("cannot create company {name:?}"))?;
    println!(
        "created company {} ({}, tier {}, time zone {})",
        created.company.name, created.company.id, created.company.tier, created.company.time_zone
    );
    println!(
        "admin user {} ({admin_name}); API token, shown once:",
        created.admin_user_id
    );
    println!("{}", created.admin_token.secret.expose());
    Ok(ExitCode::SUCCESS)
}

/// `debrief admin set-credits`.
async fn admin_set_credits(
    config: Option<&Path>,
    args: AdminSetCreditsArgs,
) -> anyhow::Result<ExitCode> {
    let AdminSetCreditsArgs {
        company,
        free_monthly,
        database,
    } = args;
    let free = match free_monthly.as_str() {
        "tier" => None,
        number => Some(
            number
                .parse::<i64>()
                .ok()
                .filter(|free| *free >= 0)
                .with_context(|| {
                    format!("--free-monthly {number:?} is neither a number of credits nor `tier`")
                })?,
        ),
    };
    let (_, store, company) = open_company(config, &database, &company).await?;
    let current = debrief_workflows::credits::settings(store.as_ref(), &company).await?;
    let new = debrief_core::credits::CreditSettings {
        free_monthly_credits: free,
        ..current.clone()
    };
    debrief_workflows::credits::change_settings(
        store.as_ref(),
        &company,
        &current,
        &new,
        Utc::now(),
    )
    .await?;
    println!(
        "company {}: free monthly credits {} from the next month's grant",
        company.name,
        free.map_or_else(
            || format!("of tier {}", company.tier),
            |free| free.to_string()
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// `debrief admin set-tier`.
async fn admin_set_tier(config: Option<&Path>, args: AdminSetTierArgs) -> anyhow::Result<ExitCode> {
    let AdminSetTierArgs {
        company,
        tier,
        database,
    } = args;
    let tier = tier.parse::<LicenseTier>()?;
    let (_, store, company) = open_company(config, &database, &company).await?;
    if tier == company.tier {
        println!("company {} is already tier {tier}", company.name);
        return Ok(ExitCode::SUCCESS);
    }
    debrief_workflows::credits::change_tier(store.as_ref(), &company, tier, Utc::now()).await?;
    println!(
        "company {}: tier {} → {tier}, free credits from the next month's grant",
        company.name, company.tier
    );
    Ok(ExitCode::SUCCESS)
}

/// `debrief resolutions evaluate`.
async fn resolutions_evaluate(
    config: Option<&Path>,
    args: ResolutionsEvaluateArgs,
) -> anyhow::Result<ExitCode> {
    let ResolutionsEvaluateArgs {
        input,
        output,
        as_of,
        judge,
        threads,
    } = args;
    let check = match llm::resolution_check(&judge, || load_settings(config, None, None))? {
        Ok(check) => check,
        Err(code) => return Ok(code),
    };
    let reader = files::open_input(&input)?;
    let mut writer = files::create_output(&output)?;
    let report = resolutions::evaluate_stream(
        reader,
        &mut writer,
        &mut std::io::stderr(),
        as_of.with_timezone(&Utc),
        &check,
        threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, std::num::NonZeroUsize::get),
    )?;
    eprintln!(
        "{} verdicts written, {} lines rejected",
        report.written, report.rejected
    );
    Ok(exit_for(report.rejected))
}

/// `debrief billing statement`.
async fn billing_statement(
    config: Option<&Path>,
    args: BillingStatementArgs,
) -> anyhow::Result<ExitCode> {
    let BillingStatementArgs {
        company,
        from,
        to,
        format,
        database,
    } = args;
    let (_, store, company) = open_company(config, &database, &company).await?;
    let months = debrief_workflows::timeline::statement(store.as_ref(), &company)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let months: Vec<_> = months
        .into_iter()
        .filter(|row| from.as_ref().is_none_or(|from| row.month >= *from))
        .filter(|row| to.as_ref().is_none_or(|to| row.month <= *to))
        .collect();
    let mut output = std::io::stdout().lock();
    billing::write_statement(&months, format, &mut output)?;
    Ok(ExitCode::SUCCESS)
}

/// `debrief billing export-timeline`.
async fn billing_export_timeline(
    config: Option<&Path>,
    args: BillingExportTimelineArgs,
) -> anyhow::Result<ExitCode> {
    let BillingExportTimelineArgs {
        company,
        output,
        database,
    } = args;
    let (_, store, company) = open_company(config, &database, &company).await?;
    let timeline = debrief_workflows::timeline::company_timeline(
        store.as_ref(),
        &company,
        debrief_workflows::timeline::History::Full,
    )
    .await
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut writer = files::create_output(&output)?;
    for line in &timeline.lines {
        writer.write_all(line.as_bytes())?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `debrief billing simulate`.
async fn billing_simulate(args: BillingSimulateArgs) -> anyhow::Result<ExitCode> {
    let BillingSimulateArgs { input, output } = args;
    let reader = files::open_input(&input)?;
    let mut statement = Vec::new();
    let errors = billing::simulate_stream(reader, &mut statement)?;
    if !errors.is_empty() {
        for error in errors {
            eprintln!("{error}");
        }
        eprintln!("the timeline was rejected: no statement written");
        return Ok(ExitCode::FAILURE);
    }
    let mut writer = files::create_output(&output)?;
    writer.write_all(&statement)?;
    writer.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `debrief judge`.
async fn judge_command(config: Option<&Path>, args: JudgeArgs) -> anyhow::Result<ExitCode> {
    let JudgeArgs {
        input,
        output,
        judge,
    } = args;
    let check = match llm::resolution_check(&judge, || load_settings(config, None, None))? {
        Ok(check) => check,
        Err(code) => return Ok(code),
    };
    let reader = files::open_input(&input)?;
    let mut writer = files::create_output(&output)?;
    let rejected = judging::judge_stream(reader, &mut writer, &mut std::io::stderr(), &check)?;
    Ok(exit_for(rejected))
}

/// `debrief summarize`.
async fn summarize_command(config: Option<&Path>, args: SummarizeArgs) -> anyhow::Result<ExitCode> {
    let SummarizeArgs {
        input,
        output,
        engine,
        taxonomy,
        language,
    } = args;
    let Some(language) = debrief_engine::language::Language::from_code(&language) else {
        eprintln!("error: unknown language {language:?}: use en, pt-BR, es, de or fr");
        return Ok(ExitCode::from(2));
    };
    let builtin = builtin_engine(taxonomy.as_deref())?;
    let engine = match summary_engine(&engine, &builtin, config)? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let reader = files::open_input(&input)?;
    let mut writer = files::create_output(&output)?;
    let rejected = judging::summarize_stream(
        reader,
        &mut writer,
        &mut std::io::stderr(),
        &engine,
        language,
    )?;
    Ok(exit_for(rejected))
}

/// `debrief classify`.
async fn classify_command(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let ClassifyArgs {
        input,
        output,
        taxonomy,
    } = args;
    let engine = builtin_engine(taxonomy.as_deref())?;
    let reader = files::open_input(&input)?;
    let mut writer = files::create_output(&output)?;
    let rejected = judging::classify_stream(reader, &mut writer, &mut std::io::stderr(), &engine)?;
    Ok(exit_for(rejected))
}

/// `debrief eval summaries`.
async fn eval_summaries(
    config: Option<&Path>,
    args: EvalSummariesArgs,
) -> anyhow::Result<ExitCode> {
    let EvalSummariesArgs {
        input,
        engine,
        limit,
    } = args;
    let builtin = debrief_engine::summarize::BuiltinEngine::default();
    let engine = match summary_engine(&engine, &builtin, config)? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let reader = files::open_input(&input)?;
    let evaluated = judging::eval_summaries(reader, &mut std::io::stderr(), &engine, limit)?;
    let fell_back = if evaluated.fallbacks > 0 {
        format!(", {} fell back to the built-in engine", evaluated.fallbacks)
    } else {
        String::new()
    };
    println!(
        "summaries: ROUGE-1 {:.2} ROUGE-2 {:.2} ROUGE-L {:.2} (n={}, rejected {}){fell_back}; \
         readability faults in {} ({:.1} %)",
        evaluated.scores.rouge1,
        evaluated.scores.rouge2,
        evaluated.scores.rouge_l,
        evaluated.records,
        evaluated.rejected,
        evaluated.faulty,
        100.0 * evaluated.faulty as f64 / evaluated.records.max(1) as f64
    );
    Ok(exit_for(evaluated.rejected))
}

/// `debrief eval issue-types`.
async fn eval_issue_types(args: EvalIssueTypesArgs) -> anyhow::Result<ExitCode> {
    let EvalIssueTypesArgs {
        input,
        taxonomy,
        hold_out,
        predictions,
    } = args;
    let text = std::fs::read_to_string(&taxonomy)
        .with_context(|| format!("cannot read {}", taxonomy.display()))?;
    let taxonomy = debrief_engine::classify::Taxonomy::parse_json(&text)?;
    let classifier = debrief_engine::classify::IssueClassifier::new(&taxonomy);
    let reader = files::open_input(&input)?;
    let mut writer = predictions
        .as_deref()
        .map(files::create_output)
        .transpose()?;
    let (counts, rejected) = judging::eval_issue_types(
        reader,
        &mut std::io::stderr(),
        &classifier,
        hold_out,
        writer.as_deref_mut().map(|writer| writer as &mut dyn Write),
    )?;
    println!(
        "issue types{}: accuracy {:.3} macro-F1 {:.3} (n={}, rejected {rejected})",
        if hold_out { " (own text held out)" } else { "" },
        counts.accuracy(),
        counts.macro_f1(),
        counts.total()
    );
    Ok(exit_for(rejected))
}

/// `debrief train judge`.
fn train_judge(args: TrainJudgeArgs) -> anyhow::Result<ExitCode> {
    let TrainJudgeArgs { input, output } = args;
    let reader = files::open_input(&input)?;
    let trained_on = input.file_name().map_or_else(
        || input.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let (trained, rejected) = judging::train_judge(reader, &mut std::io::stderr(), &trained_on)?;
    let Some((model, trials)) = trained else {
        anyhow::bail!("no labelled dialogue to train on in {}", input.display());
    };
    println!("l2      threshold  precision  recall  F1     (cross-validated)");
    for trial in &trials {
        let chosen = trial.l2 == model.l2 && trial.threshold == model.threshold;
        println!(
            "{:<7} {:<10} {:<10.3} {:<7.3} {:.3}{}",
            trial.l2,
            trial.threshold,
            trial.counts.precision(),
            trial.counts.recall(),
            trial.counts.f1(),
            if chosen { "  ← chosen" } else { "" }
        );
    }
    let mut out = files::create_output(&output)?;
    serde_json::to_writer_pretty(&mut out, &model)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(exit_for(rejected))
}

/// `debrief eval judge`.
async fn eval_judge(config: Option<&Path>, args: EvalJudgeArgs) -> anyhow::Result<ExitCode> {
    let EvalJudgeArgs {
        input,
        judge,
        limit,
    } = args;
    let check = match llm::resolution_check(&judge, || load_settings(config, None, None))? {
        Ok(check) => check,
        Err(code) => return Ok(code),
    };
    let reader = files::open_input(&input)?;
    let (counts, rejected) = judging::eval_judge(reader, &mut std::io::stderr(), &check, limit)?;
    let (name, model, _) = check.describe();
    println!(
        "judge {name} ({model}): precision {:.3} recall {:.3} F1 {:.3} (n={}, rejected {rejected})",
        counts.precision(),
        counts.recall(),
        counts.f1(),
        counts.total()
    );
    Ok(exit_for(rejected))
}
