-- The insights page's list and overview (SQLite): each summary keeps its session's time and
-- supporter, its title, and its searchable text (title and summary, lower-cased), and its issue
-- types and applications are rows of summary_tags, so neither reads every summary's JSON.
alter table summaries add column sort_at bigint not null default 0;
alter table summaries add column supporter_id text;
alter table summaries add column title text not null default '';
alter table summaries add column search_text text not null default '';
create index summaries_by_time on summaries (company_id, sort_at);
-- The overview's counts by state and skip reason read this index alone.
create index sessions_by_state on sessions (company_id, sort_at, summary_state, skip_reason);

-- Derived rows, written and deleted with their summary in its transaction; no foreign key to
-- companies (the summary has one): on PostgreSQL that check per tag row cost more than the
-- insert itself and grew with the table.
create table summary_tags (
    company_id text not null,
    session_id text not null,
    -- 'issue_type' or 'application'
    kind text not null,
    name text not null,
    sort_at bigint not null,
    primary key (company_id, session_id, kind, name)
);
create index summary_tags_by_time on summary_tags (company_id, sort_at, kind, name);
create index summary_tags_by_name on summary_tags (company_id, kind, name, sort_at);

update summaries set
    sort_at = coalesce((select s.sort_at from sessions s
        where s.company_id = summaries.company_id and s.external_id = summaries.session_id), 0),
    supporter_id = (select s.supporter_id from sessions s
        where s.company_id = summaries.company_id and s.external_id = summaries.session_id),
    title = coalesce(json_extract(body, '$.title'), ''),
    search_text = lower(coalesce(json_extract(body, '$.title'), '') || ' '
        || coalesce(json_extract(body, '$.summary'), ''))
where json_valid(body);

insert into summary_tags (company_id, session_id, kind, name, sort_at)
select m.company_id, m.session_id, 'issue_type', tag.value, m.sort_at
from summaries m, json_each(m.body, '$.issue_types') tag
where json_valid(m.body) and json_type(m.body, '$.issue_types') = 'array' and tag.type = 'text'
on conflict do nothing;

insert into summary_tags (company_id, session_id, kind, name, sort_at)
select m.company_id, m.session_id, 'application', tag.value, m.sort_at
from summaries m, json_each(m.body, '$.applications') tag
where json_valid(m.body) and json_type(m.body, '$.applications') = 'array' and tag.type = 'text'
on conflict do nothing;
