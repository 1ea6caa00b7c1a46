"""Times the summary search of the insights page as SQL on a SQLite database left by
`debrief bench insights`: the store's count and page queries through the FTS5 index against the
substring scan (`instr`) they replaced. Usage: python3 scripts/bench-fts.py DATABASE [WORD ...]
(default words: "printer offline", "zebra1234", "nosuchword"; each argument is one search)."""
import sqlite3
import statistics
import sys
import time

connection = sqlite3.connect(sys.argv[1])
company = connection.execute("select company_id from summaries limit 1").fetchone()[0]
since = connection.execute("select min(sort_at) from summaries").fetchone()[0]


def median_ms(sql, arguments, runs=7):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = connection.execute(sql, arguments).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), rows


searches = [text.split() for text in sys.argv[2:]] or [["printer", "offline"], ["zebra1234"], ["nosuchword"]]
for words in searches:
    scan = " and ".join("instr(m.search_text, ?) > 0" for _ in words)
    scan_from = "summaries m where m.company_id = ? and m.sort_at >= ?"
    fts_from = ("summaries_fts f cross join summaries m on m.rowid = f.rowid "
                "where m.company_id = ? and m.sort_at >= ? and summaries_fts match ?")
    query = " ".join(f'"{word.lower()}"*' for word in words)
    scan_count, rows = median_ms(f"select count(*) from {scan_from} and {scan}", [company, since] + words)
    scan_page, _ = median_ms(
        f"select m.session_id, m.body from {scan_from} and {scan} "
        "order by m.sort_at desc, m.session_id desc limit 20", [company, since] + words)
    fts_count, _ = median_ms(f"select count(*) from {fts_from}", [company, since, query])
    fts_page, _ = median_ms(
        f"select m.session_id, m.body from {fts_from} "
        "order by f.rank, m.sort_at desc, m.session_id desc limit 20", [company, since, query])
    print(f"{' '.join(words)!r}: {rows[0][0]} matches | instr count {scan_count:.1f} ms, "
          f"page {scan_page:.1f} ms | FTS5 count {fts_count:.1f} ms, page {fts_page:.1f} ms")
