import Foundation
import LedgerLite
import LedgerStore

#if canImport(Glibc)
import Glibc
#endif

/// `edge-gateway archive`: moves sealed blocks out of the live chain store into segment
/// files (`ArchiveSegment`) and prunes their readings, online, beside a running gateway.
///
/// For each segment, in order, and safe against a kill at any point:
/// 1. the blocks after the archive boundary are read and verified from the boundary's
///    snapshot (signatures, links, Merkle roots, state digests);
/// 2. the segment is written to a temporary file, fsynced, renamed into place and the
///    directory fsynced; an existing file of the same name (a run killed after writing it)
///    is verified and reused instead;
/// 3. the file is read back and verified as `verify-archive` would;
/// 4. only then one transaction of the live store records the segment, moves the boundary
///    and prunes (`ChainStore.recordArchive`).
/// A segment on disk but not recorded is harmless; nothing is pruned without one.
package enum GatewayArchive {
    package struct Options: Sendable {
        /// Blocks must have ended before this time (ms since the Unix epoch).
        package var before: Int64
        package var outDirectory: String
        /// Archive blocks no super-node checkpoint covers (a gateway without a super node).
        package var uncheckpointed: Bool
        /// A segment holds whole blocks, up to about this many entries.
        package var segmentEntries: Int

        package init(before: Int64, outDirectory: String, uncheckpointed: Bool, segmentEntries: Int = 50_000) {
            self.before = before
            self.outDirectory = outDirectory
            self.uncheckpointed = uncheckpointed
            self.segmentEntries = max(1, segmentEntries)
        }
    }

    package struct Summary: Sendable {
        /// Segments recorded by this run, and whether each was written now or found on disk.
        package var segments: [(name: String, reused: Bool, blocks: ClosedRange<UInt64>, bytes: Int)] = []
        package var entries: UInt64 = 0
        package var prunedReadings = 0
        /// Height of the last archived block after the run (nil: nothing archived yet).
        package var boundary: UInt64?
        /// Why it stopped where it did.
        package var limit: String = ""
    }

    /// Archives what `options` allow from `directory`'s chain.
    package static func run(_ directory: DataDirectory, options: Options) throws -> Summary {
        try directory.requireInitialised()
        let gatewayKey = try directory.loadPublicKey()
        let store = try ChainStore(path: directory.chainPath, check: .none)
        var summary = Summary()
        let (last, reason) = try archivableHeight(directory, store: store, options: options)
        summary.limit = reason
        var start = try store.archivedPrefix()
        summary.boundary = start?.header.header.height
        var next = start.map { $0.header.header.height + 1 } ?? 0
        guard let last, last >= next else { return summary }
        try FileManager.default.createDirectory(atPath: options.outDirectory, withIntermediateDirectories: true)
        let archive = ArchiveDirectory(options.outDirectory)
        var verifier = ChainVerifier(gatewayKey: gatewayKey)
        verifier.concurrency = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)

        while next <= last {
            var blocks: [Block] = []
            var entries = 0
            while next <= last, blocks.isEmpty || entries + 1 <= options.segmentEntries {
                guard let block = try store.block(atHeight: next) else {
                    throw ArchiveError(
                        "block \(next) is missing from \(directory.chainPath); run `edge-gateway verify`"
                    )
                }
                guard block.entries.count == Int(block.header.header.entryCount) else {
                    throw ArchiveError(
                        "block \(next) of \(directory.chainPath) lacks entries; run `edge-gateway verify`"
                    )
                }
                if !blocks.isEmpty, entries + block.entries.count > options.segmentEntries { break }
                blocks.append(block)
                entries += block.entries.count
                next += 1
            }
            let segment = ArchiveSegment(gatewayKey: gatewayKey, start: start, blocks: blocks)
            let raw = blocks.map { RawBlock($0, rowHeight: $0.height) }
            let chain: VerifiedChain
            do { chain = try verifier.verify(rawBlocks: raw, after: start) } catch {
                throw ArchiveError("the blocks to archive do not verify, nothing archived from here: \(error)")
            }
            let name = segment.fileName
            let file = (options.outDirectory as NSString).appendingPathComponent(name)
            var reused = FileManager.default.fileExists(atPath: file)
            if reused, (try? archive.check(name, gatewayKey: gatewayKey)) == nil {
                // A file of that name that does not verify (torn by a crash before its rename
                // could not be, so it was damaged or replaced): keep it aside, write ours.
                try? FileManager.default.removeItem(atPath: file + ".refused")
                try FileManager.default.moveItem(atPath: file, toPath: file + ".refused")
                reused = false
            }
            if !reused { try writeDurably(try segment.encoded(), to: file) }
            // Read back what is on disk: the only copy once pruned.
            let (onDisk, checked) = try archive.check(name, gatewayKey: gatewayKey)
            guard onDisk.blocks.map(\.header.bytes) == blocks.map(\.header.bytes),
                checked.endSnapshot == ArchiveDirectory.encode(chain), let tip = chain.tip
            else {
                throw ArchiveError("segment \(file) does not hold the blocks it should; move it aside and run again")
            }
            let pruned = try store.recordArchive(
                segment,
                name: name,
                fileHash: checked.summary.fileHash,
                endSnapshot: checked.endSnapshot
            )
            summary.segments.append((name, reused, segment.firstHeight...segment.lastHeight, checked.bytes))
            summary.entries += segment.endIndex - segment.firstIndex
            summary.prunedReadings += pruned.readings
            summary.boundary = segment.lastHeight
            start = ArchivedPrefix(
                snapshot: ChainSnapshot(tip: tip, tree: chain.tree, state: chain.state),
                header: blocks[blocks.count - 1].header
            )
        }
        return summary
    }

    /// The last height that may be archived, and what set it.
    static func archivableHeight(
        _ directory: DataDirectory,
        store: ChainStore,
        options: Options
    ) throws -> (UInt64?, String) {
        guard let snapshot = try store.resumeSnapshot() else {
            throw ArchiveError(
                "\(directory.chainPath) has no resume snapshot yet; start the gateway once (it writes one), then archive"
            )
        }
        var last = snapshot.height
        var reason = "the gateway's resume snapshot (block \(snapshot.height))"
        if !options.uncheckpointed {
            let checkpoints = try CheckpointStore.openIfPresent(path: directory.checkpointsPath)
            guard let checkpointed = try checkpoints?.lastHeight() else {
                throw ArchiveError(
                    "no block of this gateway is checkpointed by a super node; a gateway without a super node archives with --uncheckpointed"
                )
            }
            if checkpointed < last {
                last = checkpointed
                reason = "the last super-node checkpoint (block \(checkpointed))"
            }
        }
        guard let beforeCutoff = try store.lastHeight(endingBefore: options.before) else {
            return (nil, "no block ended before the cutoff")
        }
        if beforeCutoff < last {
            last = beforeCutoff
            reason = "the cutoff (block \(beforeCutoff) is the last to end before it)"
        }
        return (last, reason)
    }

    /// Writes `bytes` to `path` so that a crash leaves either no file or the whole one: a
    /// temporary file, fsynced, renamed, and the directory fsynced.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".partial"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw ArchiveError("cannot write \(temporary); check the archive directory's permissions and free space")
        }
        try fsyncPath(temporary)
        guard rename(temporary, path) == 0 else {
            throw ArchiveError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        try fsyncPath((path as NSString).deletingLastPathComponent)
    }

    static func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ArchiveError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ArchiveError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
