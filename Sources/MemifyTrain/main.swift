import Foundation
import Extraction
import GraphStore

/// Trains the builtin extractor's name tagger (an averaged structured perceptron, Viterbi-decoded)
/// on labelled turns and writes its weights as the C source that ships them inside the binary.
/// Run by `scripts/train-tagger`; deterministic: the same files and options give the same bytes.
///
///     memify-train --train FILE.jsonl … [--dev FILE.jsonl] [--epochs N] [--prune W] [--out model.c]
///
/// `--dev` is measured after every epoch (end to end, through the extractor); it is never
/// trained on. Only the train split is given to `--train`: the test split is for reporting.

struct Labelled: Decodable {
    struct Entity: Decodable { var name: String; var type: String }
    var id: String
    var question: String
    var answer: String
    var entities: [Entity]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("memify-train: \(message)\n".utf8))
    exit(64)
}

var trainFiles: [String] = [], devFiles: [String] = []
var epochs = 20, prune: Float = 0.0, out: String?, show = false, gazetteerFile: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let v = arguments.popFirst() else { fail("\(argument) needs a value") }
        return v
    }
    func number<N: LosslessStringConvertible>(_: N.Type) -> N {
        guard let n = N(value()) else { fail("\(argument) takes a number") }
        return n
    }
    switch argument {
    case "--train": trainFiles.append(value())
    case "--dev": devFiles.append(value())
    case "--epochs": epochs = number(Int.self)
    case "--prune": prune = number(Float.self)
    case "--out": out = value()
    case "--gazetteer": gazetteerFile = value()
    case "--show": show = true  // the dev split's misses, after training
    default: fail("unknown argument \(argument)")
    }
}
guard !trainFiles.isEmpty else { fail("no --train file") }

func load(_ path: String) -> [Labelled] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    return text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.map {
        do { return try JSONDecoder().decode(Labelled.self, from: Data($0.utf8)) } catch { fail("\(path): \(error)") }
    }
}

let typeIndex = Dictionary(uniqueKeysWithValues: TaggerTags.types.enumerated().map { ($1.lowercased(), $0) })
let train = trainFiles.flatMap(load)
var gazetteerEntries: [(UInt32, UInt8)] = []
if let gazetteerFile {
    guard let text = try? String(contentsOfFile: gazetteerFile, encoding: .utf8) else { fail("cannot read \(gazetteerFile)") }
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: "\t")
        guard parts.count == 2, let classes = UInt8(parts[1]) else { fail("\(gazetteerFile): a line that is not phrase<TAB>classes") }
        gazetteerEntries.append((TaggerGazetteer.key(String(parts[0])), classes))
    }
}
let gazetteer = TaggerGazetteer(entries: gazetteerEntries)
let dev = devFiles.flatMap(load)

// Examples, and every feature seen in training to its row.
var examples: [TaggerExample] = []
var unaligned = 0, labelled = 0
for turn in train {
    let names = turn.entities.compactMap { e in typeIndex[e.type].map { (name: e.name, type: $0) } }
    labelled += names.count
    let (turnExamples, missing) = TaggerTraining.examples(question: turn.question, answer: turn.answer, names: names, gazetteer: gazetteer)
    unaligned += missing.count
    if show, !missing.isEmpty { print("not found in \(turn.id): \(missing)") }
    examples += turnExamples
}
let T = TaggerTags.count
var index: [UInt64: Int32] = [:]
var keys: [UInt64] = []
var rows: [[Int32]] = []
for example in examples {
    rows.append(example.features.map { key in
        if let r = index[key] { return r }
        let r = Int32(keys.count)
        index[key] = r
        keys.append(key)
        return r
    })
}
let tokenCount = examples.reduce(0) { $0 + $1.gold.count }
print("train: \(train.count) turns, \(examples.count) segments, \(tokenCount) tokens, \(keys.count) features; "
      + "\(labelled) names labelled, \(unaligned) not found as whole tokens")

