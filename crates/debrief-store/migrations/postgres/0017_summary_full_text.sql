-- Full-text search of summaries (PostgreSQL): each summary's searchable text (its title and
-- summary) as a tsvector of its words as written (the `simple` configuration: any case, accents
-- kept, no stop words), kept by the database with every write of the row, under a GIN index.
-- The query brings the stems in the five product languages (debrief-store's search.rs), so
-- SQLite and PostgreSQL find the same summaries.
alter table summaries add column search_vector tsvector
    generated always as (to_tsvector('simple', search_text)) stored;
create index summaries_search on summaries using gin (search_vector);
