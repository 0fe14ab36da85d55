import MemifyCore
import GraphStore
import SessionCache
/// Vectors for texts, as cognee's configured embedding model makes them: the vector stages of a
/// run ask this, and only this, for embeddings.
///
/// * `embed` returns one vector per text, in order, each exactly ``dimensions`` long, finite.
///   Equal texts get equal vectors. A text that is empty after `strip()` gets a zero vector
///   without a request (cognee sends `"."` and zeroes the answer).
/// * The implementation answers from its cache first (the state database's `embedding_cache`,
///   keyed by ``identity`` and the text's hash) and sends only what it lacks, so a rerun pays
///   nothing and a text named by ten thousand turns is paid for once.
/// * A service that refuses (401/403, no quota, exhausted retries, an answer of the wrong width
///   or with NaN) throws a `WorkerError(.serviceUnavailable)` naming the endpoint and model;
///   nothing of the batch is written then, and the next run resumes.
package protocol TextEmbedding: Sendable {
    /// The width of every vector returned (`EMBEDDING_DIMENSIONS`).
    var dimensions: Int { get }
    /// The model and width, e.g. `openai/text-embedding-3-small@1536`: vectors of one identity are
    /// interchangeable; a change of identity re-embeds.
    var identity: String { get }
    func embed(_ texts: [String]) async throws -> [[Float]]
}
