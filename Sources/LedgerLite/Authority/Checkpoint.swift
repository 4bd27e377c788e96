/// The super node's countersignature of an audited block: the block at `height` of
/// `gateway`'s chain, with this hash, root and tree size, passed the audit at `checkpointedAt`.
/// Layout: docs/FORMATS.md, "Checkpoint".
public struct Checkpoint: Hashable, Sendable {
    static let recordType: UInt8 = 0x31
    static let version: UInt8 = 1
    /// Length of the encoded checkpoint, in bytes.
    public static let encodedLength = 130

    /// Id of the super node root key that signs it.
    public var issuer: KeyID
    /// The gateway whose chain holds the block.
    public var gateway: GatewayID
    /// Serial of the certificate the block was pushed with.
    public var certificateSerial: UInt64
    /// The block's height.
    public var height: UInt64
    /// The block hash (`SignedBlockHeader.hash`).
    public var blockHash: Hash256
    /// The block's Merkle root (over all entries up to it).
    public var merkleRoot: Hash256
    /// The block's tree size.
    public var treeSize: UInt64
    /// When the super node accepted the block, ms since the Unix epoch, UTC.
    public var checkpointedAt: Int64

    /// Creates a checkpoint.
    public init(
        issuer: KeyID,
        gateway: GatewayID,
        certificateSerial: UInt64,
        height: UInt64,
        blockHash: Hash256,
        merkleRoot: Hash256,
        treeSize: UInt64,
        checkpointedAt: Int64
    ) {
        self.issuer = issuer
        self.gateway = gateway
        self.certificateSerial = certificateSerial
        self.height = height
        self.blockHash = blockHash
        self.merkleRoot = merkleRoot
        self.treeSize = treeSize
        self.checkpointedAt = checkpointedAt
    }

    /// The canonical bytes (130).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.u8(Self.recordType)
        w.u8(Self.version)
        w.keyID(issuer)
        w.keyID(gateway)
        w.u64(certificateSerial)
        w.u64(height)
        w.hash(blockHash)
        w.hash(merkleRoot)
        w.u64(treeSize)
        w.i64(checkpointedAt)
        return w.bytes
    }

    /// Decodes canonical bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType, versions: 1...1)
        issuer = try r.keyID("issuer")
        gateway = try r.keyID("gateway")
        certificateSerial = try r.u64("certificate_serial")
        height = try r.u64("height")
        blockHash = try r.hash("block_hash")
        merkleRoot = try r.hash("merkle_root")
        treeSize = try r.u64("tree_size")
        checkpointedAt = try r.i64("checkpointed_at")
        try r.finish()
    }
}

/// A checkpoint with the root key's signature: `checkpoint bytes (130) ‖ Ed25519 signature (64)`.
public typealias SignedCheckpoint = RootSigned<Checkpoint>

extension Checkpoint: RootSignedPayload {
    public static var signedName: String { "signed checkpoint" }
}

extension RootSigned where Payload == Checkpoint {
    /// The decoded checkpoint.
    public var checkpoint: Checkpoint { payload }
}
