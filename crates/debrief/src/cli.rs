//! The command line as clap reads it: every command, its flags and their help.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};

use crate::{bench, billing};

/// Debrief: AI summaries of support sessions, and metering of what that AI costs.
#[derive(Debug, Parser)]
#[command(name = "debrief", version)]
pub(crate) struct Cli {
    /// Configuration file (default: debrief.toml in the working directory, if present).
    #[arg(long, global = true)]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--db URL`, shared by every command that opens the store.
#[derive(Debug, Args)]
pub(crate) struct DatabaseArgs {
    /// Database URL: sqlite://FILE (default sqlite://debrief.db) or postgres://…
    #[arg(long = "db", value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start the HTTP server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Import sessions from a JSON Lines file (`-` for standard input).
    Import(ImportArgs),
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
    Export(ExportArgs),
    /// Summarize sessions (JSON Lines in and out; no database).
    Summarize(SummarizeArgs),
    /// Issue types and applications of each session (JSON Lines in and out).
    Classify(ClassifyArgs),
    /// Judge whether each session's problem was solved (JSON Lines in and out).
    Judge(JudgeArgs),
    /// Measure quality against labelled evaluation data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Train the built-in engines' weights from labelled evaluation data.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Print a commented configuration file with the defaults.
    ConfigExample,
    /// Benchmark helpers: generate data and measure the parse ceiling.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ResolutionsCommand {
    /// Verdicts for conversations (JSON Lines in, JSON Lines out); needs no database.
    Evaluate(ResolutionsEvaluateArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// ROUGE-1/2/L F1 of an engine's summaries against `reference_summaries`.
    Summaries(EvalSummariesArgs),
    /// Accuracy and macro-F1 of the first issue type against `issue_type`.
    IssueTypes(EvalIssueTypesArgs),
    /// Precision, recall and F1 of the judge against `resolved_majority`.
    Judge(EvalJudgeArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrainCommand {
    /// The "was it solved?" judge: cross-validates its settings on dialogues labelled with
    /// `resolved_majority`, prints the table and writes the weights to ship
    /// (`crates/debrief-engine/src/solved_weights.json`).
    Judge(TrainJudgeArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BillingCommand {
    /// Replay a billing timeline (JSON Lines) into a month-by-month statement.
    Simulate(BillingSimulateArgs),
    /// A stored company's monthly statement: its history replayed by the same rules.
    Statement(BillingStatementArgs),
    /// Write a stored company's history as a timeline for `billing simulate` (a forecast is
    /// this file with hypothetical events appended).
    ExportTimeline(BillingExportTimelineArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CreditsCommand {
    /// A company's credits now: balance by source and expiry, debt, this month's use and the
    /// newest ledger entries.
    Report(CreditsReportArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a company and its admin user; the admin's API token is the last line printed.
    CreateCompany(AdminCreateCompanyArgs),
    /// Set a company's free monthly AI credits (the operator's choice, not the company's): a
    /// number, or `tier` for the tier's number; from the next month's grant on.
    SetCredits(AdminSetCreditsArgs),
    /// Change a company's license tier; its free credits follow from the next month's grant.
    SetTier(AdminSetTierArgs),
}

/// The arguments of `Serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Create a demo company with built-in sessions, and print its admin token.
    #[arg(long)]
    pub(crate) demo: bool,
}

/// The arguments of `Migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `Import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    pub(crate) file: PathBuf,
    /// The company the sessions belong to.
    #[arg(long)]
    pub(crate) company: String,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
    /// Sessions stored per transaction.
    #[arg(long, default_value_t = 1000)]
    pub(crate) batch_size: usize,
}

/// The arguments of `Export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// pdf, markdown, html, json or csv.
    #[arg(long)]
    pub(crate) format: String,
    /// en, pt-BR, es, de or fr (default: the company's language).
    #[arg(long)]
    pub(crate) language: Option<String>,
    /// The file (`-` for standard output).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Sessions that started at or after this time (RFC 3339).
    #[arg(long)]
    pub(crate) from: Option<chrono::DateTime<Utc>>,
    /// Sessions that started before this time (RFC 3339).
    #[arg(long)]
    pub(crate) to: Option<chrono::DateTime<Utc>>,
    /// Words that must all appear in the title or the summary.
    #[arg(long)]
    pub(crate) search: Option<String>,
    #[arg(long)]
    pub(crate) issue_type: Option<String>,
    #[arg(long)]
    pub(crate) application: Option<String>,
    /// The supporter's id.
    #[arg(long)]
    pub(crate) supporter: Option<String>,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `Summarize`.
#[derive(Debug, Args)]
pub(crate) struct SummarizeArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// builtin, openai (the `[llm.openai]` server) or local (the `[llm.local]` model).
    #[arg(long, default_value = "builtin")]
    pub(crate) engine: String,
    /// An issue-type taxonomy file (default: the built-in IT taxonomy).
    #[arg(long)]
    pub(crate) taxonomy: Option<PathBuf>,
    /// Language of labels and templates: en, pt-BR, es, de or fr.
    #[arg(long, default_value = "en")]
    pub(crate) language: String,
}

/// The arguments of `Classify`.
#[derive(Debug, Args)]
pub(crate) struct ClassifyArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// An issue-type taxonomy file (default: the built-in IT taxonomy).
    #[arg(long)]
    pub(crate) taxonomy: Option<PathBuf>,
}

/// The arguments of `Judge`.
#[derive(Debug, Args)]
pub(crate) struct JudgeArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// builtin, llm (the configured model), always-pass or always-fail.
    #[arg(long, default_value = "builtin")]
    pub(crate) judge: String,
}

/// The arguments of `AdminCreateCompany`.
#[derive(Debug, Args)]
pub(crate) struct AdminCreateCompanyArgs {
    pub(crate) name: String,
    /// License tier: standard, business, premium, corporate or tensor.
    #[arg(long)]
    pub(crate) tier: String,
    /// IANA time zone of the company.
    #[arg(long, default_value = "UTC")]
    pub(crate) time_zone: String,
    /// First day of the license term (YYYY-MM-DD); default the 1st of this month.
    #[arg(long)]
    pub(crate) term_start: Option<NaiveDate>,
    /// Name of the admin user.
    #[arg(long, default_value = "Admin")]
    pub(crate) admin_name: String,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `AdminSetCredits`.
#[derive(Debug, Args)]
pub(crate) struct AdminSetCreditsArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// Free credits a month, or `tier`.
    #[arg(long)]
    pub(crate) free_monthly: String,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `AdminSetTier`.
#[derive(Debug, Args)]
pub(crate) struct AdminSetTierArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// standard, business, premium, corporate or tensor.
    #[arg(long)]
    pub(crate) tier: String,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `ResolutionsEvaluate`.
#[derive(Debug, Args)]
pub(crate) struct ResolutionsEvaluateArgs {
    /// Conversations, one per line (`-` for standard input).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Verdicts, one per line (`-` for standard output).
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// The moment of evaluation (RFC 3339).
    #[arg(long)]
    pub(crate) as_of: DateTime<FixedOffset>,
    /// The LLM check: builtin, llm (the configured model), always-pass or always-fail.
    #[arg(long, default_value = "builtin")]
    pub(crate) judge: String,
    /// Threads that evaluate (default: one per core); the output is the same for any number.
    #[arg(long)]
    pub(crate) threads: Option<std::num::NonZeroUsize>,
}

/// The arguments of `EvalSummaries`.
#[derive(Debug, Args)]
pub(crate) struct EvalSummariesArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// builtin, openai or local.
    #[arg(long, default_value = "builtin")]
    pub(crate) engine: String,
    /// Only the first N records.
    #[arg(long)]
    pub(crate) limit: Option<u64>,
}

/// The arguments of `EvalIssueTypes`.
#[derive(Debug, Args)]
pub(crate) struct EvalIssueTypesArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[arg(long)]
    pub(crate) taxonomy: PathBuf,
    /// Leave each record's own text out of the taxonomy's examples.
    #[arg(long)]
    pub(crate) hold_out: bool,
    /// Write the predictions (`{"id", "issue_types"}` lines) here too.
    #[arg(long)]
    pub(crate) predictions: Option<PathBuf>,
}

/// The arguments of `EvalJudge`.
#[derive(Debug, Args)]
pub(crate) struct EvalJudgeArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// builtin, llm, always-pass or always-fail.
    #[arg(long, default_value = "builtin")]
    pub(crate) judge: String,
    /// Only the first N records.
    #[arg(long)]
    pub(crate) limit: Option<u64>,
}

/// The arguments of `TrainJudge`.
#[derive(Debug, Args)]
pub(crate) struct TrainJudgeArgs {
    /// Dialogues labelled with `resolved_majority` (JSON Lines).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Where to write the weights (`-` for standard output).
    #[arg(long)]
    pub(crate) output: PathBuf,
}

/// The arguments of `BillingSimulate`.
#[derive(Debug, Args)]
pub(crate) struct BillingSimulateArgs {
    /// The timeline (`-` for standard input).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// The statement (`-` for standard output).
    #[arg(long)]
    pub(crate) output: PathBuf,
}

/// The arguments of `BillingStatement`.
#[derive(Debug, Args)]
pub(crate) struct BillingStatementArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// First month (YYYY-MM).
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Last month (YYYY-MM).
    #[arg(long)]
    pub(crate) to: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: billing::StatementFormat,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `BillingExportTimeline`.
#[derive(Debug, Args)]
pub(crate) struct BillingExportTimelineArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// The timeline (`-` for standard output).
    #[arg(long)]
    pub(crate) output: PathBuf,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

/// The arguments of `CreditsReport`.
#[derive(Debug, Args)]
pub(crate) struct CreditsReportArgs {
    #[arg(long)]
    pub(crate) company: String,
    /// Ledger entries to show, newest last.
    #[arg(long, default_value_t = 20)]
    pub(crate) entries: u32,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}
