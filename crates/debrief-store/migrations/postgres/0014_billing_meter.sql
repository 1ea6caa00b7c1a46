-- The billing meter (PostgreSQL): per company, the billing rules' state after its last timeline
-- line (a serialized simulator, kept in the transaction of each line; null until built from
-- the timeline), and each month's statement stored once the month closed in the meter.
create table billing_meters (
    company_id text primary key references companies (id),
    version bigint not null default 0,
    state text,
    updated_at bigint not null default 0
);
create table billing_months (
    company_id text not null references companies (id),
    month text not null,
    statement text not null,
    primary key (company_id, month)
);
-- The credit side of a statement reads only the few lines that are not resolutions.
create index billing_events_by_kind on billing_events (company_id, kind, seq);