// The perceptron: current weights, and their sums over time for the average (the lazy form:
// average = w - u / c, where u accumulates each update times the step it was made at).
var w = [Float](repeating: 0, count: keys.count * T)
var u = [Double](repeating: 0, count: keys.count * T)
let transitionCount = (T + 1) * T
var tw = [Float](repeating: 0, count: transitionCount)
var tu = [Double](repeating: 0, count: transitionCount)
var step = 1.0

@MainActor func averaged() -> TaggerModel {
    var features: [(key: UInt64, weights: [Float])] = []
    for (r, key) in keys.enumerated() {
        var ws = [Float](repeating: 0, count: T)
        var largest: Float = 0
        for t in 0..<T {
            ws[t] = Float(Double(w[r * T + t]) - u[r * T + t] / step)
            largest = max(largest, abs(ws[t]))
        }
        if largest > prune && largest > 0 { features.append((key, ws)) }
    }
    let transitions = (0..<transitionCount).map { Float(Double(tw[$0]) - tu[$0] / step) }
    return TaggerModel(tagCount: T, features: features, transitions: transitions, gazetteer: gazetteer)
}

func key(_ name: String) -> String {
    var s = name.lowercased().filter { $0 != "'" && $0 != "’" }
    while s.hasSuffix(".") { s.removeLast() }
    return s.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// Entity F1 without dates, name only and with type, through the whole extractor.
@MainActor func measure(_ model: TaggerModel, _ turns: [Labelled], show: Bool = false) -> String {
    var tp = 0, fp = 0, fn = 0, ttp = 0, tfp = 0, tfn = 0, ntp = 0, nfp = 0, nfn = 0
    var perType: [String: (Int, Int, Int)] = [:]
    TaggerModel.$override.withValue(model) {
        for turn in turns {
            let graph = BuiltinExtractor.analyze(question: turn.question, answer: turn.answer)
            let found = graph.entities.filter { $0.type != "Timestamp" }.map { (key($0.name), $0.type.lowercased()) }
            let gold = turn.entities.filter { $0.type != "date" }.map { (key($0.name), $0.type) }
            let p = Set(found.map(\.0)), g = Set(gold.map(\.0))
            let taggerTypes = Set(TaggerTags.types.map { $0.lowercased() })
            let pn = Set(found.filter { taggerTypes.contains($0.1) }.map(\.0)), gn = Set(gold.filter { taggerTypes.contains($0.1) }.map(\.0))
            ntp += pn.intersection(gn).count; nfp += pn.subtracting(gn).count; nfn += gn.subtracting(pn).count
            tp += p.intersection(g).count; fp += p.subtracting(g).count; fn += g.subtracting(p).count
            let pt = Set(found.map { $0.0 + "|" + $0.1 }), gt = Set(gold.map { $0.0 + "|" + $0.1 })
            ttp += pt.intersection(gt).count; tfp += pt.subtracting(gt).count; tfn += gt.subtracting(pt).count
            if show {
                let pt = Set(found.filter { taggerTypes.contains($0.1) }.map { $0.0 + "|" + $0.1 })
                let gt = Set(gold.filter { taggerTypes.contains($0.1) }.map { $0.0 + "|" + $0.1 })
                if pt != gt {
                    print("[\(turn.id)] \(turn.question) || \(turn.answer)")
                    for m in gt.subtracting(pt).sorted() { print("   missed   \(m)") }
                    for m in pt.subtracting(gt).sorted() { print("   spurious \(m)") }
                }
            }
            for type in TaggerTags.types.map({ $0.lowercased() }) {
                let a = pt.filter { $0.hasSuffix("|" + type) }, b = gt.filter { $0.hasSuffix("|" + type) }
                let s = perType[type, default: (0, 0, 0)]
                perType[type] = (s.0 + a.intersection(b).count, s.1 + a.subtracting(b).count, s.2 + b.subtracting(a).count)
            }
        }
    }
    func f1(_ tp: Int, _ fp: Int, _ fn: Int) -> Double { tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn) }
    var line = String(format: "names F1 %.3f (P %.3f R %.3f)  typed F1 %.3f", f1(tp, fp, fn), Double(tp) / Double(max(1, tp + fp)),
                      Double(tp) / Double(max(1, tp + fn)), f1(ttp, tfp, tfn))
    line += String(format: "  tagger's types: names F1 %.3f", f1(ntp, nfp, nfn))
    for type in TaggerTags.types.map({ $0.lowercased() }) {
        let s = perType[type]!
        line += String(format: "  %@ %.2f", String(type.prefix(4)), f1(s.0, s.1, s.2))
    }
    return line
}

