import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

@Suite("connection strings are masked before they are logged")
struct MaskingTests {
    @Test("passwords vanish from URLs (also with ?, : or @ inside them) and from key=value strings",
          arguments: [
              ("postgresql://memify:s3cret@127.0.0.1:5432/graph", "s3cret", "postgresql://memify:***@127.0.0.1:5432/graph"),
              ("postgresql://memify:pa?ss:w@rd@db.internal/graph", "pa?ss", "postgresql://memify:***@db.internal/graph"),
              ("postgresql://memify@h/db?password=hunter2&sslmode=require", "hunter2", "postgresql://memify@h/db?password=***&sslmode=require"),
              (#"host=h user=u password='it\'s secret' dbname=g"#, "secret", "host=h user=u password=*** dbname=g"),
              ("host=h password=plain dbname=g", "plain", "host=h password=*** dbname=g"),
              ("host=h PASSWORD=Plain2 dbname=g", "Plain2", nil),
              // libpq percent-decodes parameter names: this is the password too.
              ("postgresql://memify@h/db?sslmode=disable&p%61ssWord=hunter3", "hunter3", "postgresql://memify@h/db?sslmode=disable&p%61ssWord=***"),
              ("postgresql://memify@h/db?PASSWORD=Hunter4", "Hunter4", "postgresql://memify@h/db?PASSWORD=***"),
          ] as [(String, String, String?)])
    func masks(conninfo: String, secret: String, expected: String?) {
        #expect(conninfo.contains(secret))
        let masked = PostgresConnection.masked(conninfo)
        #expect(!masked.contains(secret), "\(masked)")
        if let expected { #expect(masked == expected) }
    }

    @Test("libpq's own errors for malformed or unreachable targets never show the password",
          arguments: [
              "postgresql://memify:s3cr%zzet@127.0.0.1:1/graph",        // a bad percent escape, quoted by libpq
              "postgresql://memify:s3cret@127.0.0.1:notaport/graph",    // a bad port
              "host=127.0.0.1 port=1 user=memify password=s3cret dbname=g connect_timeout=2",  // refused
              "postgresql://memify:s3cret@127.0.0.1:1/graph?sslmode=bogus",  // a bad option value
              "postgresql://memify:s3\"cret@[::1/graph",                   // a quote in the password, a parse error quoting it all
          ])
    func libpqErrors(conninfo: String) async throws {
        do {
            _ = try await PostgresGraphWriter.connect(conninfo: conninfo)
            Issue.record("connected to \(conninfo)?")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("s3cr"), "\(text)")
            #expect(text.contains("127.0.0.1") || text.contains("malformed"), "the error still says where or what: \(text)")
        }
    }
}

@Suite("connection strings without a password pass through masking unchanged")
struct MaskingPassThroughTests {
    @Test(arguments: ["postgresql://memify@127.0.0.1:5432/graph?sslmode=disable", "host=h user=u dbname=g",
                      "postgresql://memify@h/db?passwords_file=x", "postgresql://h/"])
    func unchanged(conninfo: String) {
        #expect(PostgresConnection.masked(conninfo) == conninfo)
    }
}
