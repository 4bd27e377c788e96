import Foundation
import LedgerLite
import LedgerStore

/// A directory of archive segments (`ArchiveSegment`, files `segment-*.glseg`), checked
/// offline: each file on its own, then the files together as one chain from block 0, each
/// segment starting exactly where the one before it ends (same tip, frontier and state).
package struct ArchiveDirectory: Sendable {
    package let path: String

    package init(_ path: String) { self.path = path }

    /// A segment that verified, with the chain after its last block.
    package struct Checked: Sendable {
        package var name: String
        package var summary: ArchiveSegment.Summary
        package var entries: Int
        package var bytes: Int
        /// The chain snapshot after its last block, encoded.
        package var endSnapshot: [UInt8]
    }

    /// What `verifyAll` found.
    package struct Report: Sendable {
        package var segments: [Checked]
        package var blocks: UInt64 { segments.last.map { $0.summary.lastHeight + 1 } ?? 0 }
        package var entries: UInt64 { segments.last?.summary.endIndex ?? 0 }
    }

    /// The segment files, sorted by name (which orders them by height).
    package func segmentNames() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ArchiveError("the archive directory \(path) does not exist")
        }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasPrefix("segment-") && $0.hasSuffix(".glseg") }
            .sorted()
    }

    /// Reads and verifies the segment file `name` (signed by `gatewayKey` when given).
    package func check(_ name: String, gatewayKey: PublicIdentity?) throws -> (ArchiveSegment, Checked) {
        let file = (path as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ArchiveError("cannot read the segment \(file)")
        }
        let bytes = [UInt8](data)
        do {
            let (segment, summary, chain) = try ArchiveSegment.verified(bytes, gatewayKey: gatewayKey)
            guard name == segment.fileName else {
                throw ArchiveError(
                    "segment \(file) holds blocks \(summary.firstHeight)–\(summary.lastHeight) but is named otherwise (renamed or swapped)"
                )
            }
            return (
                segment,
                Checked(
                    name: name,
                    summary: summary,
                    entries: Int(summary.endIndex - summary.firstIndex),
                    bytes: bytes.count,
                    endSnapshot: Self.encode(chain)
                )
            )
        } catch let error as ArchiveSegmentError {
            throw ArchiveError("segment \(file) is refused: \(error)")
        }
    }

    /// Verifies every segment and that they form one chain from block 0 (signed by
    /// `gatewayKey`, or by the first segment's key when nil).
    package func verifyAll(
        gatewayKey: PublicIdentity?,
        progress: (Checked) -> Void = { _ in }
    ) throws -> Report {
        var key = gatewayKey
        var report = Report(segments: [])
        for name in try segmentNames() {
            let (segment, checked) = try check(name, gatewayKey: key)
            key = segment.gatewayKey
            let expected = report.blocks
            guard checked.summary.firstHeight == expected else {
                throw ArchiveError(
                    "segment \(name) starts at block \(checked.summary.firstHeight), expected block \(expected) (a segment is missing, or belongs to another archive)"
                )
            }
            if let previous = report.segments.last {
                guard let start = segment.start, Self.encode(start.snapshot) == previous.endSnapshot else {
                    throw ArchiveError(
                        "segment \(name) does not start where \(previous.name) ends (its snapshot differs): a segment of another chain"
                    )
                }
            }
            report.segments.append(checked)
            progress(checked)
        }
        return report
    }

    package static func encode(_ chain: VerifiedChain) -> [UInt8] {
        guard let tip = chain.tip else { return [] }
        return encode(ChainSnapshot(tip: tip, tree: chain.tree, state: chain.state))
    }

    package static func encode(_ snapshot: ChainSnapshot) -> [UInt8] {
        var w = ByteWriter()
        snapshot.write(to: &w)
        return w.bytes
    }
}

/// Why archiving or checking an archive failed: one line for the operator.
package struct ArchiveError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
