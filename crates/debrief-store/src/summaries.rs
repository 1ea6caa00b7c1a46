//! Session summaries and their queue. Every stored session starts `pending`; a worker claims
//! pending sessions (leased), writes the summary and marks the session `done` in one
//! transaction, so a session never gets two summaries; failures retry with backoff until
//! they give up (`failed`, with the error). A session that is not eligible for a summary is
//! `skipped` with its reason; a final reason (a refusal of consent) keeps it skipped, any other
//! puts it back in the queue when what it depends on changes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use debrief_core::governance::{ConsentMode, SkipReason};
use debrief_core::session::ConsentAnswer;
use debrief_core::summary::Summary;
use sqlx::Row;

use crate::search::TextQuery;
use crate::sql::{decode_body, from_micros, micros, Bind, Filter, SqlStore};
use crate::{CompanyId, Result, Store, StoreError};

/// A session claimed for summarizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryJob {
    pub seq: i64,
    pub company: CompanyId,
    pub session_id: String,
    /// The session's JSON.
    pub session: String,
    pub attempts: i64,
    /// The remote user's answer.
    pub consent: ConsentAnswer,
    /// The device's consent mode, fixed when the session was first evaluated.
    pub consent_mode: Option<ConsentMode>,
}

/// A period the overview counts: sessions that started (or arrived) in `[from, to)`; an open
/// end is no bound.
#[derive(Debug, Clone, Default)]
pub struct SummaryRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// How many sessions of a period stand where: summarized, waiting, failed, deleted, and
/// skipped by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SummaryCounts {
    pub sessions: i64,
    pub summarized: i64,
    pub pending: i64,
    pub failed: i64,
    pub deleted: i64,
    /// (reason, sessions), most frequent first.
    pub skipped: Vec<(String, i64)>,
}

/// What the insights list shows: summaries of sessions in `[from, to)` that match every filter
/// given, newest session first, `limit` from `offset`.
#[derive(Debug, Clone, Default)]
pub struct SummarySearch {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Words that must all appear in the title or the summary text (any case; the syntax of
    /// the `search` module): matched through the full-text index and ranked by relevance.
    pub text: Option<String>,
    pub issue_type: Option<String>,
    pub application: Option<String>,
    pub supporter_id: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// One summary of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryListItem {
    pub session_id: String,
    pub summary: Summary,
    /// When the session started (or, without a start, arrived).
    pub sort_at: DateTime<Utc>,
    pub supporter_id: Option<String>,
}

/// One page of a [`SummarySearch`], with how many summaries match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryListPage {
    pub items: Vec<SummaryListItem>,
    pub total: u64,
}

/// Summaries of a period by issue type and by application, most frequent first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TagCounts {
    pub issue_types: Vec<(String, i64)>,
    pub applications: Vec<(String, i64)>,
}

/// Replaces a stored summary's tags (its session's time is `sort_at`) with one statement.
async fn write_tags(
    connection: &mut sqlx::AnyConnection,
    company: &CompanyId,
    session_id: &str,
    sort_at: i64,
    summary: &Summary,
) -> Result<()> {
    sqlx::query("delete from summary_tags where company_id = $1 and session_id = $2")
        .bind(&company.0)
        .bind(session_id)
        .execute(&mut *connection)
        .await?;
    let tags = summary.tags();
    if tags.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..tags.len())
        .map(|row| {
            let first = row * 2 + 4;
            format!("($1, $2, ${first}, ${}, $3)", first + 1)
        })
        .collect();
    let sql = format!(
        "insert into summary_tags (company_id, session_id, kind, name, sort_at) values {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql)
        .bind(&company.0)
        .bind(session_id)
        .bind(sort_at);
    for (kind, name) in tags {
        query = query.bind(kind.as_str()).bind(name);
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// A stored summary document.
fn read_summary(body: &str) -> Result<Summary> {
    Summary::from_json(body).map_err(|error| StoreError::Corrupt(format!("summary: {error}")))
}

/// A stored consent answer.
fn consent_answer(text: &str) -> Result<ConsentAnswer> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("consent answer {text:?}")))
}

/// A stored consent mode.
fn consent_mode(text: &str) -> Result<ConsentMode> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("consent mode {text:?}")))
}