// Deterministic order: a fixed-seed shuffle per epoch.
var seed: UInt64 = 0x5EED
@MainActor func next() -> UInt64 {
    seed = seed &* 6364136223846793005 &+ 1442695040888963407
    return seed >> 33
}
var order = Array(examples.indices)
for epoch in 1...epochs {
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) }
    var mistakes = 0
    for e in order {
        let example = examples[e], r = rows[e]
        let n = example.gold.count
        var emissions = [Float](repeating: 0, count: n * T)
        for i in 0..<n {
            for f in example.offsets[i]..<example.offsets[i + 1] {
                let base = Int(r[f]) * T
                for t in 0..<T { emissions[i * T + t] += w[base + t] }
            }
        }
        let predicted = TaggerDecoder.viterbi(emissions: emissions, tagCount: T, transitions: tw, constraints: example.constraints)
        if predicted != example.gold {
            for i in 0..<n {
                let g = Int(example.gold[i]), p = Int(predicted[i])
                if g != p {
                    mistakes += 1
                    for f in example.offsets[i]..<example.offsets[i + 1] {
                        let base = Int(r[f]) * T
                        w[base + g] += 1; u[base + g] += step
                        w[base + p] -= 1; u[base + p] -= step
                    }
                }
                let pg = i == 0 ? T : Int(example.gold[i - 1]), pp = i == 0 ? T : Int(predicted[i - 1])
                if pg != pp || g != p {
                    tw[pg * T + g] += 1; tu[pg * T + g] += step
                    tw[pp * T + p] -= 1; tu[pp * T + p] -= step
                }
            }
        }
        step += 1
    }
    var line = "epoch \(epoch): \(mistakes) token mistakes"
    if !dev.isEmpty {
        let model = averaged()
        line += "; dev \(measure(model, dev))"
    }
    print(line)
}

let model = averaged()
let bytes = model.serialized()
guard let reloaded = bytes.withUnsafeBytes({ TaggerModel(serialized: $0) }) else { fail("the serialized model does not read back") }
print("model: \(model.featureCount) features, \(bytes.count) bytes")
if !dev.isEmpty { print("dev (stored weights): \(measure(reloaded, dev, show: show))") }
if let out {
    var source = "/* Generated by scripts/train-tagger from \(trainFiles.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))"
    source += " (\(epochs) epochs, prune \(prune)): the name tagger's weights. Do not edit. */\n"
    source += "#include \"tagger_model.h\"\n\nstatic const unsigned char model[\(bytes.count)] = {\n"
    for start in stride(from: 0, to: bytes.count, by: 64) {
        source += bytes[start..<min(start + 64, bytes.count)].map(String.init).joined(separator: ",") + ",\n"
    }
    source += "};\n\nconst unsigned char *memify_tagger_model_bytes(void) { return model; }\n"
    source += "size_t memify_tagger_model_size(void) { return sizeof model; }\n"
    do { try source.write(toFile: out, atomically: true, encoding: .utf8) } catch { fail("cannot write \(out): \(error)") }
    print("wrote \(out)")
}
