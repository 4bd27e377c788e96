import LedgerLite

/// JSON views of chain data for the HTTP API and `inspect --json`. Views are for people
/// and scripts; the signed bytes travel alongside in base64 where they matter.

package struct HeaderView: Codable, Sendable {
    /// The header's version, which names the TNT state digest `stateDigest` is (docs/FORMATS.md).
    package var version: UInt8
    package var height: UInt64
    package var hash: String
    package var previousHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var entryCount: UInt32
    package var firstTimestamp: Int64
    package var lastTimestamp: Int64
    package var stateDigest: String
    package var gateway: String

    package init(_ signed: SignedBlockHeader) {
        let h = signed.header
        version = h.version
        height = h.height
        hash = signed.hash.hex
        previousHash = h.previousHash.hex
        merkleRoot = h.merkleRoot.hex
        treeSize = h.treeSize
        entryCount = h.entryCount
        firstTimestamp = h.firstTimestamp
        lastTimestamp = h.lastTimestamp
        stateDigest = h.stateDigest.hex
        gateway = h.gateway.hex
    }
}
