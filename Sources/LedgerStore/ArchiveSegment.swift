internal import CZlib
import Crypto
import Foundation
import LedgerLite

/// A segment file of a gateway's archive: consecutive sealed blocks, with their exact signed
/// bytes, moved out of the live store (docs/FORMATS.md, "Archive segment").
///
/// It checks itself offline: a SHA-256 over the whole file, then the blocks replayed by
/// `ChainVerifier` from the state the segment carries at its start (nothing for the first
/// segment; otherwise the snapshot after the previous block, with that block's signed header,
/// which vouches for its Merkle frontier and state digest). Every entry's inclusion in its
/// block's Merkle root, and every block's signature, link and state digest, is checked so.
public struct ArchiveSegment: Sendable {
    /// The file's first 8 bytes.
    public static let magic: [UInt8] = Array("GLSEGMNT".utf8)
    /// The format version this code writes and reads.
    public static let version: UInt8 = 1
    /// Compression of the body: zlib (RFC 1950) at its default level.
    static let zlibCompression: UInt8 = 1
    /// The fixed part before the compressed body.
    static let headerBytes = 8 + 1 + 1 + 32 + 8 * 6
    /// Largest body this code reads (a hostile length must not make it allocate more).
    public static let maxBodyBytes = 1 << 30

    /// The gateway key the blocks are signed with.
    public var gatewayKey: PublicIdentity
    /// The chain before the first block; nil when the segment starts at height 0.
    public var start: ArchivedPrefix?
    /// The blocks, in height order.
    public var blocks: [Block]

    /// A segment of `blocks`, which follow `start` (nil: they start at height 0).
    public init(gatewayKey: PublicIdentity, start: ArchivedPrefix?, blocks: [Block]) {
        self.gatewayKey = gatewayKey
        self.start = start
        self.blocks = blocks
    }

    /// Height of the first block.
    public var firstHeight: UInt64 { blocks.first?.height ?? 0 }
    /// Height of the last block.
    public var lastHeight: UInt64 { blocks.last?.height ?? 0 }
    /// Index of the first entry (the tree size before the segment).
    public var firstIndex: UInt64 { blocks.first?.firstEntryIndex ?? 0 }
    /// The tree size after the last block.
    public var endIndex: UInt64 { blocks.last?.header.header.treeSize ?? 0 }

    /// The file name of the segment holding blocks `first...last`.
    public static func fileName(first: UInt64, last: UInt64) -> String {
        "segment-" + padded(first) + "-" + padded(last) + ".glseg"
    }

    private static func padded(_ n: UInt64) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// The segment's file name.
    public var fileName: String { Self.fileName(first: firstHeight, last: lastHeight) }

    // MARK: encoding

    /// The file's bytes.
    public func encoded() throws -> [UInt8] {
        var body = ByteWriter(capacity: 1 << 16)
        if let start {
            body.u8(1)
            body.lengthPrefixed(start.header.bytes)
            var snapshot = ByteWriter()
            start.snapshot.write(to: &snapshot)
            body.lengthPrefixed(snapshot.bytes)
        } else {
            body.u8(0)
        }
        body.u32(UInt32(blocks.count))
        for block in blocks {
            body.lengthPrefixed(block.header.bytes)
            body.u32(UInt32(block.entries.count))
            for entry in block.entries { body.lengthPrefixed(entry.bytes) }
        }
        let compressed = try Self.deflate(body.bytes)
        var file = ByteWriter(capacity: Self.headerBytes + compressed.count + 32)
        file.raw(Self.magic)
        file.u8(Self.version)
        file.u8(Self.zlibCompression)
        file.raw(gatewayKey.rawBytes)
        file.u64(firstHeight)
        file.u64(lastHeight)
        file.u64(firstIndex)
        file.u64(endIndex)
        file.u64(UInt64(body.bytes.count))
        file.u64(UInt64(compressed.count))
        file.raw(compressed)
        file.raw(Array(SHA256.hash(data: file.bytes)))
        return file.bytes
    }

    // MARK: decoding and checking

    /// What the fixed header of a segment file says, read without decompressing it.
    public struct Summary: Sendable, Hashable {
        public var gatewayKey: PublicIdentity
        public var firstHeight: UInt64
        public var lastHeight: UInt64
        public var firstIndex: UInt64
        public var endIndex: UInt64
        /// SHA-256 of the whole file.
        public var fileHash: Hash256
    }

