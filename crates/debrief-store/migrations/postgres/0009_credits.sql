-- AI credits (SPEC section 6): grants with what is left of them, an append-only ledger, the
-- sessions already charged (one credit each, ever), the month's use and alerts (PostgreSQL).
create table credit_accounts (
    company_id text primary key references companies (id),
    debt bigint not null default 0,
    renewing_packs bigint not null default 0
);
create table credit_grants (
    id bigint generated always as identity primary key,
    company_id text not null references companies (id),
    -- free | addon_purchase | addon_renewal | adjustment
    source text not null,
    -- what makes the grant unique: the month of free credits, the date of a renewal, the id of
    -- a purchase or adjustment
    period text not null,
    amount bigint not null,
    remaining bigint not null,
    granted_at bigint not null,
    expires_at bigint not null,
    expired bigint not null default 0,
    -- add-on packs a purchase or renewal is for
    packs bigint not null default 0,
    unique (company_id, source, period)
);
create index credit_grants_live on credit_grants (company_id, expired, expires_at);
create table credit_ledger (
    seq bigint generated always as identity primary key,
    company_id text not null references companies (id),
    at bigint not null,
    -- grant | purchase | consume | expire | adjust
    kind text not null,
    amount bigint not null,
    source text not null,
    grant_id bigint,
    session_id text,
    valid_until bigint,
    reason text not null
);
create index credit_ledger_by_company on credit_ledger (company_id, seq);
create table charged_sessions (
    company_id text not null references companies (id),
    session_id text not null,
    charged_at bigint not null,
    primary key (company_id, session_id)
);
-- AI actions refused for lack of credits (the session stays unpaid).
create table credit_refusals (
    company_id text not null references companies (id),
    session_id text not null,
    refused_at bigint not null
);
create index credit_refusals_by_company on credit_refusals (company_id, refused_at);
create table credit_month_usage (
    company_id text not null references companies (id),
    month text not null,
    consumed bigint not null default 0,
    refused bigint not null default 0,
    primary key (company_id, month)
);
create table credit_alerts (
    company_id text not null references companies (id),
    period text not null,
    threshold bigint not null,
    balance bigint not null,
    granted bigint not null,
    created_at bigint not null,
    primary key (company_id, period, threshold)
);
