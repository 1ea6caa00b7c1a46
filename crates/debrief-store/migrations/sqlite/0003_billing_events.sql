-- A company's billing timeline (FORMATS.md section 6 lines): the account, seat changes,
-- commitments, settings, and one `resolution` line per counted resolution (SQLite).
create table billing_events (
    seq integer primary key autoincrement,
    company_id text not null references companies (id),
    at bigint not null,
    kind text not null,
    line text not null,
    -- set on a resolution line: the conversation it counts
    conversation_id text,
    created_at bigint not null
);
create index billing_events_by_company on billing_events (company_id, seq);
create unique index billing_events_one_account on billing_events (company_id) where kind = 'account';
create unique index billing_events_one_per_conversation on billing_events (company_id, conversation_id);
