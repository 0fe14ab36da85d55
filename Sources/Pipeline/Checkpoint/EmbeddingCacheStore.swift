import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Foundation

/// Vectors as cached: little-endian float32, `4 · dimensions` bytes.
enum EmbeddingBlob {
    static func encode(_ vector: [Float]) -> [UInt8] { VectorIndex.float32LittleEndian(vector) }

    /// nil unless the blob is exactly `dimensions` finite floats.
    static func decode(_ bytes: UnsafeRawBufferPointer, dimensions: Int) -> [Float]? {
        guard bytes.count == dimensions * 4 else { return nil }
        var out = [Float](repeating: 0, count: dimensions)
        for i in 0..<dimensions {
            let x = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            guard x.isFinite else { return nil }
            out[i] = x
        }
        return out
    }
}

extension CheckpointStore: EmbeddingCaching {
    package func cachedVectors(model: String, dimensions: Int, hashes: [[UInt8]]) async throws -> [[UInt8]: [Float]] {
        guard !hashes.isEmpty else { return [:] }
        return try await read { state in
            try state.database.withStatement(
                "SELECT vector FROM embedding_cache WHERE model = ?1 AND dimensions = ?2 AND text_hash = ?3",
                operation: "read the embedding cache"
            ) { stmt throws(DatabaseError) -> [[UInt8]: [Float]] in
                var out: [[UInt8]: [Float]] = [:]
                for hash in Set(hashes) {
                    stmt.reset()
                    try stmt.bind(1, model)
                    try stmt.bind(2, Int64(dimensions))
                    try stmt.bindBlob(3, bytes: hash)
                    if try stmt.step(), let vector = stmt.withBytes(0, { EmbeddingBlob.decode($0, dimensions: dimensions) }) {
                        out[hash] = vector
                    }
                }
                return out
            }
        }
    }

    package func storeVectors(_ vectors: [(hash: [UInt8], vector: [Float])], model: String, dimensions: Int) async throws {
        guard !vectors.isEmpty else { return }
        let rows = vectors.map { (hash: $0.hash, blob: EmbeddingBlob.encode($0.vector)) }
        try await write { state in
            try state.database.transaction { () throws(DatabaseError) in
                try state.database.withStatement("""
                    INSERT INTO embedding_cache (model, dimensions, text_hash, vector) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (model, dimensions, text_hash) DO UPDATE SET vector = excluded.vector
                    """, operation: "store embeddings") { stmt throws(DatabaseError) in
                    for row in rows {
                        stmt.reset()
                        try stmt.bind(1, model)
                        try stmt.bind(2, Int64(dimensions))
                        try stmt.bindBlob(3, bytes: row.hash)
                        try stmt.bindBlob(4, bytes: row.blob)
                        _ = try stmt.step()
                    }
                }
            }
        }
    }
}
