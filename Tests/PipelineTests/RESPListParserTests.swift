import Testing
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools

@Suite("RESP list replies parsed in place")
struct RESPListParserTests {
    /// Two LRANGE replies, an error, an empty list and a nil list, then the start of a reply
    /// that belongs to the next batch.
    static let wire = Array("*2\r\n$5\r\nhello\r\n$0\r\n\r\n-WRONGTYPE Operation against a key\r\n*0\r\n*-1\r\n*3\r\n$2\r\n{}\r\n$4\r\na\r\nb\r\n$1\r\nx\r\n*1\r\n$3\r\nne".utf8)

    struct Parsed: Equatable {
        var replies: [[String]]
        var errors: [String]
        var unparsed: [UInt8]
    }

    /// Feeds `wire` in pieces of `piece` bytes and parses the first `count` replies.
    static func parse(piece: Int, count: Int = 5) -> Parsed {
        let arena = ReplyArena(capacity: 16)
        var parser = RESPListParser()
        var fed = 0
        var parsed = Parsed(replies: [], errors: [], unparsed: [])
        while parsed.replies.count + parsed.errors.count < count {
            switch parser.next(in: arena) {
            case .reply(let index):
                let reply = ArenaReply(arena: arena, index: index)
                if let message = reply.errorMessage {
                    parsed.errors.append(message)
                } else {
                    parsed.replies.append((0..<reply.elementCount).map { String(decoding: reply.element($0), as: UTF8.self) })
                }
            case .needMore:
                precondition(fed < wire.count, "ran out of bytes")
                arena.append(Array(wire[fed..<min(wire.count, fed + piece)]))
                fed += piece
            case .malformed(let why):
                Issue.record("malformed: \(why)")
                return parsed
            }
        }
        parsed.unparsed = arena.takeUnparsed(from: parser.position)
        return parsed
    }

    @Test("any split of the bytes gives the same replies, and the rest is carried over", arguments: [1, 2, 3, 7, 16, 1000])
    func splits(piece: Int) {
        let parsed = Self.parse(piece: piece)
        #expect(parsed.replies == [["hello", ""], [], [], ["{}", "a\r\nb", "x"]])
        #expect(parsed.errors == ["WRONGTYPE Operation against a key"])
        // What was read past the fifth reply starts the next batch.
        let rest = Array("*1\r\n$3\r\nne".utf8)
        #expect(rest.starts(with: parsed.unparsed) && (piece == 1000 ? parsed.unparsed == rest : true))
    }

    @Test("a reply LRANGE never sends is malformed, not guessed at", arguments: [
        "+OK\r\n", ":3\r\n", "*1\r\n:3\r\n", "*1\r\n$-1\r\n", "*1\r\n$3\r\nabcd\r\n", "*x\r\n",
    ])
    func malformed(_ text: String) {
        let arena = ReplyArena()
        arena.append(Array(text.utf8))
        var parser = RESPListParser()
        if case .malformed = parser.next(in: arena) {} else {
            Issue.record("accepted \(text.debugDescription)")
        }
    }
}
