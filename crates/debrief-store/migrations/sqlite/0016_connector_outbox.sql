-- Connectors push through the webhook outbox (SQLite). A connector moves out of
-- company_objects into a table of its own, beside the events it pushes (none for the ones set up
-- before: they were pushed by hand) and how it is doing; an outbox row says whether it goes to a
-- webhook endpoint or to a connector (its kind in endpoint_id); an attempt keeps the remote
-- answer's body; the incident or case a connector opened for a session without a ticket is
-- recorded so that later pushes go to the same one.
create table connectors (
    company_id text not null references companies (id),
    kind text not null,
    -- the connector's JSON document, its secret sealed
    settings text not null,
    -- the event names it pushes, separated by spaces
    events text not null,
    -- the first failed attempt since the last delivered one
    failing_since bigint,
    -- when "failing for an hour" was raised for that stretch of failures
    alerted_at bigint,
    updated_at bigint not null,
    primary key (company_id, kind)
);
insert into connectors (company_id, kind, settings, events, updated_at)
    select company_id, id, body, '', updated_at from company_objects where kind = 'connector';
delete from company_objects where kind = 'connector';
create table connector_records (
    company_id text not null references companies (id),
    kind text not null,
    session_id text not null,
    record_id text not null,
    created_at bigint not null,
    primary key (company_id, kind, session_id)
);
-- webhook | connector
alter table webhook_outbox add column target text not null default 'webhook';
alter table webhook_attempts add column body text;
