//! Sessions in SQL: batched inserts (lz4-compressed bodies), reads and pages.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::Utc;
use debrief_core::{Session, SessionRecord};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::{
    consent_text, decode_body, from_micros, micros, retry_on_conflict, Bind, Filter, SqlStore,
};
use crate::{
    CompanyId, InsertOutcome, Result, SessionCursor, SessionPage, SessionQuery, SessionStore,
    StoreError, StoredSession, MAX_PAGE_SIZE,
};

/// A session body as stored: its JSON, lz4-compressed (a quarter of the bytes to write, on
/// either backend).
fn encode_body(json: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(json.as_bytes())
}

fn stored_session_from_row(row: &AnyRow) -> Result<StoredSession> {
    let body = decode_body(row)?;
    let session: Session = serde_json::from_str(&body)
        .map_err(|error| StoreError::Corrupt(format!("session body: {error}")))?;
    Ok(StoredSession {
        session,
        received_at: from_micros(row.try_get("created_at")?)?,
    })
}

/// A session reduced to its stored columns.
struct SessionRow<'a> {
    session: &'a Session,
    body: Vec<u8>,
    started_at: Option<i64>,
    sort_at: i64,
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_sessions(
        &self,
        company: &CompanyId,
        sessions: &[SessionRecord],
    ) -> Result<Vec<InsertOutcome>> {
        let now = micros(Utc::now());
        let mut outcomes = vec![InsertOutcome::Duplicate; sessions.len()];
        let mut seen_in_batch = HashSet::with_capacity(sessions.len());
        let mut rows = Vec::with_capacity(sessions.len());
        let mut row_positions = Vec::with_capacity(sessions.len());
        for (position, record) in sessions.iter().enumerate() {
            let session = record.session();
            if !seen_in_batch.insert(session.id.as_str()) {
                continue;
            }
            let started_at = session.started_at_utc().map(micros);
            rows.push(SessionRow {
                session,
                body: encode_body(record.json()),
                started_at,
                sort_at: started_at.unwrap_or(now),
            });
            row_positions.push(position);
        }

        // In key order, so that two servers storing overlapping batches lock the same rows in
        // the same order (no deadlock); a deadlock or serialization failure all the same is
        // retried.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|left, right| rows[*left].session.id.cmp(&rows[*right].session.id));
        let sorted: Vec<&SessionRow<'_>> = order.iter().map(|index| &rows[*index]).collect();
        let stored_ids =
            retry_on_conflict(|| self.write_session_rows(company, &sorted, now)).await?;

        for (row, position) in rows.iter().zip(row_positions) {
            if stored_ids.contains(row.session.id.as_str()) {
                outcomes[position] = InsertOutcome::Stored;
            }
        }
        Ok(outcomes)
    }

    async fn get_session(&self, company: &CompanyId, id: &str) -> Result<StoredSession> {
        let row = sqlx::query(
            "select body, created_at from sessions where company_id = $1 and external_id = $2",
        )
        .bind(&company.0)
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        stored_session_from_row(&row)
    }

    async fn list_sessions(
        &self,
        company: &CompanyId,
        query: &SessionQuery,
    ) -> Result<SessionPage> {
        let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
        let mut filter = Filter::default();
        filter.push_text("company_id = $", company.0.clone());
        if let Some(from) = query.from {
            filter.push_int("sort_at >= $", micros(from));
        }
        if let Some(to) = query.to {
            filter.push_int("sort_at < $", micros(to));
        }
        if let Some(supporter_id) = &query.supporter_id {
            filter.push_text("supporter_id = $", supporter_id.clone());
        }
        if let Some(channel) = query.channel {
            filter.push_text("channel = $", channel.as_str().to_string());
        }
        if let Some(platform) = query.platform {
            filter.push_text("platform = $", platform.as_str().to_string());
        }
        if let Some(reason) = &query.skip_reason {
            filter.push_text(
                "summary_state = 'skipped' and skip_reason = $",
                reason.clone(),
            );
        }

        let count_sql = format!(
            "select count(*) as total from sessions where {}",
            filter.sql()
        );
        let total: i64 = filter
            .bind_all(sqlx::query(&count_sql))
            .fetch_one(&self.pool)
            .await?
            .try_get("total")?;

        let mut page_filter = filter;
        if let Some(cursor) = query.cursor {
            let sort_at = page_filter.next_parameter();
            page_filter.binds.push(Bind::Int(cursor.sort_at));
            let seq = page_filter.next_parameter();
            page_filter.binds.push(Bind::Int(cursor.seq));
            page_filter.clauses.push(format!(
                "(sort_at < ${sort_at} or (sort_at = ${sort_at} and seq < ${seq}))"
            ));
        }
        let page_sql = format!(
            "select seq, sort_at, body, created_at from sessions where {} \
             order by sort_at desc, seq desc limit {}",
            page_filter.sql(),
            limit + 1
        );
        let rows = page_filter
            .bind_all(sqlx::query(&page_sql))
            .fetch_all(&self.pool)
            .await?;
        let has_more = rows.len() > limit as usize;
        let mut sessions = Vec::with_capacity(rows.len().min(limit as usize));
        let mut next_cursor = None;
        for row in rows.iter().take(limit as usize) {
            sessions.push(stored_session_from_row(row)?);
            next_cursor = Some(SessionCursor {
                sort_at: row.try_get("sort_at")?,
                seq: row.try_get("seq")?,
            });
        }
        Ok(SessionPage {
            sessions,
            next_cursor: if has_more { next_cursor } else { None },
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}

fn insert_sessions_sql(rows: usize) -> String {
    const COLUMNS: usize = 10;
    let mut sql = String::from(
        "insert into sessions (company_id, external_id, channel, platform, supporter_id, \
         started_at, sort_at, body, created_at, consent) values ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(row * COLUMNS + column + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(" on conflict (company_id, external_id) do nothing returning external_id");
    sql
}

impl SqlStore {
    /// Inserts session rows in one transaction; the ids newly stored.
    async fn write_session_rows(
        &self,
        company: &CompanyId,
        rows: &[&SessionRow<'_>],
        now: i64,
    ) -> Result<HashSet<String>> {
        let mut stored_ids: HashSet<String> = HashSet::with_capacity(rows.len());
        let mut transaction = self.pool.begin().await?;
        for chunk in rows.chunks(self.backend.insert_chunk_rows()) {
            let sql = insert_sessions_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(&company.0)
                    .bind(row.session.id.as_str())
                    .bind(row.session.channel.as_str())
                    .bind(row.session.platform().map(|platform| platform.as_str()))
                    .bind(row.session.supporter_id())
                    .bind(row.started_at)
                    .bind(row.sort_at)
                    .bind(row.body.as_slice())
                    .bind(now)
                    .bind(consent_text(row.session.consent));
            }
            for returned in query.fetch_all(&mut *transaction).await? {
                stored_ids.insert(returned.try_get("external_id")?);
            }
        }
        transaction.commit().await?;
        Ok(stored_ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sessions_sql(2);
        assert!(sql.contains("($1,$2,$3,$4,$5,$6,$7,$8,$9,$10),($11,"));
        assert!(sql.ends_with("($11,$12,$13,$14,$15,$16,$17,$18,$19,$20) on conflict (company_id, external_id) do nothing returning external_id"));
    }
}
