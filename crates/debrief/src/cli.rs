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
pub(crate) enum ResolutionsCommand {
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
pub(crate) enum EvalCommand {
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

#[derive(Debug, Subcommand)]
pub(crate) enum BillingCommand {
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
pub(crate) enum CreditsCommand {
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
pub(crate) enum AdminCommand {
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
