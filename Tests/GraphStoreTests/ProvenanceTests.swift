@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import Testing

@Suite("provenance arrays")
struct ProvenanceTests {
    /// The one-key-at-a-time removal, as it was before `removing(keys:)`: the oracle.
    static func removingOne(_ p: Provenance, _ key: String) -> Provenance {
        var p = p
        p.refKeys.removeAll { $0 == key }
        p.runRefs.removeAll { $0.hasSuffix(":" + key) && $0.hasPrefix("source_run_ref:") }
        let keptDatasets = Set(p.refKeys.compactMap(SourceRef.datasetID))
        p.datasetIDs.removeAll { !keptDatasets.contains($0) && SourceRef.datasetID(of: key) == $0 }
        let keptRuns = Set(p.runRefs.compactMap { ref -> String? in
            let parts = ref.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            return parts.count >= 3 ? String(parts[2]) : nil
        })
        p.runIDs.removeAll { !keptRuns.contains($0) }
        return p
    }

    @Test("removing many keys in one pass equals removing them one by one (500 random rows)")
    func removingManyEqualsOneByOne() {
        var rng = SystemRandomNumberGenerator()
        let datasets = ["d1", "d2", "d3"]
        let runs = ["run-a", "run-b", "run-c"]
        for _ in 0..<500 {
            var p = Provenance()
            let keyCount = Int.random(in: 0...80, using: &rng)
            for i in 0..<keyCount {
                let dataset = datasets.randomElement(using: &rng)!
                let key = Bool.random(using: &rng)
                    ? SourceRef.document(datasetID: dataset, dataID: "doc\(i % 7)")
                    : SourceRef.chunk(datasetID: dataset, dataID: "doc\(i % 7)", chunkID: "chunk\(i)")
                p = p.adding(keys: [key], runID: runs.randomElement(using: &rng)!)
            }
            // Keys of other writers, a dataset id with no key left, a stray run id and run ref.
            p.refKeys.append("cognee:\(Int.random(in: 0...3, using: &rng))")
            p.datasetIDs.append("orphan")
            p.runIDs.append("run-z")
            p.runRefs.append("source_run_ref:v1:run-z:not-a-key")
            let candidates = p.refKeys + ["source_ref:v1:d9:never-stored", "cognee:9"]
            let remove = candidates.filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }
            let expected = remove.reduce(p, Self.removingOne)
            #expect(p.removing(keys: remove) == expected)
        }
    }

    @Test("removing a key takes its run refs and the dataset and run ids nothing else names")
    func removingOneKey() {
        let a = SourceRef.chunk(datasetID: "d1", dataID: "x", chunkID: "c1")
        let b = SourceRef.chunk(datasetID: "d2", dataID: "y", chunkID: "c2")
        let p = Provenance().adding(keys: [a], runID: "r1").adding(keys: [b], runID: "r2")
        let q = p.removing(key: a)
        #expect(q.refKeys == [b])
        #expect(q.datasetIDs == ["d2"])
        #expect(q.runIDs == ["r2"])
        #expect(q.runRefs == [SourceRef.runRef(runID: "r2", key: b)])
        #expect(p.removing(keys: [String]()) == p)
    }
}
