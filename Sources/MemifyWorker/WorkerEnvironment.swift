import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Synchronization

/// The one place the worker reads its environment: the process environment over cognee's `.env`
/// (the working directory's, or `--env-file PATH`), as cognee reads it (pydantic-settings and
/// python-dotenv without override: a variable set in the process wins over the file's). Loaded
/// once in `main`, before parsing; every command's defaults read ``values``.
enum WorkerEnvironment {
    enum Source: String, Sendable { case environment = "env", dotenv = ".env" }

    struct Resolved: Sendable {
        var values: [String: String] = [:]
        var sources: [String: Source] = [:]
        /// The `.env` file read, if any.
        var file: String?
    }

    private static let state = Mutex<Resolved?>(nil)

    /// The merged environment (the process's when nothing was loaded: tests calling commands in process).
    static var values: [String: String] { current.values }

    static var current: Resolved {
        state.withLock { $0 } ?? Resolved(values: ProcessInfo.processInfo.environment,
                                           sources: ProcessInfo.processInfo.environment.mapValues { _ in .environment })
    }

    /// Merges `file` (or `./.env` when it exists) under `process`. A named file that cannot be read is a usage error.
    static func resolve(file named: String?, process: [String: String] = ProcessInfo.processInfo.environment) throws -> Resolved {
        var resolved = Resolved(values: process, sources: process.mapValues { _ in .environment })
        let path = named ?? (FileManager.default.fileExists(atPath: ".env") ? ".env" : nil)
        guard let path else { return resolved }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--env-file '\(path)' cannot be read: pass the path of cognee's .env")
        }
        resolved.file = path
        // A key given twice in the file: the last one, as python-dotenv.
        let file = Dictionary(DotEnv.parse(String(decoding: data, as: UTF8.self)), uniquingKeysWith: { _, last in last })
        for (key, value) in file where resolved.values[key] == nil {
            resolved.values[key] = value
            resolved.sources[key] = .dotenv
        }
        return resolved
    }

    /// Takes `--env-file PATH` / `--env-file=PATH` out of the arguments (it is global: every
    /// command reads the environment) and loads the environment.
    static func load(arguments: [String]) throws -> [String] {
        var rest: [String] = []
        var file: String?
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { rest += arguments[i...]; break }
            if a == "--env-file" {
                guard i + 1 < arguments.count else { throw ValidationError("--env-file needs a path") }
                file = arguments[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix("--env-file=") { file = String(a.dropFirst("--env-file=".count)); i += 1; continue }
            rest.append(a)
            i += 1
        }
        let resolved = try resolve(file: file)
        state.withLock { $0 = resolved }
        return rest
    }
}

/// `.env` as python-dotenv reads it (what cognee loads): `KEY=VALUE` lines, `export ` allowed,
/// `#` comments (whole lines, or after whitespace in an unquoted value), single quotes literal,
/// double quotes with backslash escapes, both may span lines; no interpolation.
enum DotEnv {
    static func parse(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        func skipLine() { while i < chars.count, chars[i] != "\n" { i += 1 }; if i < chars.count { i += 1 } }
        while i < chars.count {
            skipSpaces()
            if i >= chars.count { break }
            if chars[i] == "\n" || chars[i] == "\r" || chars[i] == "#" { skipLine(); continue }
            // export KEY=…
            if chars.count - i > 7, String(String.UnicodeScalarView(chars[i..<i + 7])) == "export " {
                i += 7
                skipSpaces()
            }
            var key = ""
            while i < chars.count, chars[i] != "=", chars[i] != "\n", chars[i] != "#" { key.unicodeScalars.append(chars[i]); i += 1 }
            key = key.trimmingCharacters(in: .whitespaces)
            guard i < chars.count, chars[i] == "=", !key.isEmpty else { skipLine(); continue }
            i += 1
            skipSpaces()
            var value = ""
            if i < chars.count, chars[i] == "'" || chars[i] == "\"" {
                let quote = chars[i]
                i += 1
                while i < chars.count, chars[i] != quote {
                    if quote == "\"", chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        switch chars[i] {
                        case "n": value += "\n"
                        case "t": value += "\t"
                        case "r": value += "\r"
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "'": value += "'"
                        default: value += "\\"; value.unicodeScalars.append(chars[i])
                        }
                    } else if quote == "'", chars[i] == "\\", i + 1 < chars.count, chars[i + 1] == "'" || chars[i + 1] == "\\" {
                        i += 1
                        value.unicodeScalars.append(chars[i])
                    } else {
                        value.unicodeScalars.append(chars[i])
                    }
                    i += 1
                }
                skipLine()
            } else {
                var raw = ""
                while i < chars.count, chars[i] != "\n" {
                    if chars[i] == "#", let last = raw.unicodeScalars.last, last == " " || last == "\t" { break }
                    raw.unicodeScalars.append(chars[i])
                    i += 1
                }
                skipLine()
                value = raw.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            }
            out.append((key, value))
        }
        return out
    }
}
