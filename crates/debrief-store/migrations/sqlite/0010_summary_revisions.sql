-- Edited and deleted summaries (SQLite): every edit keeps the text it replaced, with who and
-- when; a deleted summary loses its text and revisions for good, and its session is not
-- summarized again.
create table summary_revisions (
    company_id text not null references companies (id),
    session_id text not null,
    revision bigint not null,
    -- the summary's JSON before this edit (revision 1 holds the original)
    body text not null,
    edited_by text not null,
    edited_at bigint not null,
    primary key (company_id, session_id, revision)
);
alter table summaries add column edited_by text;
alter table summaries add column edited_at bigint;
