-- Webhooks (PostgreSQL): a company's endpoints, and an outbox written in the same transaction as
-- the event it announces, delivered (and retried) by the server's deliverer.
create table webhook_endpoints (
    company_id text not null references companies (id),
    id text not null,
    url text not null,
    secret text not null,
    -- the event names it receives, separated by spaces
    events text not null,
    created_at bigint not null,
    primary key (company_id, id)
);
create table webhook_outbox (
    id bigint generated always as identity primary key,
    company_id text not null references companies (id),
    endpoint_id text not null,
    event text not null,
    payload text not null,
    created_at bigint not null,
    next_attempt_at bigint not null,
    lease_until bigint,
    attempts bigint not null default 0,
    -- pending | delivered | failed (given up after 24 hours)
    state text not null default 'pending',
    last_status bigint,
    last_error text
);
create index webhook_outbox_due on webhook_outbox (state, next_attempt_at);
create index webhook_outbox_by_endpoint on webhook_outbox (company_id, endpoint_id, id);
create table webhook_attempts (
    delivery_id bigint not null,
    attempt bigint not null,
    at bigint not null,
    status bigint,
    error text,
    primary key (delivery_id, attempt)
);
