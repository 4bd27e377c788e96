/// A C2SP tlog-tiles entry bundle: consecutive log entries, each a big-endian uint16 length
/// followed by that many bytes.
public enum EntryBundle {
    /// The longest entry a bundle can carry.
    public static let maxEntryLength = Int(UInt16.max)

    /// The bundle of `entries`.
    /// - Throws: `EntryBundleError.entryTooLong` for an entry of more than 65,535 bytes.
    public static func encode<S: Sequence>(_ entries: S) throws(EntryBundleError) -> [UInt8]
    where S.Element == [UInt8] {
        var out: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            guard entry.count <= maxEntryLength else { throw .entryTooLong(index: index, length: entry.count) }
            out.append(UInt8(entry.count >> 8))
            out.append(UInt8(entry.count & 0xFF))
            out.append(contentsOf: entry)
        }
        return out
    }

    /// The entries of a bundle.
    /// - Throws: `EntryBundleError.truncated` when a length runs past the end.
    public static func decode(_ bundle: [UInt8]) throws(EntryBundleError) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var at = 0
        while at < bundle.count {
            guard at + 2 <= bundle.count else { throw .truncated(index: entries.count) }
            let length = Int(bundle[at]) << 8 | Int(bundle[at + 1])
            at += 2
            guard length <= bundle.count - at else { throw .truncated(index: entries.count) }
            entries.append(Array(bundle[at..<at + length]))
            at += length
        }
        return entries
    }
}

/// Why an entry bundle could not be made or read.
public enum EntryBundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An entry is longer than a uint16 length can say.
    case entryTooLong(index: Int, length: Int)
    /// The bundle ends inside entry `index`.
    case truncated(index: Int)

    public var description: String {
        switch self {
        case let .entryTooLong(index, length):
            return "entry \(index) is \(length) bytes; a bundle entry holds at most \(EntryBundle.maxEntryLength)"
        case let .truncated(index): return "the entry bundle ends inside entry \(index)"
        }
    }
}
