/// A block header: what the gateway signs for each block. Layout: docs/FORMATS.md, "Block header".
///
/// Both versions have the same layout; they differ in the state digest they carry:
/// version 1 commits to version 2 of the TNT state encoding (O(meters) to compute),
/// version 2 to version 3, the incremental Merkle commitment (`TNTState.digest(forHeaderVersion:)`).
public struct BlockHeader: Hashable, Sendable {
    static let recordType: UInt8 = 0x10
    /// The version new blocks are sealed with.
    public static let currentVersion: UInt8 = 2
    /// Every version a chain may hold (a chain's versions never decrease from block to block).
    public static let versions: ClosedRange<UInt8> = 1...2
    /// Length of the encoded header, in bytes.
    public static let encodedLength = 150

    /// The header's version: which state digest `stateDigest` is.
    public var version: UInt8
    /// The id of the gateway key that signs the block.
    public var gateway: GatewayID
    /// 0 for the first block, then +1.
    public var height: UInt64
    /// Hash of the previous block (`SignedBlockHeader.hash`); all zero for height 0.
    public var previousHash: Hash256
    /// RFC 6962 root of the tree over every entry of the chain up to this block.
    public var merkleRoot: Hash256
    /// Number of entries in the chain up to and including this block.
    public var treeSize: UInt64
    /// Number of entries in this block (at least 1); they have global indices
    /// `treeSize - entryCount ..< treeSize`.
    public var entryCount: UInt32
    /// Gateway time the first entry was added, ms since the Unix epoch, UTC.
    public var firstTimestamp: Int64
    /// Gateway time the last entry was added (≥ `firstTimestamp`).
    public var lastTimestamp: Int64
    /// `TNTState.digest(forHeaderVersion: version)` after applying this block's entries.
    public var stateDigest: Hash256

    /// Creates a header (version 2 unless `version` says otherwise).
    public init(
        version: UInt8 = BlockHeader.currentVersion,
        gateway: GatewayID,
        height: UInt64,
        previousHash: Hash256,
        merkleRoot: Hash256,
        treeSize: UInt64,
        entryCount: UInt32,
        firstTimestamp: Int64,
        lastTimestamp: Int64,
        stateDigest: Hash256
    ) {
        self.version = version
        self.gateway = gateway
        self.height = height
        self.previousHash = previousHash
        self.merkleRoot = merkleRoot
        self.treeSize = treeSize
        self.entryCount = entryCount
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.stateDigest = stateDigest
    }

    /// The canonical bytes (150).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.u8(Self.recordType)
        w.u8(version)
        w.keyID(gateway)
        w.u64(height)
        w.hash(previousHash)
        w.hash(merkleRoot)
        w.u64(treeSize)
        w.u32(entryCount)
        w.i64(firstTimestamp)
        w.i64(lastTimestamp)
        w.hash(stateDigest)
        return w.bytes
    }

    /// Decodes canonical header bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        version = try r.header(type: Self.recordType, versions: Self.versions)
        gateway = try r.keyID("gateway")
        height = try r.u64("height")
        previousHash = try r.hash("previous_hash")
        merkleRoot = try r.hash("merkle_root")
        treeSize = try r.u64("tree_size")
        entryCount = try r.u32("entry_count")
        firstTimestamp = try r.i64("first_timestamp")
        lastTimestamp = try r.i64("last_timestamp")
        stateDigest = try r.hash("state_digest")
        try r.finish()
        guard entryCount >= 1 else {
            throw .invalidField(field: "entry_count", reason: "a block holds at least one entry")
        }
        guard UInt64(entryCount) <= treeSize else {
            throw .invalidField(field: "entry_count", reason: "more entries than the tree size")
        }
        guard firstTimestamp <= lastTimestamp else {
            throw .invalidField(field: "last_timestamp", reason: "before first_timestamp")
        }
    }
}

/// A header with the gateway's signature, kept as the exact bytes that were signed and
/// stored: `header bytes (150) ‖ Ed25519 signature (64)`.
public struct SignedBlockHeader: Hashable, Sendable {
    /// Header bytes followed by the signature, verbatim.
    public let bytes: [UInt8]
    /// The decoded header.
    public let header: BlockHeader

    /// The signed header bytes.
    public var headerBytes: ArraySlice<UInt8> { bytes[0..<BlockHeader.encodedLength] }
    /// The gateway's 64-byte signature over `headerBytes`.
    public var signature: ArraySlice<UInt8> { bytes[BlockHeader.encodedLength...] }

    /// The block hash: SHA-256 over all 214 bytes (header and signature), so a block's
    /// identity covers its signature too.
    public var hash: Hash256 { Hash256.sha256(bytes) }

    /// Parses stored bytes (does not check the signature).
    public init(bytes: [UInt8]) throws(RecordDecodingError) {
        let total = BlockHeader.encodedLength + 64
        guard bytes.count >= total else {
            throw .truncated(field: "signed block header", needed: total, remaining: bytes.count)
        }
        guard bytes.count == total else { throw .trailingBytes(count: bytes.count - total) }
        header = try BlockHeader(canonicalBytes: bytes[0..<BlockHeader.encodedLength])
        self.bytes = bytes
    }

    /// Signs `header` with the gateway key.
    public static func sign(
        _ header: BlockHeader,
        with gateway: SigningIdentity
    ) throws(IdentityError) -> SignedBlockHeader {
        let headerBytes = header.canonicalBytes()
        let signature = try gateway.sign(headerBytes)
        return SignedBlockHeader(header: header, bytes: headerBytes + signature)
    }

    private init(header: BlockHeader, bytes: [UInt8]) {
        self.header = header
        self.bytes = bytes
    }

    /// True when `key` is the header's gateway and its signature verifies.
    public func isSignatureValid(by key: PublicIdentity) -> Bool {
        key.id == header.gateway && key.isValidSignature(signature, for: headerBytes)
    }
}
