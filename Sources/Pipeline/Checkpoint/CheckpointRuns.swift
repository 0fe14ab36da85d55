import MemifyCore

/// The runs log: each run's start, end, status and summary, and what `status` prints.
extension StateDatabase {
    /// Records a run's start. Call it holding the run lock: a row still `running` then belongs to
    /// a run that died (SIGKILL, power loss) and is marked `aborted`.
    package func startRun(_ runID: String) throws {
        // One transaction, one commit.
        try changingRunRow { try database.transaction { () throws(DatabaseError) in
            try database.execute("""
                UPDATE runs SET status = 'aborted', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE status = 'running'
                """)
            try database.withStatement(
                "INSERT INTO runs (run_id, started_at, status) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'running')",
                operation: "record run start") { stmt throws(DatabaseError) in
                try stmt.bind(1, runID)
                _ = try stmt.step()
            }
        } }
    }

    package func finishRun(_ runID: String, status: String, exitCode: Int32, summary: String) throws {
        try changingRunRow { try database.withStatement(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), status = ?2, exit_code = ?3, summary = ?4 WHERE run_id = ?1",
            operation: "record run end") { stmt throws(DatabaseError) in
            try stmt.bind(1, runID)
            try stmt.bind(2, status)
            try stmt.bind(3, Int64(exitCode))
            try stmt.bind(4, summary)
            _ = try stmt.step()
        } }
    }

    package struct Status: Sendable {
        package var turns: Int
        package var sessions: Int
        package var openQuarantine: Int
        package var resolvedQuarantine: Int
        package var lastRuns: [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)]
        package var lastSuccess: String?
    }

    /// When a run last finished with status done or partial.
    package func lastSuccess() throws -> String? {
        try database.withStatement("SELECT max(finished_at) FROM runs WHERE status IN ('done', 'partial')",
                                   operation: "read last success") { stmt throws(DatabaseError) -> String? in
            _ = try stmt.step()
            return stmt.text(0)
        }
    }

    /// Everything `status` prints. Counts every checkpoint: not for the end of each run.
    package func status(lastRuns: Int = 5) throws -> Status {
        func count(_ sql: String) throws(DatabaseError) -> Int {
            try database.withStatement(sql, operation: "count") { stmt throws(DatabaseError) -> Int in
                _ = try stmt.step()
                return Int(stmt.int64(0))
            }
        }
        let runs = try database.withStatement(
            "SELECT run_id, started_at, finished_at, status, summary FROM runs ORDER BY started_at DESC LIMIT \(max(1, lastRuns))",
            operation: "read runs"
        ) { stmt throws(DatabaseError) -> [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)] in
            var out: [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)] = []
            while try stmt.step() { out.append((stmt.text(0) ?? "", stmt.text(1) ?? "", stmt.text(2), stmt.text(3) ?? "", stmt.text(4))) }
            return out
        }
        return Status(turns: try count("SELECT count(*) FROM turns"), sessions: try count("SELECT count(*) FROM sessions"),
                      openQuarantine: try openQuarantineCount(),
                      resolvedQuarantine: try count("SELECT count(*) FROM quarantine WHERE resolved_run_id IS NOT NULL"),
                      lastRuns: runs, lastSuccess: try lastSuccess())
    }
}
