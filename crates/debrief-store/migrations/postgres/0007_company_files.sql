-- A company's own engine files (its issue-type taxonomy, its applications catalogue), by kind;
-- the taxonomies move here (PostgreSQL).
create table company_files (
    company_id text not null references companies (id),
    kind text not null,
    body text not null,
    updated_at bigint not null,
    primary key (company_id, kind)
);
insert into company_files (company_id, kind, body, updated_at)
    select company_id, 'taxonomy', body, updated_at from taxonomies;
drop table taxonomies;
