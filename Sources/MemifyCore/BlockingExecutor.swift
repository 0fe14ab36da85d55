import Dispatch

/// Runs blocking C calls (sqlite3, libpq, sockets, OpenSSL) on a dedicated serial queue, never on the
/// Swift cooperative thread pool: with two cores, one stuck cooperative thread halves the program.
///
/// One executor per connection keeps a connection's calls ordered without extra locking.
package final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    package init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Queues `body` on the executor's queue and returns at once.
    package func submit(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// Runs `body` on the executor's queue and resumes the caller with its result.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
