-- What each verdict was made with, the month it belongs to, and usage alerts (PostgreSQL).
alter table conversations add column judge_model text;
alter table conversations add column prompt_version text;
alter table conversations add column verdict_month text;
create index conversations_by_verdict_month on conversations (company_id, verdict_month);

create table usage_alerts (
    company_id text not null references companies (id),
    period text not null,
    threshold bigint not null,
    used bigint not null,
    available bigint not null,
    created_at bigint not null,
    primary key (company_id, period, threshold)
);
