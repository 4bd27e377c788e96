import LedgerLite

/// Everything the chain writer needs to go on after a block without reading the chain:
/// the chain (tip, Merkle frontier, rules and TNT state) and the writer's memory of sealed
/// entries. Stored with the block it follows (`ChainStore.append(_:snapshot:)`), checked
/// against the tip's signed header at start-up. Format: docs/FORMATS.md, "Resume snapshot".
package struct ResumeSnapshot: Sendable {
    /// Type byte of the encoding ('R').
    package static let formatType: UInt8 = 0x52
    package static let version: UInt8 = 1

    package var chain: ChainSnapshot
    package var memory: ResumeMemory

    package init(chain: ChainSnapshot, memory: ResumeMemory) {
        self.chain = chain
        self.memory = memory
    }

    /// The encoded sections, in order, each with the name a mismatch is reported by.
    func sections() -> [(name: String, bytes: [UInt8])] {
        var tip = ByteWriter()
        tip.u8(Self.formatType)
        tip.u8(Self.version)
        var chainBytes = ByteWriter(capacity: 256 + chain.state.tnt.meterCount * 180)
        chain.write(to: &chainBytes)
        // The chain section holds the tip, the frontier and the rules state; the TNT state is
        // named on its own (it is what the header's state digest commits to).
        var tnt = ByteWriter()
        chain.state.tnt.writeSnapshot(to: &tnt)
        return [("format", tip.bytes), ("chain tip, Merkle frontier and rules state", chainBytes.bytes)]
            + memory.sections()
            + [("TNT state", tnt.bytes)]
    }

    /// The snapshot's bytes.
    package func encoded() -> [UInt8] {
        // The trailing TNT section only names a mismatch; the chain section already holds it.
        sections().dropLast().flatMap(\.bytes)
    }

    /// Decodes a snapshot written by `encoded()`.
    package init(bytes: [UInt8]) throws(RecordDecodingError) {
        var r = ByteReader(bytes[...])
        let type = try r.u8("snapshot type")
        guard type == Self.formatType else {
            throw .invalidField(field: "snapshot type", reason: "0x\(String(type, radix: 16)) is not a resume snapshot")
        }
        let version = try r.u8("snapshot version")
        guard version == Self.version else { throw .unsupportedVersion(recordType: type, version: version) }
        chain = try ChainSnapshot(from: &r)
        memory = try ResumeMemory(from: &r)
        try r.finish()
    }

    /// The first part of this snapshot that differs from `other` (by name), nil when they
    /// are equal.
    package func difference(from other: ResumeSnapshot) -> String? {
        let mine = sections()
        let theirs = other.sections()
        // The TNT state first: it is the part a reader can check against a header.
        for index in [mine.count - 1] + Array(mine.indices.dropLast()) where mine[index].bytes != theirs[index].bytes {
            return mine[index].name
        }
        return nil
    }
}
