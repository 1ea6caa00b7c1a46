//! `debrief`: the command line and composition root. It reads the settings, opens the store
//! the URL names, and starts the server or runs one command. No business rules live here.

mod bench;
mod billing;
mod credits;
mod demo;
mod files;
mod import;
mod judging;
mod llm;
mod resolutions;
mod settings;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use debrief_core::tenancy::{first_of_month, CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_server::{AppState, Limits};
use debrief_store::Store;
use tracing_subscriber::EnvFilter;

use crate::settings::{FlagOverrides, LogFormat, Settings};

/// mimalloc: ingest allocates many small strings on one thread and frees them on another,
/// where the system allocator spends much of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Debrief: AI summaries of support sessions, and metering of what that AI costs.
#[derive(Debug, Parser)]
#[command(name = "debrief", version)]
struct Cli {
    /// Configuration file (default: debrief.toml in the working directory, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// `--db URL`, shared by every command that opens the store.
#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Database URL: sqlite://FILE (default sqlite://debrief.db) or postgres://…
    #[arg(long = "db", value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Create a demo company with built-in sessions, and print its admin token.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import sessions from a JSON Lines file (`-` for standard input).
    Import {
        file: PathBuf,
        /// The company the sessions belong to.
        #[arg(long)]
        company: String,
        #[command(flatten)]
        database: DatabaseArgs,
        /// Sessions stored per transaction.
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
    },
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Automated resolutions.
    #[command(subcommand)]
    Resolutions(ResolutionsCommand),
    /// Billing statements.
    #[command(subcommand)]
    Billing(BillingCommand),
    /// AI credits.
    #[command(subcommand)]
    Credits(CreditsCommand),
    /// Export a company's summaries as PDF, Markdown, HTML, JSON or CSV.
    Export {
        #[arg(long)]
        company: String,
        /// pdf, markdown, html, json or csv.
        #[arg(long)]
        format: String,
        /// en, pt-BR, es, de or fr (default: the company's language).
        #[arg(long)]
        language: Option<String>,
        /// The file (`-` for standard output).
        #[arg(long)]
        out: PathBuf,
        /// Sessions that started at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<chrono::DateTime<Utc>>,
        /// Sessions that started before this time (RFC 3339).
        #[arg(long)]
        to: Option<chrono::DateTime<Utc>>,
        /// Words that must all appear in the title or the summary.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        issue_type: Option<String>,
        #[arg(long)]
        application: Option<String>,
        /// The supporter's id.
        #[arg(long)]
        supporter: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Summarize sessions (JSON Lines in and out; no database).
    Summarize {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// builtin, openai (the `[llm.openai]` server) or local (the `[llm.local]` model).
        #[arg(long, default_value = "builtin")]
        engine: String,
        /// An issue-type taxonomy file (default: the built-in IT taxonomy).
        #[arg(long)]
        taxonomy: Option<PathBuf>,
        /// Language of labels and templates: en, pt-BR, es, de or fr.
        #[arg(long, default_value = "en")]
        language: String,
    },
    /// Issue types and applications of each session (JSON Lines in and out).
    Classify {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// An issue-type taxonomy file (default: the built-in IT taxonomy).
        #[arg(long)]
        taxonomy: Option<PathBuf>,
    },
    /// Judge whether each session's problem was solved (JSON Lines in and out).
    Judge {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// builtin, llm (the configured model), always-pass or always-fail.
        #[arg(long, default_value = "builtin")]
        judge: String,
    },
    /// Measure quality against labelled evaluation data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Print a commented configuration file with the defaults.
    ConfigExample,
    /// Benchmark helpers: generate data and measure the parse ceiling.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
enum ResolutionsCommand {
    /// Verdicts for conversations (JSON Lines in, JSON Lines out); needs no database.
    Evaluate {
        /// Conversations, one per line (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Verdicts, one per line (`-` for standard output).
        #[arg(long)]
        output: PathBuf,
        /// The moment of evaluation (RFC 3339).
        #[arg(long)]
        as_of: DateTime<FixedOffset>,
        /// The LLM check: builtin, llm (the configured model), always-pass or always-fail.
        #[arg(long, default_value = "builtin")]
        judge: String,
    },
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// ROUGE-1/2/L F1 of an engine's summaries against `reference_summaries`.
    Summaries {
        #[arg(long)]
        input: PathBuf,
        /// builtin, openai or local.
        #[arg(long, default_value = "builtin")]
        engine: String,
        /// Only the first N records.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Accuracy and macro-F1 of the first issue type against `issue_type`.
    IssueTypes {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        taxonomy: PathBuf,
        /// Leave each record's own text out of the taxonomy's examples.
        #[arg(long)]
        hold_out: bool,
        /// Write the predictions (`{"id", "issue_types"}` lines) here too.
        #[arg(long)]
        predictions: Option<PathBuf>,
    },
    /// Precision, recall and F1 of the judge against `resolved_majority`.
    Judge {
        #[arg(long)]
        input: PathBuf,
        /// builtin, llm, always-pass or always-fail.
        #[arg(long, default_value = "builtin")]
        judge: String,
        /// Only the first N records.
        #[arg(long)]
        limit: Option<u64>,
    },
}

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

#[derive(Debug, Subcommand)]
enum BillingCommand {
    /// Replay a billing timeline (JSON Lines) into a month-by-month statement.
    Simulate {
        /// The timeline (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// The statement (`-` for standard output).
        #[arg(long)]
        output: PathBuf,
    },
    /// A stored company's monthly statement: its history replayed by the same rules.
    Statement {
        #[arg(long)]
        company: String,
        /// First month (YYYY-MM).
        #[arg(long)]
        from: Option<String>,
        /// Last month (YYYY-MM).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: billing::StatementFormat,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write a stored company's history as a timeline for `billing simulate` (a forecast is
    /// this file with hypothetical events appended).
    ExportTimeline {
        #[arg(long)]
        company: String,
        /// The timeline (`-` for standard output).
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum CreditsCommand {
    /// A company's credits now: balance by source and expiry, debt, this month's use and the
    /// newest ledger entries.
    Report {
        #[arg(long)]
        company: String,
        /// Ledger entries to show, newest last.
        #[arg(long, default_value_t = 20)]
        entries: u32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a company and its admin user; the admin's API token is the last line printed.
    CreateCompany {
        name: String,
        /// License tier: standard, business, premium, corporate or tensor.
        #[arg(long)]
        tier: String,
        /// IANA time zone of the company.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// First day of the license term (YYYY-MM-DD); default the 1st of this month.
        #[arg(long)]
        term_start: Option<NaiveDate>,
        /// Name of the admin user.
        #[arg(long, default_value = "Admin")]
        admin_name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a company's free monthly AI credits (the operator's choice, not the company's): a
    /// number, or `tier` for the tier's number; from the next month's grant on.
    SetCredits {
        #[arg(long)]
        company: String,
        /// Free credits a month, or `tier`.
        #[arg(long)]
        free_monthly: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Change a company's license tier; its free credits follow from the next month's grant.
    SetTier {
        #[arg(long)]
        company: String,
        /// standard, business, premium, corporate or tensor.
        #[arg(long)]
        tier: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
        Command::Serve {
            database,
            listen,
            demo,
        } => {
            let settings = load_settings(config, Some(&database), listen)?;
            serve(settings, demo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { database } => {
            let settings = load_settings(config, Some(&database), None)?;
            open_store(&settings).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            company,
            database,
            batch_size,
        } => {
            let (_, store, company) = open_company(config, &database, &company).await?;
            let report = import::import_file(store, &company, &file, batch_size).await?;
            print!("{}", report.render());
            Ok(exit_for(report.rejected))
        }
        Command::Export {
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
        } => {
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
            let language =
                exports::language_of(request.language.as_deref(), &ai.insights.language)?;
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
        Command::Credits(CreditsCommand::Report {
            company,
            entries,
            database,
        }) => {
            let settings = load_settings(config, Some(&database), None)?;
            let store = open_store(&settings).await?;
            credits::report(store.as_ref(), &company, entries, Utc::now()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::CreateCompany {
            name,
            tier,
            time_zone,
            term_start,
            admin_name,
            database,
        }) => {
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
                created.company.name,
                created.company.id,
                created.company.tier,
                created.company.time_zone
            );
            println!(
                "admin user {} ({admin_name}); API token, shown once:",
                created.admin_user_id
            );
            println!("{}", created.admin_token.secret.expose());
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::SetCredits {
            company,
            free_monthly,
            database,
        }) => {
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
        Command::Admin(AdminCommand::SetTier {
            company,
            tier,
            database,
        }) => {
            let tier = tier.parse::<LicenseTier>()?;
            let (_, store, company) = open_company(config, &database, &company).await?;
            if tier == company.tier {
                println!("company {} is already tier {tier}", company.name);
                return Ok(ExitCode::SUCCESS);
            }
            debrief_workflows::credits::change_tier(store.as_ref(), &company, tier, Utc::now())
                .await?;
            println!(
                "company {}: tier {} → {tier}, free credits from the next month's grant",
                company.name, company.tier
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Resolutions(ResolutionsCommand::Evaluate {
            input,
            output,
            as_of,
            judge,
        }) => {
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
            )?;
            eprintln!(
                "{} verdicts written, {} lines rejected",
                report.written, report.rejected
            );
            Ok(exit_for(report.rejected))
        }
        Command::Billing(BillingCommand::Statement {
            company,
            from,
            to,
            format,
            database,
        }) => {
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
        Command::Billing(BillingCommand::ExportTimeline {
            company,
            output,
            database,
        }) => {
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
        Command::Billing(BillingCommand::Simulate { input, output }) => {
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
        Command::Judge {
            input,
            output,
            judge,
        } => {
            let check = match llm::resolution_check(&judge, || load_settings(config, None, None))? {
                Ok(check) => check,
                Err(code) => return Ok(code),
            };
            let reader = files::open_input(&input)?;
            let mut writer = files::create_output(&output)?;
            let rejected =
                judging::judge_stream(reader, &mut writer, &mut std::io::stderr(), &check)?;
            Ok(exit_for(rejected))
        }
        Command::Summarize {
            input,
            output,
            engine,
            taxonomy,
            language,
        } => {
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
        Command::Classify {
            input,
            output,
            taxonomy,
        } => {
            let engine = builtin_engine(taxonomy.as_deref())?;
            let reader = files::open_input(&input)?;
            let mut writer = files::create_output(&output)?;
            let rejected =
                judging::classify_stream(reader, &mut writer, &mut std::io::stderr(), &engine)?;
            Ok(exit_for(rejected))
        }
        Command::Eval(EvalCommand::Summaries {
            input,
            engine,
            limit,
        }) => {
            let builtin = debrief_engine::summarize::BuiltinEngine::default();
            let engine = match summary_engine(&engine, &builtin, config)? {
                Ok(engine) => engine,
                Err(code) => return Ok(code),
            };
            let reader = files::open_input(&input)?;
            let evaluated =
                judging::eval_summaries(reader, &mut std::io::stderr(), &engine, limit)?;
            let fell_back = if evaluated.fallbacks > 0 {
                format!(", {} fell back to the built-in engine", evaluated.fallbacks)
            } else {
                String::new()
            };
            println!(
                "summaries: ROUGE-1 {:.2} ROUGE-2 {:.2} ROUGE-L {:.2} (n={}, rejected {}){fell_back}",
                evaluated.scores.rouge1,
                evaluated.scores.rouge2,
                evaluated.scores.rouge_l,
                evaluated.records,
                evaluated.rejected
            );
            Ok(exit_for(evaluated.rejected))
        }
        Command::Eval(EvalCommand::IssueTypes {
            input,
            taxonomy,
            hold_out,
            predictions,
        }) => {
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
        Command::Eval(EvalCommand::Judge {
            input,
            judge,
            limit,
        }) => {
            let check = match llm::resolution_check(&judge, || load_settings(config, None, None))? {
                Ok(check) => check,
                Err(code) => return Ok(code),
            };
            let reader = files::open_input(&input)?;
            let (counts, rejected) =
                judging::eval_judge(reader, &mut std::io::stderr(), &check, limit)?;
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

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
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
    let state = AppState {
        clock: debrief_workflows::clock::Clock::system(),
        export_font: Some(settings.export_font.clone()).filter(|font| !font.is_empty()),
        secrets: Some(settings.secret_key.as_str())
            .filter(|key| !key.is_empty())
            .map(debrief_workflows::secrets::SecretBox::from_hex)
            .transpose()
            .context("secret_key")?,
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
    let delivering = tokio::spawn(
        debrief_workflows::webhooks::Deliverer::new(Arc::clone(&store), Arc::clone(&metrics))?.run(
            std::time::Duration::from_millis(settings.evaluation_interval_ms.max(10)),
            stop_evaluator.subscribe(),
        ),
    );
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
