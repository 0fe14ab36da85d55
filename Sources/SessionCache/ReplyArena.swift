import MemifyCore
import Glibc

/// List replies as read from the socket: one buffer holding the RESP bytes of a batch of
/// replies, and where each reply's elements are in it. Reused batch after batch by the reader
/// (``reset()``), so reading allocates nothing per element and little per batch.
///
/// `@unchecked Sendable`: filled on the I/O thread, then only read by the decoder, then reset
/// on the I/O thread once the decoder is done with it.
package final class ReplyArena: @unchecked Sendable {
    struct Span {
        var offset: Int
        var length: Int
    }

    enum Kind { case list, error }

    struct Reply {
        var kind: Kind
        /// The first span: an error's message, or a list's first element.
        var first: Int
        /// Spans: 1 for an error, the element count for a list.
        var count: Int
    }

    private(set) var data: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var length = 0
    private(set) var spans: [Span] = []
    private(set) var replies: [Reply] = []

    /// 4 MiB of address space: a batch of 100 sessions of ten 1 KB turns is just over 1 MiB,
    /// and growing copies the batch into fresh pages. Only the pages written are ever touched.
    package init(capacity: Int = 4 << 20) {
        self.capacity = capacity
        guard let data = malloc(capacity) else { fatalError("out of memory") }
        self.data = data
    }

    deinit { free(data) }

    /// Empties the arena for the next batch, keeping its buffers.
    package func reset() {
        length = 0
        spans.removeAll(keepingCapacity: true)
        replies.removeAll(keepingCapacity: true)
    }

    /// Starts the batch with the bytes the previous one read past its end.
    func adopt(carried bytes: [UInt8]) {
        precondition(length == 0 && replies.isEmpty, "an arena is reset before it is read into")
        append(bytes)
    }

    /// Appends bytes as if read from the socket.
    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        reserve(bytes.count)
        bytes.withUnsafeBytes { (data + length).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        length += bytes.count
    }

    /// The bytes from `position` on: read, but part of the next batch.
    func takeUnparsed(from position: Int) -> [UInt8] {
        guard position < length else { return [] }
        let rest = Array(UnsafeRawBufferPointer(start: data + position, count: length - position))
        length = position
        return rest
    }

    /// Reads what the connection has (at least one byte, waiting up to its read timeout).
    func read(from transport: RedisTransport) throws(WorkerError) {
        // Bounded reads: what is read past the batch's last reply is copied to the next batch.
        let chunk = 64 * 1024
        reserve(chunk)
        length += try transport.read(into: data + length, capacity: chunk)
    }

    private func reserve(_ extra: Int) {
        guard capacity - length < extra else { return }
        var grown = capacity * 2
        while grown - length < extra { grown *= 2 }
        guard let bigger = realloc(data, grown) else { fatalError("out of memory") }
        data = bigger
        capacity = grown
    }

    func byte(_ i: Int) -> UInt8 { data.load(fromByteOffset: i, as: UInt8.self) }

    func addSpan(_ offset: Int, _ length: Int) { spans.append(Span(offset: offset, length: length)) }
    func dropSpans(from count: Int) { spans.removeSubrange(count...) }
    func addReply(_ reply: Reply) -> Int {
        replies.append(reply)
        return replies.count - 1
    }

    /// The bytes of span `i`, valid until the arena is reset.
    func span(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let span = spans[i]
        return UnsafeBufferPointer(start: (data + span.offset).assumingMemoryBound(to: UInt8.self), count: span.length)
    }
}

/// One reply in a ``ReplyArena``.
package struct ArenaReply: Sendable {
    let arena: ReplyArena
    let index: Int

    /// The error text of an error reply.
    var errorMessage: String? {
        let reply = arena.replies[index]
        guard reply.kind == .error else { return nil }
        return String(decoding: arena.span(reply.first), as: UTF8.self)
    }

    /// The number of elements of a list reply (0 for an error).
    package var elementCount: Int {
        let reply = arena.replies[index]
        return reply.kind == .list ? reply.count : 0
    }

    /// The bytes of element `i` of a list reply, valid until the arena is reset.
    func element(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        arena.span(arena.replies[index].first + i)
    }
}

