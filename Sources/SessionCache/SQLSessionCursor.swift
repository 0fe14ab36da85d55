import MemifyCore
import Synchronization

/// The rows of one session, copied out of the driver's buffers: payloads end to end. A session
/// the filter does not want keeps no bytes.
private struct SessionRows {
    var key: SessionKey
    var wanted: Bool
    var bytes: [UInt8] = []
    var ranges: [Range<Int>] = []
    var seqs: [Int64] = []

    mutating func append(_ row: SQLCacheRow) {
        guard wanted else { return }
        let start = bytes.count
        bytes.append(contentsOf: row.payload)
        ranges.append(start..<bytes.count)
        seqs.append(row.seq)
    }
}

/// Hands out the sessions of a SQL cache.
///
/// Without known fingerprints (a first run, `sessions` commands) it pages through the rows in
/// index order, a session's rows together. With them (an incremental run) it first reads every
/// row once in `seq` order, the table's own order, and folds each into its session's running
/// fingerprint (``ChangeScan``): reading in index order would cost a lookup a row where cognee
/// wrote sessions' turns interleaved, more than twice a plain read. Then it hands out the sessions
/// it found, in the order their first rows came, the unchanged ones as counts, and reads only
/// the changed ones.
final class SQLSessionCursor: SessionCursor {
    private struct State {
        /// The last row read in index order.
        var position: SQLCachePosition?
        /// The last session of the last page: more of its rows may follow.
        var pending: SessionRows?
        var exactIndex = 0
        var finished = false
        var scan: ChangeScan?
        /// The change scan was made (it is made once, on the first batch).
        var scanned = false
        /// Its sessions were compared with the known fingerprints.
        var compared = false
        /// How many of the scan's sessions were handed out.
        var listed = 0
    }

    /// Rows a query reads at most.
    static let pageRows = 2_000

    private let reader: any SQLCacheReader
    private let executor: BlockingExecutor
    private let filter: SessionFilter
    private let expiry: Double?
    private let batchSize: Int
    private let fingerprints: SessionFingerprints?
    private let malformed: MalformedKeys?
    private let state = Mutex(State())

    init(reader: any SQLCacheReader, executor: BlockingExecutor, filter: SessionFilter, expiry: Double?,
         batchSize: Int, fingerprints: SessionFingerprints?, malformed: MalformedKeys? = nil) {
        self.malformed = malformed
        self.reader = reader
        self.executor = executor
        self.filter = filter
        self.expiry = expiry
        self.batchSize = batchSize
        self.fingerprints = fingerprints
    }

    func nextBatch() async throws -> [SessionRead]? {
        if fingerprints != nil, filter.exactKeys == nil, !state.withLock({ $0.scanned }) {
            // The change scan needs the known fingerprints only at its end: it reads while they
            // load (and, through PrimedSource, while the run sets up).
            try await executor.run { [self] in
                try state.withLock { (state: inout State) throws in
                    if !state.scanned {
                        state.scan = try ChangeScan(reader: reader, filter: filter, expiry: expiry)
                        state.scanned = true
                    }
                }
            }
        }
        let known = await fingerprints?.known.value
        return try await executor.run { [self] in try fetch(known: known) }
    }

    /// Blocking: the next sessions, read and decoded; nil at the end.
    private func fetch(known: KnownFingerprints?) throws -> [SessionRead]? {
        try state.withLock { (state: inout State) throws -> [SessionRead]? in
            while true {
                let sessions: [SessionRows]
                if let exact = filter.exactKeys {
                    guard state.exactIndex < exact.count else { return nil }
                    let slice = exact[state.exactIndex..<min(exact.count, state.exactIndex + batchSize)]
                    state.exactIndex += slice.count
                    var collected: [SessionRows] = []
                    for key in slice { try reader.rows(of: key, expiry: expiry) { collect($0, into: &collected) } }
                    sessions = collected
                } else if let fingerprints, let known, known.count > 0, state.scan != nil {
                    if !state.compared {
                        state.scan?.compare(fingerprints: fingerprints, known: known)
                        state.compared = true
                    }
                    guard let reads = try nextListed(&state, known: known) else { return nil }
                    if !reads.isEmpty { return reads }
                    continue
                } else {
                    // No fingerprints to compare with (a first run): every session is read
                    // whole, a session's rows together, and the scan is not needed.
                    state.scan = nil
                    guard let page = try nextPage(&state) else { return nil }
                    sessions = page
                }
                // A session listed, then emptied by cognee before its rows were read, has
                // vanished: it is absent, as a deleted Redis key is.
                let wanted = sessions.filter { $0.wanted && !$0.ranges.isEmpty }
                if !wanted.isEmpty { return wanted.map { assemble($0, known: known) } }
            }
        }
    }

