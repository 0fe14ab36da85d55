package import MemifyCore
/// The provenance arrays of one stored row (graph spec §5.4), kept sorted and unique.
package struct Provenance: Sendable, Equatable {
    package var refKeys: [String] = []
    package var datasetIDs: [String] = []
    package var runIDs: [String] = []
    package var runRefs: [String] = []

    package init(refKeys: [String] = [], datasetIDs: [String] = [], runIDs: [String] = [], runRefs: [String] = []) {
        self.refKeys = refKeys
        self.datasetIDs = datasetIDs
        self.runIDs = runIDs
        self.runRefs = runRefs
    }

    /// Adds keys as cognee's adapter does: dataset ids parsed from the keys, and a run ref
    /// (`source_run_ref:v1:<run>:<key>`) only for keys new to the row.
    /// The same provenance with every run id that is not a UUID (the worker's own run names,
    /// which older graphs hold) replaced by its ``GraphIdentity/graphRunID(_:)``,
    /// in `source_run_ids` and inside `source_run_refs`; nil when there is none.
    func upgradingRunIDs() -> Provenance? {
        let old = runIDs.filter { !GraphIdentity.isUUID($0) }
        guard !old.isEmpty else { return nil }
        var p = self
        p.runIDs = Array(Set(runIDs.map(GraphIdentity.graphRunID))).sorted()
        p.runRefs = Array(Set(runRefs.map { ref in
            for run in old where ref.hasPrefix(SourceRef.runRefPrefix + run + ":") {
                return SourceRef.runRefPrefix + GraphIdentity.graphRunID(run) + ref.dropFirst(SourceRef.runRefPrefix.count + run.count)
            }
            return ref
        })).sorted()
        return p
    }

    package func adding(keys: [String], runID: String?) -> Provenance {
        guard !keys.isEmpty else { return self }
        var p = self
        let newKeys = keys.filter { !refKeys.contains($0) }
        p.refKeys = sortedUnion(refKeys, keys)
        p.datasetIDs = sortedUnion(datasetIDs, keys.compactMap(SourceRef.datasetID))
        if let runID, !newKeys.isEmpty {
            p.runRefs = sortedUnion(runRefs, newKeys.map { SourceRef.runRef(runID: runID, key: $0) })
            p.runIDs = sortedUnion(runIDs, [runID])
        }
        return p
    }

    /// Removes one key, its run refs, and the dataset and run ids nothing else still names.
    package func removing(key: String) -> Provenance { removing(keys: [key]) }

    /// Removes keys, their run refs, and the dataset and run ids nothing else still names, in
    /// one pass: the same as removing them one by one, without the quadratic cost of doing so
    /// when a row drops dozens of keys at once (capping).
    package func removing(keys: some Collection<String>) -> Provenance {
        guard !keys.isEmpty else { return self }
        let gone = Set(keys)
        var p = self
        p.refKeys.removeAll { gone.contains($0) }
        // A run ref `source_run_ref:v1:<run>:<key>` goes when what follows any of its colons is
        // a removed key (as `hasSuffix(":" + key)` for each key).
        p.runRefs.removeAll { ref in
            guard ref.hasPrefix("source_run_ref:") else { return false }
            let utf8 = ref.utf8
            var i = utf8.startIndex
            while let colon = utf8[i...].firstIndex(of: UInt8(ascii: ":")) {
                let after = utf8.index(after: colon)
                if gone.contains(String(ref[after...])) { return true }
                i = after
            }
            return false
        }
        let goneDatasets = Set(gone.compactMap(SourceRef.datasetID))
        if !goneDatasets.isEmpty {
            let keptDatasets = Set(p.refKeys.compactMap(SourceRef.datasetID))
            p.datasetIDs.removeAll { goneDatasets.contains($0) && !keptDatasets.contains($0) }
        }
        let keptRuns = Set(p.runRefs.compactMap { ref -> Substring? in
            let parts = ref.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            return parts.count >= 3 ? parts[2] : nil
        })
        p.runIDs.removeAll { !keptRuns.contains(Substring($0)) }
        return p
    }
}

