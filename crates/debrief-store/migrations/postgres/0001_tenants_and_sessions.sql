-- Tenants, people, API tokens and ingested sessions (PostgreSQL).
-- Timestamps are unix microseconds in UTC; dates are ISO 8601 text.
create table companies (
    id text primary key,
    name text not null unique,
    tier text not null,
    time_zone text not null,
    term_start text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table users (
    id text primary key,
    company_id text not null references companies (id),
    name text not null,
    role text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index users_by_company on users (company_id);

create table api_tokens (
    id text primary key,
    company_id text not null references companies (id),
    user_id text not null references users (id),
    label text not null,
    token_hash text not null unique,
    created_at bigint not null,
    revoked_at bigint
);
create index api_tokens_by_company on api_tokens (company_id);

create table sessions (
    seq bigint generated always as identity primary key,
    company_id text not null references companies (id),
    external_id text not null,
    channel text not null,
    platform text,
    supporter_id text,
    started_at bigint,
    sort_at bigint not null,
    -- the session's JSON, lz4-compressed (lz4_flex, size prepended)
    body bytea not null,
    created_at bigint not null,
    unique (company_id, external_id)
);
create index sessions_by_time on sessions (company_id, sort_at, seq);
