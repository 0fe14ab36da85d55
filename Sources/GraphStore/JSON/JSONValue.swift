/// A parsed JSON value, as Python's `json.loads` sees it.
///
/// Numbers keep their literal text so that integers of any size survive a round trip, as they
/// do in Python. Objects keep insertion order and, like a Python dict, a duplicate key keeps
/// its first position and takes the last value.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// True for `null` (cheaper than `== .null`, which compares through Equatable).
    @inlinable public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The Python type name, for error messages ("got int").
    public var pythonTypeName: String {
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

public struct JSONNumber: Sendable, Equatable {
    /// The literal as written, e.g. `42`, `-0.5`, `1e3`, `NaN`, `-Infinity`.
    public var literal: String
    /// True for literals without fraction or exponent: Python parses those as `int`.
    public var isInteger: Bool

    public init(literal: String, isInteger: Bool) {
        self.literal = literal
        self.isInteger = isInteger
    }

    public init(_ value: Int) {
        self.init(literal: String(value), isInteger: true)
    }

    /// The value as a Double (Python's `float(literal)`).
    public var doubleValue: Double? {
        switch literal {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(literal)
        }
    }
}

public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []

    public init() {}

    public init(_ pairs: [(String, JSONValue)]) {
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

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> JSONValue? {
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

    public var pairs: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}