/// One edit of a summary: the text it replaced, who and when.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryRevision {
    pub revision: i64,
    /// The summary before the edit (revision 1 holds what the engine wrote).
    pub replaced: Summary,
    pub edited_by: String,
    pub edited_at: DateTime<Utc>,
}

/// What happened to a consent answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    /// Recorded; the session is evaluated again.
    Recorded,
    /// The remote user had already answered (this answer).
    AlreadyAnswered(ConsentAnswer),
    /// The device does not ask (its consent mode).
    NotAsked(ConsentMode),
}

/// Where a session's summary stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryState {
    Ready(Box<Summary>),
    Pending,
    /// Given up, with the last error.
    Failed(String),
    /// Not summarized, with the reason, and whether that is final.
    Skipped {
        reason: String,
        is_final: bool,
    },
    /// Deleted by a user: its text is gone for good.
    Deleted,
}

/// Summaries and their queue.
#[async_trait]
pub trait SummaryStore: Send + Sync {
    /// Claims up to `limit` sessions whose summary is due at `now`, for `lease_seconds`.
    async fn claim_summary_jobs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<SummaryJob>>;

    /// Stores a claimed session's summary and marks it done, once: false when it already
    /// had one.
    async fn complete_summary_job(
        &self,
        job: &SummaryJob,
        summary: &Summary,
        consent_mode: ConsentMode,
    ) -> Result<bool>;

    /// Records that a claimed session is not eligible, and why (its text, and whether the
    /// reason is final).
    async fn skip_summary_job(
        &self,
        job: &SummaryJob,
        reason: &SkipReason,
        consent_mode: ConsentMode,
    ) -> Result<()>;

    /// Replaces a session's summary with `summary`, keeping the text it replaces as a revision
    /// with who and when, in one transaction. [`StoreError::NotFound`] when the session has no
    /// summary (or another company's).
    async fn edit_summary(
        &self,
        company: &CompanyId,
        session_id: &str,
        summary: &Summary,
    ) -> Result<()>;

    /// How the company's sessions of a time range stand.
    async fn summary_counts(
        &self,
        company: &CompanyId,
        range: &SummaryRange,
    ) -> Result<SummaryCounts>;

    /// The edits of a session's summary, oldest first.
    async fn summary_revisions(
        &self,
        company: &CompanyId,
        session_id: &str,
    ) -> Result<Vec<SummaryRevision>>;

    /// Deletes a session's summary and its revisions for good; the session is not summarized
    /// again. [`StoreError::NotFound`] when it has none.
    async fn delete_summary(&self, company: &CompanyId, session_id: &str) -> Result<()>;

    /// Records the remote user's answer to the consent question of a session.
    async fn record_consent(
        &self,
        company: &CompanyId,
        session_id: &str,
        allowed: bool,
    ) -> Result<ConsentChange>;

