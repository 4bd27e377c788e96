import GRDB

extension ChainStore {
    /// Copies every page of the write-ahead log into the database file and empties the log
    /// (SQLite's `wal_checkpoint(TRUNCATE)`), so the file alone holds the chain. SQLite keeps
    /// the log at up to about 4 MiB between its own checkpoints whatever the chain's length;
    /// measuring the store's bytes per entry needs it folded in first.
    /// - Returns: false when a reader still held some of the log's pages, which stay in it.
    /// - Throws: GRDB's `DatabaseError` when SQLite cannot checkpoint.
    public func checkpointWAL() throws -> Bool {
        let busy = try pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") ?? 0
        }
        return busy == 0
    }
}

extension ChainStore {
    /// Bytes of the database file in use: its pages less those on SQLite's free list (pages
    /// freed by pruning, which later blocks reuse; the file itself shrinks only by `VACUUM`).
    public func bytesInUse() throws -> Int64 {
        try reader.read { db in
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return (pages - free) * size
        }
    }
}
