-- Full-text search of summaries (PostgreSQL): each summary's searchable text (its title and
-- summary) as a tsvector stemmed in the summary's narrative language, kept by the database with
-- every write of the row, under a GIN index.
alter table summaries add column search_vector tsvector generated always as (
    to_tsvector(
        case split_part(coalesce(body::jsonb ->> 'narrative_language', 'en'), '-', 1)
            when 'pt' then 'portuguese'::regconfig
            when 'es' then 'spanish'::regconfig
            when 'de' then 'german'::regconfig
            when 'fr' then 'french'::regconfig
            else 'english'::regconfig
        end,
        search_text
    )
) stored;
create index summaries_search on summaries using gin (search_vector);