    /// Records a failed attempt: retried at `retry_at`, or given up when `None`.
    async fn fail_summary_job(
        &self,
        job: &SummaryJob,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()>;

    /// A session's summary state; another company's session is [`StoreError::NotFound`].
    async fn summary_state(&self, company: &CompanyId, session_id: &str) -> Result<SummaryState>;

    /// One page of the company's summaries that match `search`.
    async fn search_summaries(
        &self,
        company: &CompanyId,
        search: &SummarySearch,
    ) -> Result<SummaryListPage>;

    /// The company's summaries of a period counted by issue type and by application.
    async fn summary_tag_counts(
        &self,
        company: &CompanyId,
        range: &SummaryRange,
    ) -> Result<TagCounts>;
}

#[async_trait]
impl SummaryStore for SqlStore {
    async fn claim_summary_jobs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<SummaryJob>> {
        let now = micros(now);
        let sql = format!(
            "update sessions set summary_lease_until = $1 where seq in (\
             select seq from sessions where summary_state = 'pending' and summary_next_at <= $2 \
             and (summary_lease_until is null or summary_lease_until < $2) \
             order by summary_next_at, seq limit $3{}) \
             returning seq, company_id, external_id, body, summary_attempts, consent, consent_mode",
            self.backend().claim_lock()
        );
        sqlx::query(&sql)
            .bind(now + lease_seconds * 1_000_000)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(SummaryJob {
                    seq: row.try_get("seq")?,
                    company: CompanyId(row.try_get("company_id")?),
                    session_id: row.try_get("external_id")?,
                    session: decode_body(row)?,
                    attempts: row.try_get("summary_attempts")?,
                    consent: consent_answer(&row.try_get::<String, _>("consent")?)?,
                    consent_mode: row
                        .try_get::<Option<String>, _>("consent_mode")?
                        .as_deref()
                        .map(consent_mode)
                        .transpose()?,
                })
            })
            .collect()
    }

    async fn complete_summary_job(
        &self,
        job: &SummaryJob,
        summary: &Summary,
        consent_mode: ConsentMode,
    ) -> Result<bool> {
        let now = micros(Utc::now());
        let mut transaction = self.pool().begin().await?;
        let body = summary.to_json();
        let inserted = sqlx::query(
            "insert into summaries (company_id, session_id, body, engine, language, created_at, updated_at, \
             sort_at, supporter_id, title, search_text) \
             select $1, $2, $3, $4, $5, $6, $6, sort_at, supporter_id, $8, $9 from sessions where seq = $7 \
             on conflict (company_id, session_id) do nothing returning sort_at",
        )
        .bind(&job.company.0)
        .bind(job.session_id.as_str())
        .bind(&body)
        .bind(&summary.engine)
        .bind(&summary.language)
        .bind(now)
        .bind(job.seq)
        .bind(&summary.title)
        .bind(summary.search_text())
        .fetch_optional(&mut *transaction)
        .await?;
        if let Some(row) = &inserted {
            write_tags(
                &mut transaction,
                &job.company,
                &job.session_id,
                row.try_get("sort_at")?,
                summary,
            )
            .await?;
            crate::webhooks::enqueue(
                &mut *transaction,
                &job.company,
                "summary.created",
                serde_json::json!({"session_id": job.session_id, "summary": summary}),
            )
            .await?;
        }
        sqlx::query(
            "update sessions set summary_state = 'done', summary_lease_until = null, summary_error = null, \
             skip_reason = null, consent_mode = $2 where seq = $1",
        )
        .bind(job.seq)
        .bind(consent_mode.as_str())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(inserted.is_some())
    }

    async fn skip_summary_job(
        &self,
        job: &SummaryJob,
        reason: &SkipReason,
        consent_mode: ConsentMode,
    ) -> Result<()> {
        sqlx::query(
            "update sessions set summary_state = 'skipped', summary_lease_until = null, \
             skip_reason = $2, skip_final = $3, consent_mode = $4 where seq = $1",
        )
        .bind(job.seq)
        .bind(reason.to_string())
        .bind(i64::from(reason.is_final()))
        .bind(consent_mode.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn edit_summary(
        &self,
        company: &CompanyId,
        session_id: &str,
        summary: &Summary,
    ) -> Result<()> {
        let edited = summary.edited.as_ref().ok_or_else(|| {
            StoreError::Invalid("an edited summary must say who edited it".into())
        })?;
        let (edited_by, at) = (edited.by.as_str(), edited.at);
        let mut transaction = self.pool().begin().await?;
        let current: String =
            sqlx::query("select body from summaries where company_id = $1 and session_id = $2")
                .bind(&company.0)
                .bind(session_id)
                .fetch_optional(&mut *transaction)
                .await?
                .ok_or(StoreError::NotFound)?
                .try_get("body")?;
        sqlx::query(
            "insert into summary_revisions (company_id, session_id, revision, body, edited_by, edited_at) \
             select $1, $2, coalesce(max(revision), 0) + 1, $3, $4, $5 from summary_revisions \
             where company_id = $1 and session_id = $2",
        )
        .bind(&company.0)
        .bind(session_id)
        .bind(&current)
        .bind(edited_by)
        .bind(micros(at))
        .execute(&mut *transaction)
        .await?;
        let sort_at: i64 = sqlx::query(
            "update summaries set body = $3, edited_by = $4, edited_at = $5, updated_at = $5, \
             title = $6, search_text = $7 where company_id = $1 and session_id = $2 returning sort_at",
        )
        .bind(&company.0)
        .bind(session_id)
        .bind(summary.to_json())
        .bind(edited_by)
        .bind(micros(at))
        .bind(&summary.title)
        .bind(summary.search_text())
        .fetch_one(&mut *transaction)
        .await?
        .try_get("sort_at")?;
        write_tags(&mut transaction, company, session_id, sort_at, summary).await?;
        crate::webhooks::enqueue(
            &mut *transaction,
            company,
            "summary.updated",
            serde_json::json!({"session_id": session_id, "edited_by": edited_by, "summary": summary}),
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn summary_counts(
        &self,
        company: &CompanyId,
        range: &SummaryRange,
    ) -> Result<SummaryCounts> {
        let rows = sqlx::query(
            "select summary_state as state, coalesce(skip_reason, '') as reason, count(*) as sessions \
             from sessions where company_id = $1 and sort_at >= $2 and sort_at < $3 \
             group by summary_state, coalesce(skip_reason, '')",
        )
        .bind(&company.0)
        .bind(range.from.map_or(i64::MIN, micros))
        .bind(range.to.map_or(i64::MAX, micros))
        .fetch_all(self.pool())
        .await?;
        let mut counts = SummaryCounts::default();
        for row in &rows {
            let state: String = row.try_get("state")?;
            let sessions: i64 = row.try_get("sessions")?;
            counts.sessions += sessions;
            match state.as_str() {
                "done" => counts.summarized += sessions,
                "failed" => counts.failed += sessions,
                "deleted" => counts.deleted += sessions,
                "skipped" => counts.skipped.push((row.try_get("reason")?, sessions)),
                _ => counts.pending += sessions,
            }
        }
        counts
            .skipped
            .sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        Ok(counts)
    }

    async fn summary_revisions(
        &self,
        company: &CompanyId,
        session_id: &str,
    ) -> Result<Vec<SummaryRevision>> {
        sqlx::query(
            "select revision, body, edited_by, edited_at from summary_revisions \
             where company_id = $1 and session_id = $2 order by revision",
        )
        .bind(&company.0)
        .bind(session_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(SummaryRevision {
                revision: row.try_get("revision")?,
                replaced: read_summary(&row.try_get::<String, _>("body")?)?,
                edited_by: row.try_get("edited_by")?,
                edited_at: from_micros(row.try_get("edited_at")?)?,
            })
        })
        .collect()
    }

    async fn delete_summary(&self, company: &CompanyId, session_id: &str) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        let deleted =
            sqlx::query("delete from summaries where company_id = $1 and session_id = $2")
                .bind(&company.0)
                .bind(session_id)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["summary_revisions", "summary_tags"] {
            sqlx::query(&format!(
                "delete from {table} where company_id = $1 and session_id = $2"
            ))
            .bind(&company.0)
            .bind(session_id)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query(
            "update sessions set summary_state = 'deleted' where company_id = $1 and external_id = $2",
        )
        .bind(&company.0)
        .bind(session_id)
        .execute(&mut *transaction)
        .await?;
        crate::webhooks::enqueue(
            &mut *transaction,
            company,
            "summary.deleted",
            serde_json::json!({"session_id": session_id}),
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn record_consent(
        &self,
        company: &CompanyId,
        session_id: &str,
        allowed: bool,
    ) -> Result<ConsentChange> {
        let answer = if allowed {
            ConsentAnswer::Allowed
        } else {
            ConsentAnswer::Denied
        };
        let mut transaction = self.pool().begin().await?;
        let row = sqlx::query(
            "select consent, consent_mode from sessions where company_id = $1 and external_id = $2",
        )
        .bind(&company.0)
        .bind(session_id)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)?;
        let consent = consent_answer(&row.try_get::<String, _>("consent")?)?;
        let mode: Option<String> = row.try_get("consent_mode")?;
        if consent != ConsentAnswer::None {
            return Ok(ConsentChange::AlreadyAnswered(consent));
        }
        match mode.as_deref().map(consent_mode).transpose()? {
            Some(ConsentMode::AfterConfirmation) | None => {}
            Some(mode) => return Ok(ConsentChange::NotAsked(mode)),
        }
        // A skipped session is evaluated again; a pending one reads the answer when claimed.
        sqlx::query(
            "update sessions set consent = $3, \
             summary_state = case when summary_state = 'skipped' and skip_final = 0 \
             then 'pending' else summary_state end, \
             summary_next_at = case when summary_state = 'skipped' then 0 else summary_next_at end \
             where company_id = $1 and external_id = $2 and consent = 'none'",
        )
        .bind(&company.0)
        .bind(session_id)
        .bind(answer.as_str())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(ConsentChange::Recorded)
    }

    async fn fail_summary_job(
        &self,
        job: &SummaryJob,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let state = if retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        sqlx::query(
            "update sessions set summary_state = $1, summary_attempts = summary_attempts + 1, \
             summary_next_at = $2, summary_lease_until = null, summary_error = $3 where seq = $4",
        )
        .bind(state)
        .bind(retry_at.map(micros).unwrap_or(0))
        .bind(error)
        .bind(job.seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn summary_state(&self, company: &CompanyId, session_id: &str) -> Result<SummaryState> {
        let row = sqlx::query(
            "select s.summary_state as state, s.summary_error as error, s.skip_reason as skip_reason, \
             s.skip_final as skip_final, m.body as summary \
             from sessions s left join summaries m \
             on m.company_id = s.company_id and m.session_id = s.external_id \
             where s.company_id = $1 and s.external_id = $2",
        )
        .bind(&company.0)
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        if let Some(summary) = row.try_get::<Option<String>, _>("summary")? {
            return Ok(SummaryState::Ready(Box::new(read_summary(&summary)?)));
        }
        let state: String = row.try_get("state")?;
        Ok(match state.as_str() {
            "failed" => SummaryState::Failed(
                row.try_get::<Option<String>, _>("error")?
                    .unwrap_or_default(),
            ),
            "skipped" => SummaryState::Skipped {
                reason: row
                    .try_get::<Option<String>, _>("skip_reason")?
                    .unwrap_or_default(),
                is_final: row.try_get::<i64, _>("skip_final")? != 0,
            },
            "deleted" => SummaryState::Deleted,
            _ => SummaryState::Pending,
        })
    }

    async fn search_summaries(
        &self,
        company: &CompanyId,
        search: &SummarySearch,
    ) -> Result<SummaryListPage> {
        // With a tag filter the rows come from that tag's index (`summary_tags_by_name`), else
        // from the summaries' time index; either way every row is the company's.
        let tags = [
            ("issue_type", &search.issue_type),
            ("application", &search.application),
        ];
        let mut tag_filters = tags
            .iter()
            .filter_map(|(kind, name)| name.as_ref().map(|name| (*kind, name.clone())));
        let mut filter = Filter::default();
        let text = search.text.as_deref().and_then(TextQuery::parse);
        // A text search on SQLite reads the full-text index first: `cross join` fixes that order,
        // which SQLite's planner may otherwise turn round into one search of the index per
        // summary of the company.
        let mut from = match (&text, self.backend()) {
            (Some(_), crate::Backend::Sqlite) => {
                "summaries_fts f cross join summaries m on m.rowid = f.rowid".to_string()
            }
            _ => "summaries m".to_string(),
        };
        let time = match tag_filters.next() {
            Some((kind, name)) => {
                filter.push_text("t.company_id = $", company.0.clone());
                filter.push_text(&format!("t.kind = '{kind}' and t.name = $"), name);
                from.push_str(
                    " join summary_tags t \
                     on t.company_id = m.company_id and t.session_id = m.session_id",
                );
                "t.sort_at"
            }
            None => {
                filter.push_text("m.company_id = $", company.0.clone());
                "m.sort_at"
            }
        };
        if let Some(from) = search.from {
            filter.push_int(&format!("{time} >= $"), micros(from));
        }
        if let Some(to) = search.to {
            filter.push_int(&format!("{time} < $"), micros(to));
        }
        if let Some(supporter_id) = &search.supporter_id {
            filter.push_text("m.supporter_id = $", supporter_id.clone());
        }
        for (kind, name) in tag_filters {
            filter.push_text(
                &format!(
                    "exists (select 1 from summary_tags o where o.company_id = m.company_id \
                     and o.session_id = m.session_id and o.kind = '{kind}' and o.name = $"
                ),
                name,
            );
            if let Some(last) = filter.clauses.last_mut() {
                last.push(')');
            }
        }
        // A text search reads the full-text index and ranks by relevance, newest first among
        // equals; without one the newest come first.
        let order = match (&text, self.backend()) {
            (None, _) => String::new(),
            (Some(query), crate::Backend::Sqlite) => {
                filter.push_text("summaries_fts match $", query.fts5());
                "f.rank, ".to_string()
            }
            (Some(query), crate::Backend::Postgres) => {
                let tsquery = format!("to_tsquery('simple', ${})", filter.next_parameter());
                filter.clauses.push(format!("m.search_vector @@ {tsquery}"));
                filter.binds.push(Bind::Text(query.tsquery()));
                format!("ts_rank(m.search_vector, {tsquery}) desc, ")
            }
        };
        let count_sql = format!(
            "select count(*) as total from {from} where {}",
            filter.sql()
        );
        let total: i64 = filter
            .bind_all(sqlx::query(&count_sql))
            .fetch_one(self.pool())
            .await?
            .try_get("total")?;
        let page_sql = format!(
            "select m.session_id, m.body, m.sort_at, m.supporter_id from {from} where {} \
             order by {order}{time} desc, m.session_id desc limit {} offset {}",
            filter.sql(),
            search.limit.clamp(1, crate::MAX_PAGE_SIZE),
            search.offset
        );
        let items = filter
            .bind_all(sqlx::query(&page_sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(SummaryListItem {
                    session_id: row.try_get("session_id")?,
                    summary: read_summary(&row.try_get::<String, _>("body")?)?,
                    sort_at: from_micros(row.try_get("sort_at")?)?,
                    supporter_id: row.try_get("supporter_id")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SummaryListPage {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    async fn summary_tag_counts(
        &self,
        company: &CompanyId,
        range: &SummaryRange,
    ) -> Result<TagCounts> {
        // `+sort_at` keeps SQLite on `summary_tags_by_name`, whose order is the grouping's:
        // reading the company's tags in that order beats sorting a period's (ten times, at
        // 100,000 summaries). PostgreSQL reads `+sort_at` as `sort_at`.
        let rows = sqlx::query(
            "select kind, name, count(*) as summaries from summary_tags \
             where company_id = $1 and +sort_at >= $2 and +sort_at < $3 group by kind, name",
        )
        .bind(&company.0)
        .bind(range.from.map_or(i64::MIN, micros))
        .bind(range.to.map_or(i64::MAX, micros))
        .fetch_all(self.pool())
        .await?;
        let mut counts = TagCounts::default();
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let pair = (row.try_get("name")?, row.try_get("summaries")?);
            match kind.as_str() {
                "issue_type" => counts.issue_types.push(pair),
                _ => counts.applications.push(pair),
            }
        }
        for pairs in [&mut counts.issue_types, &mut counts.applications] {
            pairs.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::StoreBefore;
    use crate::testing::{create_test_company, test_summary, TestDatabase};

    /// The full-text index is built from the summaries stored before it existed.
    #[tokio::test]
    async fn summaries_stored_before_the_full_text_index_are_found_through_it() {
        let database = TestDatabase::sqlite();
        let before = StoreBefore::open(&database.url, 17).await;
        let store = &before.store;
        let company = create_test_company(store, "acme").await.company.id;
        for (session, text) in [
            ("a", "printer offline spooler restarted"),
            ("b", "vpn drops"),
        ] {
            sqlx::query(
                "insert into summaries (company_id, session_id, body, engine, language, \
                 created_at, updated_at, sort_at, title, search_text) \
                 values ($1, $2, $3, 'builtin-1', 'en', 0, 0, 0, '', $4)",
            )
            .bind(&company.0)
            .bind(session)
            .bind(test_summary(session, text, "", &[], &[]).to_json())
            .bind(text)
            .execute(store.pool())
            .await
            .expect("a summary as stored before");
        }
        before.migrate().await;

        let found = |text: &str| SummarySearch {
            text: Some(text.into()),
            limit: 10,
            ..Default::default()
        };
        let total = |page: SummaryListPage| page.total;
        assert_eq!(
            total(
                store
                    .search_summaries(&company, &found("printers"))
                    .await
                    .expect("search")
            ),
            1
        );
        assert_eq!(
            total(
                store
                    .search_summaries(&company, &found("vpn"))
                    .await
                    .expect("search")
            ),
            1
        );
        database.remove().await;
    }
}