    /// Reads and checks the segment in `bytes`: magic, version, file hash, sizes, then every
    /// block replayed from the segment's start (`ChainVerifier`), signed by `gatewayKey` when
    /// given (otherwise by the key the file names).
    /// - Returns: the segment, its summary and the verified chain after its last block.
    /// - Throws: `ArchiveSegmentError` naming the first problem.
    public static func verified(
        _ bytes: [UInt8],
        gatewayKey trusted: PublicIdentity? = nil
    ) throws(ArchiveSegmentError) -> (segment: ArchiveSegment, summary: Summary, chain: VerifiedChain) {
        let (segment, summary) = try decode(bytes)
        if let trusted, trusted != segment.gatewayKey {
            throw .otherGateway(found: segment.gatewayKey.id)
        }
        let verifier = ChainVerifier(gatewayKey: segment.gatewayKey)
        let raw = segment.blocks.enumerated().map { offset, block in
            RawBlock(block, rowHeight: summary.firstHeight + UInt64(offset))
        }
        let chain: VerifiedChain
        do { chain = try verifier.verify(rawBlocks: raw, after: segment.start) } catch {
            throw .chain(error)
        }
        guard chain.tip?.height == summary.lastHeight, chain.tree.size == summary.endIndex else {
            throw .inconsistent("its blocks end elsewhere than its header says")
        }
        return (segment, summary, chain)
    }

    /// Decodes `bytes` after checking its hash and header; blocks are not verified.
    static func decode(_ bytes: [UInt8]) throws(ArchiveSegmentError) -> (ArchiveSegment, Summary) {
        guard bytes.count >= headerBytes + 32 else { throw .truncated }
        guard Array(bytes[0..<8]) == magic else { throw .notASegment }
        guard bytes[8] == version else { throw .unsupportedVersion(bytes[8]) }
        guard bytes[9] == zlibCompression else { throw .inconsistent("unknown compression \(bytes[9])") }
        let content = bytes[0..<(bytes.count - 32)]
        guard Array(SHA256.hash(data: content)) == Array(bytes[(bytes.count - 32)...]) else {
            throw .hashMismatch
        }
        do {
            var r = ByteReader(content[10...])
            let key: PublicIdentity
            do { key = try PublicIdentity(rawBytes: try r.raw(32, "gateway key")) } catch {
                throw ArchiveSegmentError.inconsistent("its gateway key is not a valid key")
            }
            let first = try r.u64("first height")
            let last = try r.u64("last height")
            let firstIndex = try r.u64("first index")
            let endIndex = try r.u64("end index")
            let bodyLength = try r.u64("body length")
            let compressedLength = try r.u64("compressed length")
            guard bodyLength <= UInt64(maxBodyBytes), compressedLength == UInt64(r.remaining) else {
                throw ArchiveSegmentError.inconsistent("its lengths do not match the file")
            }
            guard first <= last, firstIndex <= endIndex else {
                throw ArchiveSegmentError.inconsistent("its header names an empty or reversed range")
            }
            let body = try inflate(Array(try r.raw(r.remaining, "body")), length: Int(bodyLength))
            var b = ByteReader(body[...])
            var start: ArchivedPrefix?
            if try b.flag("start kind") {
                let header = try SignedBlockHeader(bytes: try b.lengthPrefixed("start header", limit: 1 << 16))
                let snapshotBytes = try b.lengthPrefixed("start snapshot", limit: maxBodyBytes)
                var s = ByteReader(snapshotBytes[...])
                let snapshot = try ChainSnapshot(from: &s)
                try s.finish()
                start = ArchivedPrefix(snapshot: snapshot, header: header)
            }
            guard (start?.header.header.height).map({ $0 + 1 }) ?? 0 == first else {
                throw ArchiveSegmentError.inconsistent("its start is not the block before its first")
            }
            let count = try b.count("block count", itemBytes: 8)
            guard UInt64(count) == last - first + 1 else {
                throw ArchiveSegmentError.inconsistent("it holds \(count) blocks, its header says \(last - first + 1)")
            }
            var blocks: [Block] = []
            blocks.reserveCapacity(count)
            for _ in 0..<count {
                let header = try SignedBlockHeader(bytes: try b.lengthPrefixed("block header", limit: 1 << 16))
                let entries = try b.count("entry count", itemBytes: 4)
                var records: [SignedRecord] = []
                records.reserveCapacity(entries)
                for _ in 0..<entries {
                    records.append(try SignedRecord(bytes: try b.lengthPrefixed("entry", limit: 1 << 20)))
                }
                blocks.append(Block(header: header, entries: records))
            }
            try b.finish()
            let segment = ArchiveSegment(gatewayKey: key, start: start, blocks: blocks)
            guard segment.firstIndex == firstIndex, segment.endIndex == endIndex else {
                throw ArchiveSegmentError.inconsistent("its entries do not match the index range its header names")
            }
            let summary = Summary(
                gatewayKey: key,
                firstHeight: first,
                lastHeight: last,
                firstIndex: firstIndex,
                endIndex: endIndex,
                fileHash: Hash256.sha256(bytes)
            )
            return (segment, summary)
        } catch let error as ArchiveSegmentError {
            throw error
        } catch let error as RecordDecodingError {
            throw .undecodable("\(error)")
        } catch {
            throw .undecodable("\(error)")
        }
    }

