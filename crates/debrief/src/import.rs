//! `debrief import`: streams a JSON Lines file of sessions into the store in constant memory.
//!
//! A reader thread parses and validates lines into batches; the async side stores each batch
//! in one transaction. Storing is idempotent on (company, id), so an import that was
//! interrupted (even by kill -9) is finished by running it again: every line ends up stored
//! exactly once.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use debrief_core::{RecordError, SessionRecord};
use debrief_store::{Company, InsertOutcome, Store};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

/// How many rejected lines the final report lists one by one; the rest are only counted, so
/// that memory stays flat for any file.
const LISTED_REJECTIONS: usize = 100;

/// Batches queued between the parser thread and the store.
const QUEUED_BATCHES: usize = 4;

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub error: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// The first rejections, in line order.
    pub rejections: Vec<Rejection>,
    pub elapsed: Duration,
}

impl ImportReport {
    /// Sessions handled per second (stored and duplicate).
    pub fn rate(&self) -> f64 {
        (self.stored + self.duplicates) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn reject(&mut self, line: u64, error: &RecordError) {
        self.rejected += 1;
        if self.rejections.len() < LISTED_REJECTIONS {
            self.rejections.push(Rejection {
                line,
                error: error.to_string(),
            });
        }
    }

    /// The human-readable summary printed at the end.
    pub fn render(&self) -> String {
        let mut text = format!(
            "import finished in {:.1}s: {} lines, {} stored, {} duplicates, {} rejected ({:.0} sessions/s)\n",
            self.elapsed.as_secs_f64(),
            self.lines,
            self.stored,
            self.duplicates,
            self.rejected,
            self.rate()
        );
        for rejection in &self.rejections {
            text.push_str(&format!("  line {}: {}\n", rejection.line, rejection.error));
        }
        if self.rejected > self.rejections.len() as u64 {
            text.push_str(&format!(
                "  … and {} more rejected lines\n",
                self.rejected - self.rejections.len() as u64
            ));
        }
        text
    }
}

/// Parsed lines on their way to the store.
struct Batch {
    sessions: Vec<SessionRecord>,
    /// The line number of each session.
    session_lines: Vec<u64>,
    rejected: Vec<(u64, RecordError)>,
    lines: u64,
    bytes: u64,
}

/// Checks one line: a valid session of `company` (its `company` field, when present, must
/// name it).
fn parse_line(bytes: &[u8], company: &str) -> Result<SessionRecord, RecordError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        RecordError::invalid(
            debrief_core::error::ROOT_FIELD,
            format!("not valid utf-8: {error}"),
        )
    })?;
    let record = SessionRecord::parse(text)?;
    if let Some(named) = &record.session().company {
        if named != company {
            return Err(RecordError::invalid(
                "company",
                format!("names {named:?}, not the imported company {company:?}"),
            ));
        }
    }
    Ok(record)
}

/// Reads `input` line by line and sends batches of up to `batch_size` sessions.
fn read_batches(
    input: Box<dyn Read + Send>,
    company: String,
    batch_size: usize,
    sender: mpsc::Sender<anyhow::Result<Batch>>,
) {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = Vec::with_capacity(8 * 1024);
    let mut line_number = 0u64;
    let new_batch = || Batch {
        sessions: Vec::with_capacity(batch_size),
        session_lines: Vec::with_capacity(batch_size),
        rejected: Vec::new(),
        lines: 0,
        bytes: 0,
    };
    let mut batch = new_batch();
    loop {
        line.clear();
        let read = match reader.read_until(b'\n', &mut line) {
            Ok(read) => read,
            Err(error) => {
                let _ = sender
                    .blocking_send(Err(anyhow::Error::new(error)
                        .context(format!("reading line {}", line_number + 1))));
                return;
            }
        };
        if read == 0 {
            break;
        }
        line_number += 1;
        batch.lines += 1;
        batch.bytes += read as u64;
        let content = line.trim_ascii();
        if !content.is_empty() {
            match parse_line(content, &company) {
                Ok(session) => {
                    batch.sessions.push(session);
                    batch.session_lines.push(line_number);
                }
                Err(error) => batch.rejected.push((line_number, error)),
            }
        }
        if batch.sessions.len() >= batch_size {
            let full = std::mem::replace(&mut batch, new_batch());
            if sender.blocking_send(Ok(full)).is_err() {
                return;
            }
        }
    }
    let _ = sender.blocking_send(Ok(batch));
}

