-- Conversations metered for automated resolutions, their verdicts, the audit trail, and the
-- resolutions counted (at most one per conversation) with their monthly counters (PostgreSQL).
create table conversations (
    seq bigint generated always as identity primary key,
    company_id text not null references companies (id),
    external_id text not null,
    agent text not null,
    channel text,
    body text not null,
    -- when the rules can first give a final verdict (null: no events yet)
    decidable_at bigint,
    -- bumped by every write, so an evaluation of an older version is not recorded
    version bigint not null,
    state text not null,
    verdict text,
    rule text,
    reason text,
    decided_at bigint,
    judge text,
    judge_rationale text,
    evaluated_by text,
    evaluated_at bigint,
    lease_until bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (company_id, external_id)
);
create index conversations_due on conversations (state, decidable_at);

create table verdict_audit (
    seq bigint generated always as identity primary key,
    company_id text not null references companies (id),
    conversation_id text not null,
    action text not null,
    verdict text not null,
    rule text not null,
    reason text not null,
    actor text not null,
    created_at bigint not null
);
create index verdict_audit_by_conversation on verdict_audit (company_id, conversation_id);

create table counted_resolutions (
    company_id text not null references companies (id),
    conversation_id text not null,
    channel text not null,
    month text not null,
    decided_at bigint not null,
    created_at bigint not null,
    primary key (company_id, conversation_id)
);

create table resolution_month_counters (
    company_id text not null references companies (id),
    month text not null,
    channel text not null,
    counted bigint not null,
    primary key (company_id, month, channel)
);
