-- Who made a token (it acts with at most their rights) and when it stops working.
alter table api_tokens add column created_by text;
alter table api_tokens add column expires_at bigint;
alter table api_tokens add column idle_seconds bigint;
alter table api_tokens add column last_used_at bigint;
