-- Governance: who may do what, and who gets a summary (SQLite).
-- Users: the supporter id sessions name them by, e-mail and password for sign-in, and the
-- "log sessions for connection reports" setting (1 = on).
alter table users add column supporter_id text;
alter table users add column email text;
alter table users add column password_hash text;
alter table users add column log_sessions bigint not null default 1;
create unique index users_by_supporter on users (company_id, supporter_id);
create unique index users_by_email on users (company_id, email);
-- An integration token acts with its own role instead of its user's.
alter table api_tokens add column role text;
-- Consent: the remote user's answer, the device's mode when the session was first evaluated,
-- and why a session is not summarized (final: no change can make it eligible).
alter table sessions add column consent text not null default 'none';
alter table sessions add column consent_mode text;
alter table sessions add column skip_reason text;
alter table sessions add column skip_final bigint not null default 0;