    /// The sessions completed by the next page in index order; nil at the end.
    private func nextPage(_ state: inout State) throws -> [SessionRows]? {
        if state.finished {
            defer { state.pending = nil }
            return state.pending.map { [$0] }
        }
        var sessions: [SessionRows] = state.pending.map { [$0] } ?? []
        var last: SQLCachePosition?
        let count = try reader.page(after: state.position, userID: singleUser, expiry: expiry, limit: Self.pageRows) { row in
            if let key = collect(row, into: &sessions) { last = SQLCachePosition(key: key, seq: row.seq) }
        }
        if let last { state.position = last }
        if count < Self.pageRows {
            state.finished = true
            state.pending = nil
            return sessions.isEmpty ? nil : sessions
        }
        state.pending = sessions.popLast()
        return sessions
    }

    /// After the change scan: the next of the sessions it found, unchanged ones as counts and
    /// changed ones read and decoded; nil at the end.
    private func nextListed(_ state: inout State, known: KnownFingerprints) throws -> [SessionRead]? {
        guard let scan = state.scan, state.listed < scan.sessions.count else { return nil }
        let slice = scan.sessions[state.listed..<min(scan.sessions.count, state.listed + batchSize)]
        state.listed += slice.count
        var reads: [SessionRead] = []
        for tally in slice {
            guard let key = tally.key else { continue }  // not wanted, or ids that are not UTF-8
            if !tally.changed {
                var read = SessionRead(key: key, location: reader.location)
                read.unchangedCount = Int(tally.running.count)
                reads.append(read)
                continue
            }
            var rows: [SessionRows] = []
            try reader.rows(of: key, expiry: expiry) { collect($0, into: &rows) }
            // Emptied by cognee since the scan: vanished, as a deleted Redis key is.
            if let session = rows.first, !session.ranges.isEmpty { reads.append(assemble(session, known: known)) }
        }
        return reads
    }

    private var singleUser: String? { filter.userIDs.count == 1 ? filter.userIDs.first : nil }

    /// Adds a row to its session (rows come grouped by session); returns the session's key,
    /// nil for ids that are not UTF-8 (no session of cognee's).
    @discardableResult
    private func collect(_ row: SQLCacheRow, into sessions: inout [SessionRows]) -> SessionKey? {
        if let last = sessions.last, last.key.userID.utf8.elementsEqual(row.userID),
           last.key.sessionID.utf8.elementsEqual(row.sessionID) {
            sessions[sessions.count - 1].append(row)
            return last.key
        }
        guard let user = String(validating: row.userID, as: UTF8.self),
              let session = String(validating: row.sessionID, as: UTF8.self) else {
            malformed?.record(userID: row.userID, sessionID: row.sessionID)
            return nil
        }
        let key = SessionKey(userID: user, sessionID: session)
        var rows = SessionRows(key: key, wanted: filter.matches(key))
        rows.append(row)
        sessions.append(rows)
        return key
    }

    private func assemble(_ rows: SessionRows, known: KnownFingerprints?) -> SessionRead {
        var read = SessionRead(key: rows.key, location: reader.location)
        rows.bytes.withUnsafeBufferPointer { buffer in
            if let fingerprints, let known {
                var running = SessionFingerprints.Running()
                for range in rows.ranges { running.add(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[range]))) }
                var scratch: [UInt8] = []
                let fingerprint = fingerprints.finish(running, scratch: &scratch)
                if known[KeyFingerprint(Array(rows.key.cacheKey.utf8))] == fingerprint {
                    read.unchangedCount = rows.ranges.count
                    return
                }
                read.fingerprint = fingerprint.hex
            }
            var text = EntryTextArena(capacity: rows.bytes.count)
            read.elements.reserveCapacity(rows.ranges.count)
            for (i, range) in rows.ranges.enumerated() {
                read.decode(index: i, bytes: UnsafeBufferPointer(rebasing: buffer[range]), text: &text)
            }
        }
        for i in read.errors.indices {
            read.errors[i].error.reason = "row seq \(rows.seqs[read.errors[i].index]): " + read.errors[i].error.reason
        }
        return read
    }
}