    // MARK: proofs

    /// The entry with global index `index`, its block, and its inclusion proof in the tree
    /// of that block's header (its Merkle root), computed from the segment alone: the nodes
    /// left of the segment are its start's frontier, the rest are its entries' leaf hashes.
    /// nil when the entry is not in this segment.
    public func inclusion(ofEntry index: UInt64) throws -> (entry: SignedRecord, block: Block, proof: InclusionProof)? {
        guard index >= firstIndex, index < endIndex,
            let block = blocks.first(where: { index < $0.header.header.treeSize })
        else { return nil }
        let base = firstIndex
        let treeSize = block.header.header.treeSize
        var leaves: [Hash256] = []
        leaves.reserveCapacity(Int(treeSize - base))
        for b in blocks where b.firstEntryIndex < treeSize {
            for entry in b.entries { leaves.append(entry.leafHash) }
        }
        var frontier: [UInt64: Hash256] = [:]
        if let start {
            var position: UInt64 = 0
            for (k, hash) in zip(
                stride(from: 63, through: 0, by: -1).filter { base >> UInt64($0) & 1 == 1 },
                start.snapshot.tree.frontier
            ) {
                frontier[UInt64(k) << 58 | position >> UInt64(k)] = hash
                position += UInt64(1) << UInt64(k)
            }
        }
        let tree = StoredMerkleTree(size: treeSize) { level, node in
            let first = node << UInt64(level)
            if first >= base {
                let from = Int(first - base)
                return Merkle.root(leafHashes: Array(leaves[from..<from + (1 << level)]))
            }
            guard let hash = frontier[UInt64(level) << 58 | node] else {
                throw ArchiveSegmentError.inconsistent("a proof needs a node left of the segment's frontier")
            }
            return hash
        }
        let proof = try tree.inclusionProof(index: index, treeSize: treeSize)
        return (block.entries[Int(index - block.firstEntryIndex)], block, proof)
    }

    // MARK: zlib

    static func deflate(_ input: [UInt8]) throws(ArchiveSegmentError) -> [UInt8] {
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &length, source.baseAddress, uLong(input.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw .compression("zlib compress2 returned \(status)") }
        return Array(output[0..<Int(length)])
    }

    static func inflate(_ input: [UInt8], length: Int) throws(ArchiveSegmentError) -> [UInt8] {
        var produced = uLong(length)
        var output = [UInt8](repeating: 0, count: max(1, length))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                uncompress(out.baseAddress, &produced, source.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(produced) == length else {
            throw .undecodable("its compressed body does not inflate to its stated length (zlib status \(status))")
        }
        return Array(output[0..<length])
    }
}

/// Why a segment file was refused.
public enum ArchiveSegmentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than a segment's header and hash.
    case truncated
    /// Does not start with the segment magic.
    case notASegment
    /// A format version this code does not read.
    case unsupportedVersion(UInt8)
    /// The SHA-256 at its end is not the hash of the rest.
    case hashMismatch
    /// Its header, lengths or start disagree with its contents.
    case inconsistent(String)
    /// Its body does not decode.
    case undecodable(String)
    /// Signed by another gateway than the one trusted.
    case otherGateway(found: KeyID)
    /// Its blocks do not verify.
    case chain(VerificationFailure)
    /// zlib failed while writing.
    case compression(String)

    public var description: String {
        switch self {
        case .truncated: return "the file is truncated (shorter than a segment's header and hash)"
        case .notASegment: return "the file is not an archive segment (wrong magic)"
        case let .unsupportedVersion(v): return "segment format version \(v) is not supported (this build reads 1)"
        case .hashMismatch: return "the file's SHA-256 does not match its contents (truncated, altered or corrupted)"
        case let .inconsistent(what): return "the segment is inconsistent: \(what)"
        case let .undecodable(what): return "the segment does not decode: \(what)"
        case let .otherGateway(found):
            return
                "the segment is signed by gateway key \(found.hex), not this gateway's (a segment of another gateway)"
        case let .chain(failure): return "the segment's blocks do not verify: \(failure)"
        case let .compression(what): return "compressing the segment failed: \(what)"
        }
    }
}
