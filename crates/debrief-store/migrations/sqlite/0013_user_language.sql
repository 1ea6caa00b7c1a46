-- A user's language for the web pages and exports (en, pt-BR, es, de, fr); null: the
-- company's insights language (sqlite).
alter table users add column language text;
