-- Full-text search of summaries (SQLite): an FTS5 index of each summary's searchable text (its
-- title and summary), kept by triggers in the transaction that writes, edits or deletes the
-- summary. Words are indexed as written (any case, accents kept), as on PostgreSQL; the query
-- brings the stems (debrief-store's search.rs), so both stores find the same summaries.
create virtual table summaries_fts using fts5(
    search_text,
    content = 'summaries',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);

create trigger summaries_fts_insert after insert on summaries begin
    insert into summaries_fts (rowid, search_text) values (new.rowid, new.search_text);
end;

create trigger summaries_fts_delete after delete on summaries begin
    insert into summaries_fts (summaries_fts, rowid, search_text)
    values ('delete', old.rowid, old.search_text);
end;

create trigger summaries_fts_update after update of search_text on summaries begin
    insert into summaries_fts (summaries_fts, rowid, search_text)
    values ('delete', old.rowid, old.search_text);
    insert into summaries_fts (rowid, search_text) values (new.rowid, new.search_text);
end;

insert into summaries_fts (summaries_fts) values ('rebuild');