/// Parses RESP2 replies to `LRANGE` in an arena: `*N` followed by N bulk strings (`*0` and
/// `*-1` are empty lists), or `-message`. Anything else is malformed here. Resumable: when the
/// bytes run out mid-reply it asks for more and carries on where it stopped.
struct RESPListParser {
    enum Step {
        case reply(Int)
        case needMore
        case malformed(String)
    }

    /// Where the next unparsed reply starts.
    private(set) var position = 0
    /// A list being parsed: its element count, the elements done, where the next starts, and
    /// its first span.
    private var partial: (count: Int, done: Int, next: Int, firstSpan: Int)?

    mutating func next(in arena: ReplyArena) -> Step {
        if let partial { return continueList(partial, in: arena) }
        guard position < arena.length else { return .needMore }
        let type = arena.byte(position)
        guard let (value, after) = line(at: position + 1, in: arena) else { return .needMore }
        switch type {
        case UInt8(ascii: "-"):
            arena.addSpan(position + 1, after - 2 - (position + 1))
            position = after
            return .reply(arena.addReply(.init(kind: .error, first: arena.spans.count - 1, count: 1)))
        case UInt8(ascii: "*"):
            guard let count = integer(value, in: arena), count >= -1 else { return .malformed("bad list length") }
            if count <= 0 {
                position = after
                return .reply(arena.addReply(.init(kind: .list, first: arena.spans.count, count: 0)))
            }
            return continueList((count, 0, after, arena.spans.count), in: arena)
        default:
            return .malformed("unexpected reply type '\(Unicode.Scalar(type))' to LRANGE")
        }
    }

    private mutating func continueList(_ state: (count: Int, done: Int, next: Int, firstSpan: Int), in arena: ReplyArena) -> Step {
        var (count, done, next, firstSpan) = state
        while done < count {
            guard next < arena.length, let (value, after) = line(at: next + 1, in: arena) else {
                partial = (count, done, next, firstSpan)
                return .needMore
            }
            guard arena.byte(next) == UInt8(ascii: "$"), let length = integer(value, in: arena), length >= 0 else {
                return .malformed("list element \(done) is not a bulk string")
            }
            guard after + length + 2 <= arena.length else {
                partial = (count, done, next, firstSpan)
                return .needMore
            }
            guard arena.byte(after + length) == 0x0D, arena.byte(after + length + 1) == 0x0A else {
                return .malformed("list element \(done) is not followed by CRLF")
            }
            arena.addSpan(after, length)
            done += 1
            next = after + length + 2
        }
        partial = nil
        position = next
        return .reply(arena.addReply(.init(kind: .list, first: firstSpan, count: count)))
    }

    /// The line starting at `start` up to CRLF: its range and where the next line starts.
    private func line(at start: Int, in arena: ReplyArena) -> (Range<Int>, Int)? {
        guard start < arena.length,
              let cr = memchr(arena.data + start, 0x0D, arena.length - start) else { return nil }
        let end = cr - UnsafeMutableRawPointer(arena.data)
        guard end + 1 < arena.length else { return nil }
        // A CR not followed by LF leaves a range the caller's integer or type check refuses.
        guard arena.byte(end + 1) == 0x0A else { return (start..<(end + 1), end + 2) }
        return (start..<end, end + 2)
    }

    private func integer(_ range: Range<Int>, in arena: ReplyArena) -> Int? {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound, arena.byte(i) == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        // At most 18 digits: no length Redis sends comes near, and no sum below can overflow.
        guard i < range.upperBound, range.upperBound - i <= 18 else { return nil }
        var value = 0
        while i < range.upperBound {
            let digit = Int(arena.byte(i)) - 48
            guard (0...9).contains(digit) else { return nil }
            value = value * 10 + digit
            i += 1
        }
        return negative ? -value : value
    }
}