/// Every visible row of a SQL cache read once in `seq` order, folded into a running
/// fingerprint for each session: afterwards each session is known as changed or not without
/// reading it again. Holds ~80 bytes a session, none a row. Sessions are found by a 64-bit hash
/// of their ids: two sessions sharing one would both read as changed and be read in full, never
/// as unchanged.
struct ChangeScan: Sendable {
    struct Tally: Sendable {
        var running = SessionFingerprints.Running()
        /// The session, when the filter wants it (and its ids are UTF-8); nil otherwise.
        var key: SessionKey?
        var changed = true
        /// The session's ``KeyFingerprint``, as the state database's fingerprints are found.
        var slot: KeyFingerprint
    }

    /// Every session met, in the order its first row came.
    private(set) var sessions: [Tally] = []

    init(reader: any SQLCacheReader, filter: SessionFilter, expiry: Double?) throws {
        var scratch: [UInt8] = []
        var last: Int64?
        var sessions: [Tally] = []
        var index = IDTable()
        while true {
            let count = try reader.scan(afterSeq: last, expiry: expiry, limit: SQLSessionCursor.pageRows) { row in
                last = row.seq
                let id = Self.id(userID: row.userID, sessionID: row.sessionID)
                if let i = index[id] {
                    if sessions[i].key != nil { sessions[i].running.add(row.payload) }
                    return
                }
                var key: SessionKey?
                if let user = String(validating: row.userID, as: UTF8.self), let session = String(validating: row.sessionID, as: UTF8.self) {
                    let candidate = SessionKey(userID: user, sessionID: session)
                    if filter.matches(candidate) { key = candidate }
                }
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: SessionKey.qaPrefixBytes)
                scratch.append(contentsOf: row.userID)
                scratch.append(UInt8(ascii: ":"))
                scratch.append(contentsOf: row.sessionID)
                var tally = Tally(key: key, slot: KeyFingerprint(scratch))
                if key != nil { tally.running.add(row.payload) }
                index.insert(id, at: sessions.count)
                sessions.append(tally)
            }
            if count < SQLSessionCursor.pageRows { break }
        }
        self.sessions = sessions
    }

    /// Marks each session changed or not, by the fingerprints the state database holds.
    mutating func compare(fingerprints: SessionFingerprints, known: KnownFingerprints) {
        var scratch: [UInt8] = []
        for i in sessions.indices where sessions[i].key != nil {
            let fingerprint = fingerprints.finish(sessions[i].running, scratch: &scratch)
            sessions[i].changed = known[sessions[i].slot] != fingerprint
        }
    }

    /// The session's 64-bit id: XXH64 of the user id, then of the session id seeded with it.
    @inline(__always)
    private static func id(userID: UnsafeRawBufferPointer, sessionID: UnsafeRawBufferPointer) -> UInt64 {
        FastHash.xxh64(sessionID, seed: FastHash.xxh64(userID, seed: 0x7365_7373_696F_6E73))
    }
}

/// Session ids (already uniformly random 64-bit hashes) to positions: open addressing with
/// linear probing, no `Hasher` per lookup (the change scan looks one up for every row).
private struct IDTable {
    private var ids: [UInt64] = Array(repeating: 0, count: 1024)
    private var positions: [Int32] = Array(repeating: -1, count: 1024)
    private var count = 0

    subscript(id: UInt64) -> Int? {
        let mask = ids.count - 1
        var slot = Int(truncatingIfNeeded: id) & mask
        while positions[slot] >= 0 {
            if ids[slot] == id { return Int(positions[slot]) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    mutating func insert(_ id: UInt64, at position: Int) {
        if (count + 1) * 4 > ids.count * 3 { grow() }
        let mask = ids.count - 1
        var slot = Int(truncatingIfNeeded: id) & mask
        while positions[slot] >= 0 { slot = (slot + 1) & mask }
        ids[slot] = id
        positions[slot] = Int32(position)
        count += 1
    }

    private mutating func grow() {
        let old = zip(ids, positions).filter { $0.1 >= 0 }
        ids = Array(repeating: 0, count: ids.count * 2)
        positions = Array(repeating: -1, count: positions.count * 2)
        count = 0
        for (id, position) in old { insert(id, at: Int(position)) }
    }
}