/// Progress shown while importing: a bar on a terminal, a plain line every few seconds
/// otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(total_bytes: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total_bytes.unwrap_or(0));
            let template = if total_bytes.is_some() {
                "{bar:40} {bytes}/{total_bytes} {msg} ETA {eta}"
            } else {
                "{spinner} {bytes} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, bytes: u64, report: &ImportReport) {
        let records = report.stored + report.duplicates + report.rejected;
        let rate = records as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        match &self.bar {
            Some(bar) => {
                bar.set_position(bytes);
                bar.set_message(format!("{records} records, {rate:.0} records/s"));
            }
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                self.last_line = Instant::now();
                eprintln!(
                    "progress: {records} records ({} stored, {} duplicates, {} rejected), {rate:.0} records/s",
                    report.stored, report.duplicates, report.rejected
                );
            }
            None => {}
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Imports `path` (`-` for standard input) into `company`'s sessions.
/// Stores a batch the database refused as a whole one session at a time, so that the good
/// lines are kept and each refused one is reported with its line; an error when none could
/// be stored (the database itself is failing).
async fn store_one_by_one(
    store: &dyn Store,
    company: &Company,
    batch: &Batch,
) -> Result<(Vec<InsertOutcome>, Vec<(u64, RecordError)>), debrief_store::StoreError> {
    let mut outcomes = Vec::with_capacity(batch.sessions.len());
    let mut refused = Vec::new();
    let mut last_error = None;
    for (session, line) in batch.sessions.iter().zip(&batch.session_lines) {
        match store
            .insert_sessions(&company.id, std::slice::from_ref(session))
            .await
        {
            Ok(stored) => outcomes.extend(stored),
            Err(error) => {
                refused.push((
                    *line,
                    RecordError::invalid(
                        debrief_core::error::ROOT_FIELD,
                        format!("the database refused it: {error}"),
                    ),
                ));
                last_error = Some(error);
            }
        }
    }
    match last_error {
        Some(error) if outcomes.is_empty() => Err(error),
        _ => Ok((outcomes, refused)),
    }
}

pub async fn import_file(
    store: Arc<dyn Store>,
    company: &Company,
    path: &Path,
    batch_size: usize,
) -> anyhow::Result<ImportReport> {
    let (input, total_bytes): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let length = file.metadata().ok().map(|metadata| metadata.len());
        (Box::new(file), length)
    };
    let (sender, mut receiver) = mpsc::channel(QUEUED_BATCHES);
    let company_name = company.name.clone();
    let batch_size = batch_size.max(1);
    let reader = std::thread::spawn(move || read_batches(input, company_name, batch_size, sender));

    let started = Instant::now();
    let mut progress = Progress::new(total_bytes);
    let mut report = ImportReport::default();
    let mut bytes = 0u64;
    while let Some(batch) = receiver.recv().await {
        let mut batch = batch?;
        let outcomes = match store.insert_sessions(&company.id, &batch.sessions).await {
            Ok(outcomes) => outcomes,
            Err(error) => {
                let (outcomes, refused) =
                    store_one_by_one(store.as_ref(), company, &batch)
                        .await
                        .with_context(|| format!("storing a batch of sessions: {error}"))?;
                batch.rejected.extend(refused);
                batch.rejected.sort_by_key(|(line, _)| *line);
                outcomes
            }
        };
        for outcome in outcomes {
            match outcome {
                InsertOutcome::Stored => report.stored += 1,
                InsertOutcome::Duplicate => report.duplicates += 1,
            }
        }
        for (line, error) in &batch.rejected {
            report.reject(*line, error);
        }
        report.lines += batch.lines;
        bytes += batch.bytes;
        progress.update(bytes, &report);
    }
    progress.finish();
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    store
        .settle()
        .await
        .context("settling the database after the import")?;
    report.elapsed = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_another_company_are_rejected_naming_the_field() {
        let error =
            parse_line(br#"{"id": "a", "company": "globex"}"#, "acme").expect_err("other company");
        assert_eq!(error.field.as_deref(), Some("company"));
        assert!(parse_line(br#"{"id": "a", "company": "acme"}"#, "acme").is_ok());
    }

    #[test]
    fn invalid_utf8_is_rejected_not_fatal() {
        let error = parse_line(b"{\"id\": \"\xff\"}", "acme").expect_err("bad utf-8");
        assert!(error.reason.contains("utf-8"));
    }

    #[test]
    fn the_report_lists_rejections_with_line_numbers() {
        let mut report = ImportReport::default();
        for line in 1..=(LISTED_REJECTIONS as u64 + 5) {
            report.reject(line, &RecordError::invalid("id", "must not be empty"));
        }
        let text = report.render();
        assert!(text.contains("line 1: id: must not be empty"));
        assert!(text.contains("and 5 more rejected lines"));
        assert_eq!(report.rejections.len(), LISTED_REJECTIONS);
    }
}
