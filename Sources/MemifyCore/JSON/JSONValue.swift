/// A parsed JSON value, as Python's `json.loads` sees it.
///
/// Numbers keep their literal text so that integers of any size survive a round trip, as they
/// do in Python. Objects keep insertion order and, like a Python dict, a duplicate key keeps
/// its first position and takes the last value.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// True for `null` (cheaper than `== .null`, which compares through Equatable).
    @inlinable package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The Python type name, for error messages ("got int").
    package var pythonTypeName: String {
        switch self {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .number(let n): return n.isInteger ? "int" : "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        }
    }
}

package struct JSONNumber: Sendable, Equatable {
    /// The literal as written, e.g. `42`, `-0.5`, `1e3`, `NaN`, `-Infinity`.
    package var literal: String
    /// True for literals without fraction or exponent: Python parses those as `int`.
    package var isInteger: Bool

    package init(literal: String, isInteger: Bool) {
        self.literal = literal
        self.isInteger = isInteger
    }

    package init(_ value: Int) {
        self.init(literal: String(value), isInteger: true)
    }

    /// The value as a Double (Python's `float(literal)`).
    package var doubleValue: Double? {
        switch literal {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(literal)
        }
    }
}

package struct JSONObject: Sendable, Equatable {
    package private(set) var keys: [String] = []
    package private(set) var values: [JSONValue] = []

    package init() {}

    package init(_ pairs: [(String, JSONValue)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            // A repeated key keeps its first place and takes the later value, as the setter does.
            if let index = keys.firstIndex(of: key) {
                values[index] = value
            } else {
                keys.append(key)
                values.append(value)
            }
        }
    }

    /// Keys known to be distinct, with their values: no duplicate check (a fixed shape built
    /// many times, e.g. cognee's `IndexSchema` payload).
    package init(distinctKeys keys: [String], values: [JSONValue]) {
        precondition(keys.count == values.count)
        self.keys = keys
        self.values = values
    }

    package var count: Int { keys.count }
    package var isEmpty: Bool { keys.isEmpty }

    package subscript(key: String) -> JSONValue? {
        get {
            guard let index = keys.firstIndex(of: key) else { return nil }
            return values[index]
        }
        set {
            if let index = keys.firstIndex(of: key) {
                if let newValue {
                    values[index] = newValue
                } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    package var pairs: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}
