-- Summaries of sessions and their queue: every stored session waits for its summary (SQLite).
alter table sessions add column summary_state text not null default 'pending';
alter table sessions add column summary_attempts bigint not null default 0;
alter table sessions add column summary_next_at bigint not null default 0;
alter table sessions add column summary_lease_until bigint;
alter table sessions add column summary_error text;
create index sessions_summary_queue on sessions (summary_state, summary_next_at);

create table summaries (
    company_id text not null references companies (id),
    session_id text not null,
    body text not null,
    engine text not null,
    language text not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (company_id, session_id)
);