/// Decides, against what is stored, which rows of a batch must be written: rows identical to
/// the stored ones (same name, type, properties and provenance) are dropped before the upsert,
/// so an unchanged re-run writes nothing. Shared by both backends, so they behave alike.
package struct GraphMerge {
    struct Plan {
        var nodes: [(GraphNode, Provenance)] = []
        var edges: [(GraphEdge, Provenance)] = []
        /// Which of `nodes` / `edges` are not stored yet (PostgreSQL COPYs those straight in).
        var newNodes: [Bool] = []
        var newEdges: [Bool] = []
        var stats = GraphWriteStats()
    }

    /// A shared row (an entity, a type, a time, a fact) named by more chunks than this stops
    /// collecting their keys: it gets one key of its own instead (``sharedKey``), which no
    /// turn's retraction removes, and is not rewritten again. Without the cap a popular entity
    /// would carry one key per turn that ever named it, read and rewritten whole by every batch
    /// (quadratic). Rows named by fewer chunks keep exact provenance, so deleting every turn that
    /// named them deletes them.
    package static let provenanceCap = 16

    /// The key a row capped for `dataset` owns: `source_ref:v1:<dataset>:<uuid5 of the row's key>`.
    static func sharedKey(rowKey: String, dataset: String) -> String {
        SourceRef.document(datasetID: dataset, dataID: GraphIdentity.uuid5("memify-shared-row:" + rowKey))
    }

    /// The provenance to write for a row, or nil when the stored row is capped for the incoming
    /// keys' dataset (its provenance stays as it is). The cap counts and collapses only that
    /// dataset's keys: keys of other datasets and other writers (cognee's own) are never touched.
    static func merge(_ old: Provenance, adding keys: [String], rowKey: () -> String, runID: String?) -> Provenance? {
        guard let dataset = keys.lazy.compactMap(SourceRef.datasetID).first else { return old.adding(keys: keys, runID: runID) }
        let v1 = "source_ref:v1:\(dataset):", v2 = "source_ref:v2:\(dataset):"
        var shared: String?
        // Only rows holding a document-scope key of this dataset can be capped: only they pay for the hash.
        if old.refKeys.contains(where: { $0.hasPrefix(v1) }) {
            let key = sharedKey(rowKey: rowKey(), dataset: dataset)
            if old.refKeys.contains(key) { return nil }
            shared = key
        }
        let merged = old.adding(keys: keys, runID: runID)
        let ours = merged.refKeys.filter { $0.hasPrefix(v1) || $0.hasPrefix(v2) }
        guard ours.count > provenanceCap else { return merged }
        // Capped now: this dataset's chunk keys give way to the row's own key, whichever came first.
        return merged.removing(keys: ours).adding(keys: [shared ?? sharedKey(rowKey: rowKey(), dataset: dataset)], runID: runID)
    }

    /// A shared node (entity, type, time, node set) written again by another document: what
    /// can be merged without regard to order is (earliest `created_at`, latest `updated_at`; an
    /// entity that holds relationship edges keeps holding them), so the graph does not depend on
    /// which turn came last, and a turn that adds nothing new rewrites nothing.
    static func mergeShared(stored: JSONObject, new: JSONObject) -> JSONObject {
        var merged = new
        func millis(_ object: JSONObject, _ key: String) -> Double? {
            if case .number(let n)? = object[key] { return n.doubleValue }
            return nil
        }
        if let a = millis(stored, "created_at"), let b = millis(new, "created_at"), a < b { merged["created_at"] = stored["created_at"] }
        if let a = millis(stored, "updated_at"), let b = millis(new, "updated_at"), a > b { merged["updated_at"] = stored["updated_at"] }
        if stored["relations"] == nil, new["relations"] == .array([]), stored["description"] != nil { merged["relations"] = nil }
        return merged
    }

    /// An edge written again keeps the later of the two `updated_at` times (`YYYY-MM-DD HH:MM:SS`
    /// strings sort in time order), so the order turns come in does not matter.
    static func keepLaterEdgeTime(of earlier: JSONObject, in properties: inout JSONObject) {
        if case .string(let was)? = earlier["updated_at"], case .string(let now)? = properties["updated_at"], was > now {
            properties["updated_at"] = .string(was)
        }
    }

    /// The edges of cognee's document structure (rebuilt from the document); every other name
    /// is a relationship between entities.
    static let structuralEdges: Set<String> = ["is_part_of", "contains", "made_from", "is_a", "belongs_to_set"]

    static func plan(_ batch: GraphBatch, existingNodes: [String: StoredNode],
                     existingEdges: [GraphEdge.Key: StoredEdge]) -> Plan {
        var plan = Plan()
        for var node in batch.nodes {
            let stored = existingNodes[node.id]
            if let stored, !CogneeDocumentBuilder.documentScopedTypes.contains(node.type) {
                node.properties = mergeShared(stored: stored.node.properties, new: node.properties)
            }
            let old = stored.map(\.provenance) ?? Provenance()
            guard let merged = merge(old, adding: node.sourceRefKeys, rowKey: { "node:" + node.id }, runID: batch.runID) else {
                // Capped: the provenance stays; the properties still merge (an entity that now
                // holds edges, an earlier created_at, a later updated_at), so the row ends the
                // same whichever turn, shard or worker came last.
                if let stored {
                    if !JSONValue.object(stored.node.properties).isEquivalent(to: .object(node.properties)) {
                        plan.nodes.append((node, old))
                        plan.newNodes.append(false)
                        continue
                    }
                }
                plan.stats.nodesUnchanged += 1
                continue
            }
            if let stored, stored.node.name == node.name, stored.node.type == node.type, merged == old,
               JSONValue.object(stored.node.properties).isEquivalent(to: .object(node.properties)) {
                plan.stats.nodesUnchanged += 1
            } else {
                plan.nodes.append((node, merged))
                plan.newNodes.append(stored == nil)
            }
        }
        for var edge in batch.edges {
            let stored = existingEdges[edge.key]
            // A relationship already stored keeps its properties (cognee's rule: it only gains
            // provenance; its feedback_weight and other state are left alone).
            if let stored {
                if !Self.structuralEdges.contains(edge.relationshipName) {
                    let now = edge.properties["updated_at"]
                    edge.properties = stored.edge.properties
                    if let now { edge.properties["updated_at"] = now }
                }
                keepLaterEdgeTime(of: stored.edge.properties, in: &edge.properties)
                // A structural edge rewritten with another text (a document renamed by an edit):
                // the old text's vector may be left to no edge.
                let before = VectorIndex.edgeText(stored.edge.properties, relationshipName: stored.edge.relationshipName)
                if before != VectorIndex.edgeText(edge.properties, relationshipName: edge.relationshipName) {
                    plan.stats.replacedEdgeTexts.append(before)
                }
            }
            let old = stored.map(\.provenance) ?? Provenance()
            let rowKey = { "edge:\(edge.sourceID):\(edge.relationshipName):\(edge.targetID)" }
            guard let merged = merge(old, adding: edge.sourceRefKeys, rowKey: rowKey, runID: batch.runID) else {
                // Capped: the provenance stays, a later updated_at is still kept.
                if let stored, !JSONValue.object(stored.edge.properties).isEquivalent(to: .object(edge.properties)) {
                    plan.edges.append((edge, old))
                    plan.newEdges.append(false)
                } else {
                    plan.stats.edgesUnchanged += 1
                }
                continue
            }
            if let stored, merged == old,
               JSONValue.object(stored.edge.properties).isEquivalent(to: .object(edge.properties)) {
                plan.stats.edgesUnchanged += 1
            } else {
                plan.edges.append((edge, merged))
                plan.newEdges.append(stored == nil)
            }
        }
        plan.stats.nodesWritten = plan.nodes.count
        plan.stats.edgesWritten = plan.edges.count
        return plan
    }

    /// The endpoints of `batch`'s edges that are neither in the batch nor among `stored`.
    static func missingEndpoints(_ batch: GraphBatch, stored: Set<String>) -> [String] {
        let inBatch = Set(batch.nodes.map(\.id))
        var missing: Set<String> = []
        for edge in batch.edges {
            for id in [edge.sourceID, edge.targetID] where !inBatch.contains(id) && !stored.contains(id) {
                missing.insert(id)
            }
        }
        return missing.sorted()
    }

    static func endpointsOutsideBatch(_ batch: GraphBatch) -> [String] {
        let inBatch = Set(batch.nodes.map(\.id))
        return Array(Set(batch.edges.flatMap { [$0.sourceID, $0.targetID] }).subtracting(inBatch)).sorted()
    }

    static func missingNodeError(_ missing: [String], location: String) -> DatabaseError {
        DatabaseError(.invalidArgument, operation: "write edges to \(location)",
                        message: "\(missing.count) edge endpoint(s) are neither in the batch nor in the graph (first: \(missing.prefix(3).joined(separator: ", "))); nothing was written")
    }
}

extension StoredNode {
    package var provenance: Provenance {
        Provenance(refKeys: sourceRefKeys, datasetIDs: sourceDatasetIDs, runIDs: sourceRunIDs, runRefs: sourceRunRefs)
    }
}

extension StoredEdge {
    package var provenance: Provenance {
        Provenance(refKeys: sourceRefKeys, datasetIDs: sourceDatasetIDs, runIDs: sourceRunIDs, runRefs: sourceRunRefs)
    }
}

extension JSONValue {
    /// Equality as PostgreSQL's jsonb sees it: object keys in any order, numbers by value.
    package func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)):
            return a.literal == b.literal || (a.doubleValue != nil && a.doubleValue == b.doubleValue)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            if a.keys == b.keys { return zip(a.values, b.values).allSatisfy { $0.isEquivalent(to: $1) } }
            for (key, value) in a.pairs {
                guard let match = b[key], value.isEquivalent(to: match) else { return false }
            }
            return true
        default: return false
        }
    }
}
