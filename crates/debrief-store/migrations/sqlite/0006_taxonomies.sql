-- A company's own issue-type taxonomy (FORMATS.md section 5), replacing the built-in one (SQLite).
create table taxonomies (
    company_id text primary key references companies (id),
    body text not null,
    updated_at bigint not null
);
