-- The insights page's list and overview (PostgreSQL): each summary keeps its session's time and
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

update summaries m set
    sort_at = s.sort_at,
    supporter_id = s.supporter_id,
    title = coalesce(m.body::jsonb ->> 'title', ''),
    search_text = lower(coalesce(m.body::jsonb ->> 'title', '') || ' '
        || coalesce(m.body::jsonb ->> 'summary', ''))
from sessions s
where s.company_id = m.company_id and s.external_id = m.session_id
  and jsonb_typeof(m.body::jsonb) = 'object';

insert into summary_tags (company_id, session_id, kind, name, sort_at)
select m.company_id, m.session_id, tag.kind, tag.name, m.sort_at
from summaries m
cross join lateral (
    select 'issue_type' as kind, value as name
    from jsonb_array_elements_text(case when jsonb_typeof(m.body::jsonb -> 'issue_types') = 'array'
        then m.body::jsonb -> 'issue_types' else '[]'::jsonb end)
    union
    select 'application', value
    from jsonb_array_elements_text(case when jsonb_typeof(m.body::jsonb -> 'applications') = 'array'
        then m.body::jsonb -> 'applications' else '[]'::jsonb end)
) tag
on conflict do nothing;
