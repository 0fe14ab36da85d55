import MemifyCore
/// cognee's id rules (graph spec §3): uuid5 over `NAMESPACE_OID`, with cognee's name
/// normalisation. Every id the worker writes comes from here, so the same thing always gets the
/// same id, and merges with the node cognee itself writes for it.
package enum GraphIdentity {
    /// `uuid.NAMESPACE_OID`.
    package static let namespaceOID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8"

    /// RFC 4122 version-5 UUID of `name` in `namespace`, lowercase and hyphenated.
    package static func uuid5(namespace: String, _ name: String) -> String {
        let prefix = namespace == namespaceOID ? oidBytes : uuidBytes(namespace)
        var name = name
        return name.withUTF8 { utf8 in
            // The namespace's 16 bytes and the name, hashed from one stack buffer.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 + utf8.count) { input in
                for i in 0..<16 { input[i] = prefix[i] }
                if let base = utf8.baseAddress { (input.baseAddress! + 16).initialize(from: base, count: utf8.count) }
                return Digest.withSHA1(UnsafeRawBufferPointer(input)) { digest in
                    // The digest's first 16 bytes, version and variant set.
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { bytes in
                        for i in 0..<16 { bytes[i] = digest[i] }
                        bytes[6] = (bytes[6] & 0x0F) | 0x50
                        bytes[8] = (bytes[8] & 0x3F) | 0x80
                        return format(UnsafeBufferPointer(bytes))
                    }
                }
            }
        }
    }

    package static func uuid5(_ name: String) -> String { uuid5(namespace: namespaceOID, name) }

    /// A run id as the graph's provenance holds it: a UUID as it is, anything else (the worker's
    /// `run-<time>-<hex>` names, as older graphs hold them) as its uuid5.
    package static func graphRunID(_ runID: String) -> String {
        isUUID(runID) ? runID.lowercased() : uuid5("memify-run:" + runID)
    }

    private static let oidBytes = uuidBytes(namespaceOID)

    /// cognee's `norm(s) = s.lower().replace(" ", "_").replace("'", "")`: the id input.
    package static func norm(_ s: String) -> String {
        s.lowercased().replacingAll(" ", with: "_").replacingAll("'", with: "")
    }

    /// The stored `name` of an Entity or EntityType: lowercase, apostrophes removed, spaces kept.
    package static func displayName(_ s: String) -> String {
        s.lowercased().replacingAll("'", with: "")
    }

    /// A relationship name: lowercase, spaces to `_`, apostrophes removed (`moved to` → `moved_to`).
    package static func relationshipName(_ s: String) -> String { norm(s) }

    package static func entity(_ name: String) -> String { uuid5("Entity:" + norm(name)) }
    package static func entityType(_ type: String) -> String { uuid5("EntityType:" + norm(type)) }
    /// The class prefix keeps its case; the time string is normalised.
    package static func timestamp(_ text: String) -> String { uuid5("Timestamp:" + norm(text)) }
    /// The legacy formula: the whole string, prefix included, is normalised (`nodeset:…`).
    package static func nodeSet(_ name: String) -> String { uuid5(norm("NodeSet:" + name)) }
    /// `uuid5(OID, f"{document_id}:{sha256_hex(text)}:{occurrence}")` (cognee 1.6.5).
    package static func documentChunk(documentID: String, text: String, occurrence: Int = 0) -> String {
        uuid5("\(documentID):\(Digest.hex(Digest.sha256(Array(text.utf8)))):\(occurrence)")
    }
    /// `uuid5(chunk_id, "TextSummary")`.
    package static func textSummary(chunkID: String) -> String { uuid5(namespace: chunkID, "TextSummary") }
    /// The `edge_object_id` edge property: `uuid5(OID, norm(str(src) + relationship + str(tgt)))`.
    package static func edgeObject(source: String, relationship: String, target: String) -> String {
        uuid5(norm(source + relationship + target))
    }
    /// The EdgeType vector point of an edge text.
    package static func edgeType(_ edgeText: String) -> String { uuid5("EdgeType:" + norm(edgeText)) }
    /// A dataset's id: `uuid5(OID, name + str(user_id) + str(tenant_id))`, tenant None → "None".
    package static func dataset(name: String, ownerID: String, tenantID: String? = nil) -> String {
        uuid5(name + ownerID + (tenantID ?? "None"))
    }
    /// `text_<md5 of the UTF-8 text>`.
    package static func documentName(_ text: String) -> String { "text_" + Digest.hex(Digest.md5(Array(text.utf8))) }

    /// The 16 bytes of a hyphenated UUID string (any case); zeros for anything unparsable.
    package static func uuidBytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: continue
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out.count == 16 ? out : [UInt8](repeating: 0, count: 16)
    }

    static func format(_ b: [UInt8]) -> String { b.withUnsafeBufferPointer { format($0) } }

    static func format(_ b: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            var o = 0
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 { out[o] = UInt8(ascii: "-"); o += 1 }
                out[o] = Digest.hexDigit(b[i] >> 4)
                out[o + 1] = Digest.hexDigit(b[i] & 0x0F)
                o += 2
            }
            return 36
        }
    }

    /// True for a lowercase or uppercase hyphenated UUID.
    package static func isUUID(_ text: String) -> Bool {
        let u = Array(text.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) { if c != UInt8(ascii: "-") { return false } } else if !(c.isHexDigitASCII) { return false }
        }
        return true
    }
}

extension UInt8 {
    var isHexDigitASCII: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}

extension String {
    package func replacingAll(_ target: Character, with replacement: String) -> String {
        if let ascii = target.asciiValue {
            // Byte-level for an ASCII target (every caller's case): no Character iteration.
            guard containsByte(ascii) else { return self }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(utf8.count)
            let with = Array(replacement.utf8)
            for b in utf8 { if b == ascii { bytes.append(contentsOf: with) } else { bytes.append(b) } }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard contains(target) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count)
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
