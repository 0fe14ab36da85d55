import Glibc

/// Unbuffered standard error, one `write(2)` per call: progress lines and last words.
package enum StandardError {
    package static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
