import LedgerLite

/// The bytes of a gateway's audit snapshot (docs/FORMATS.md, "Audit snapshot"): a type byte,
/// a version, then LedgerLite's `ChainSnapshot` (tip, Merkle frontier, rules and TNT state),
/// the same encoding as the chain section of an edge gateway's resume snapshot.
package enum AuditSnapshot {
    /// Type byte of the encoding ('A').
    package static let formatType: UInt8 = 0x41
    package static let version: UInt8 = 1

    /// The encoding of `chain`.
    package static func encoded(_ chain: ChainSnapshot) -> [UInt8] {
        var w = ByteWriter(capacity: 256 + chain.state.tnt.meterCount * 180)
        w.u8(formatType)
        w.u8(version)
        chain.write(to: &w)
        return w.bytes
    }

    /// Decodes bytes written by `encoded(_:)`.
    package static func decode(_ bytes: [UInt8]) throws(RecordDecodingError) -> ChainSnapshot {
        var r = ByteReader(bytes[...])
        let type = try r.u8("snapshot type")
        guard type == formatType else {
            throw .invalidField(field: "snapshot type", reason: "0x\(String(type, radix: 16)) is not an audit snapshot")
        }
        let version = try r.u8("snapshot version")
        guard version == Self.version else { throw .unsupportedVersion(recordType: type, version: version) }
        let chain = try ChainSnapshot(from: &r)
        try r.finish()
        return chain
    }
}
