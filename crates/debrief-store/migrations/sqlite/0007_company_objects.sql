-- A company's own objects, each a JSON document by kind and id: its issue-type taxonomy and
-- applications files, AI settings, support modules, devices, policies and custom roles. The
-- taxonomies move here (SQLite).
create table company_objects (
    company_id text not null references companies (id),
    kind text not null,
    id text not null,
    body text not null,
    updated_at bigint not null,
    primary key (company_id, kind, id)
);
insert into company_objects (company_id, kind, id, body, updated_at)
    select company_id, 'taxonomy', '', body, updated_at from taxonomies;
drop table taxonomies;
