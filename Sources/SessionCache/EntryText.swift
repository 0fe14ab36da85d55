/// The buffer holding the texts of ``SessionQAEntry`` values, shared by the entries read
/// together (a session's): one allocation, header and bytes.
///
/// `@unchecked Sendable`: written only through an ``EntryTextArena``, each entry's bytes before
/// the entry exists, and never again where any entry points; entries only read.
struct EntryText: @unchecked Sendable {
    private final class Buffer: ManagedBuffer<Void, UInt8> {}
    private let buffer: Buffer

    init(capacity: Int) {
        buffer = unsafeDowncast(Buffer.create(minimumCapacity: capacity) { _ in () }, to: Buffer.self)
    }

    @inline(__always) func withUnsafeMutablePointerToElements<R>(_ body: (UnsafeMutablePointer<UInt8>) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutablePointerToElements(body)
    }
}

/// Hands out space in ``EntryText`` buffers for the entries decoded together. Not copyable: one
/// owner appends, so no two entries are ever written into the same bytes.
struct EntryTextArena: ~Copyable {
    /// The buffer being filled, and where its bytes are (a `ManagedBuffer`'s elements stay where
    /// they are while it lives, and the arena keeps it alive): decoding an entry then takes one
    /// reference, the entry's own.
    private(set) var buffer: EntryText
    private var base: UnsafeMutablePointer<UInt8>
    private var used = 0
    private var capacity: Int

    /// Room for `capacity` bytes; more is allocated when they run out. A buffer holds at most
    /// 1 GiB (offsets in it are 32 bits; a session bigger than that takes several).
    init(capacity: Int) {
        self.capacity = Swift.min(Swift.max(capacity, 16), 1 << 30)
        buffer = EntryText(capacity: self.capacity)
        base = buffer.withUnsafeMutablePointerToElements { $0 }
    }

    /// Where in ``buffer`` there is room for `count` bytes (offset and address); ``commit(_:)``
    /// keeps them. A call may move on to a new buffer: take ``buffer`` after it.
    mutating func space(for count: Int) -> (offset: Int, address: UnsafeMutablePointer<UInt8>) {
        if capacity - used < count {
            // A fresh buffer; the entries in the old one keep it.
            capacity = Swift.max(count, 4096)
            buffer = EntryText(capacity: capacity)
            base = buffer.withUnsafeMutablePointerToElements { $0 }
            used = 0
        }
        return (used, base + used)
    }

    /// Keeps the first `count` bytes of the last ``space(for:)``.
    mutating func commit(_ count: Int) {
        used += count
    }
}
