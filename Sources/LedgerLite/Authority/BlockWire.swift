/// How a sealed block travels between a gateway and the super node: its signed header and
/// its entries' envelopes, verbatim. Layout: docs/FORMATS.md, "Block on the wire".
extension Block {
    static let wireType: UInt8 = 0x11
    static let wireVersion: UInt8 = 1
    /// Most entries a block on the wire may carry.
    public static let maxWireEntries = 100_000

    /// `0x11 ‖ 0x01 ‖ signed header (214) ‖ entry count (u32) ‖ { length (u32) ‖ envelope }…`
    public func wireBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 220 + entries.reduce(0) { $0 + 4 + $1.bytes.count })
        w.u8(Self.wireType)
        w.u8(Self.wireVersion)
        w.raw(header.bytes)
        w.u32(UInt32(entries.count))
        for entry in entries {
            w.u32(UInt32(entry.bytes.count))
            w.raw(entry.bytes)
        }
        return w.bytes
    }

    /// Decodes a block from its wire bytes: checks the layout, that the entry count is the
    /// header's and that every envelope decodes; signatures and chain rules are left to
    /// `ChainVerifier` / `ChainAuditor`.
    public init(wireBytes bytes: [UInt8]) throws(RecordDecodingError) {
        var r = ByteReader(bytes[...])
        _ = try r.header(type: Self.wireType, versions: 1...1)
        let header = try SignedBlockHeader(bytes: Array(try r.raw(BlockHeader.encodedLength + 64, "signed_header")))
        let count = Int(try r.u32("entry_count"))
        guard count <= Self.maxWireEntries else {
            throw .oversizeField(field: "entry_count", length: count, limit: Self.maxWireEntries)
        }
        guard count == Int(header.header.entryCount) else {
            throw .invalidField(
                field: "entry_count",
                reason: "\(count) entries but the header lists \(header.header.entryCount)"
            )
        }
        var entries: [SignedRecord] = []
        entries.reserveCapacity(count)
        let maxEnvelope = SignedRecord.maxEnvelopeBytes
        for _ in 0..<count {
            let length = Int(try r.u32("entry_length"))
            guard length <= maxEnvelope else {
                throw .oversizeField(field: "entry_length", length: length, limit: maxEnvelope)
            }
            entries.append(try SignedRecord(bytes: Array(try r.raw(length, "entry"))))
        }
        try r.finish()
        self.init(header: header, entries: entries)
    }
}
