import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Glibc

/// Buffered standard output: a dump of a million sessions must not cost a syscall per line.
/// (A ``ByteSink`` on descriptor 1, flushed when it goes.)
final class StandardOutput {
    private let sink = ByteSink.standardOutput()
    deinit { sink.flush() }
    func write(_ text: String) { sink.write(text) }
    func write(bytes: [UInt8]) { sink.write(bytes: bytes) }
    func flush() { sink.flush() }
}
