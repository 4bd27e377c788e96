/// A C2SP tlog-tiles resource below `tile/`: a tile of hashes `tile/<L>/<N>[.p/<W>]` or an
/// entry bundle `tile/entries/<N>[.p/<W>]`. `<N>` is written in zero-padded 3-digit path
/// elements, all but the last prefixed with `x` (1234067 is `x001/x234/067`); `.p/<W>` marks
/// a partial tile of `W` (1–255) hashes or entries.
public struct TilePath: Hashable, Sendable, CustomStringConvertible {
    /// Hashes (or entries) in a full tile.
    public static let width = 256
    /// The highest tile level the spec allows.
    public static let maxLevel = 63

    /// What the tile holds.
    public enum Kind: Hashable, Sendable {
        /// Merkle tree hashes at tile level `level` (0: leaf hashes).
        case hashes(level: Int)
        /// Log entries, each with a big-endian uint16 length prefix.
        case entries
    }

    /// What the tile holds.
    public let kind: Kind
    /// The tile's index within its level.
    public let index: UInt64
    /// Hashes or entries in it: `TilePath.width` for a full tile, 1–255 for a partial one.
    public let width: Int

    /// A tile path.
    /// - Throws: `TilePathError` for a level above 63 or a width outside 1…256.
    public init(_ kind: Kind, index: UInt64, width: Int = TilePath.width) throws(TilePathError) {
        if case let .hashes(level) = kind, !(0...Self.maxLevel).contains(level) {
            throw .levelOutOfRange(String(level))
        }
        guard (1...Self.width).contains(width) else { throw .widthOutOfRange(String(width)) }
        self.kind = kind
        self.index = index
        self.width = width
    }

    /// True for a tile of fewer than 256 hashes or entries.
    public var isPartial: Bool { width < Self.width }

    /// The path, `tile/…`.
    public var path: String {
        let level: String
        switch kind {
        case let .hashes(l): level = String(l)
        case .entries: level = "entries"
        }
        return "tile/\(level)/\(Self.encode(index))" + (isPartial ? ".p/\(width)" : "")
    }

    public var description: String { path }

    /// Parses the part of a tile path after `tile/` (e.g. `0/x001/234.p/5` or `entries/000`),
    /// refusing any spelling but the canonical one, so each tile has one URL.
    /// - Throws: `TilePathError`.
    public init(parsingAfterTilePrefix text: Substring) throws(TilePathError) {
        // 2^64 has 20 digits: at most 7 index elements, a level and ".p/W".
        var elements = text.split(separator: "/", maxSplits: 10, omittingEmptySubsequences: false)
        guard elements.count >= 2, elements.count <= 9 else { throw .malformed(String(text.prefix(120))) }
        let first = elements.removeFirst()
        let kind: Kind
        if first == "entries" {
            kind = .entries
        } else {
            guard let level = Self.decimal(first), level <= UInt64(Self.maxLevel) else {
                throw .levelOutOfRange(String(first.prefix(40)))
            }
            kind = .hashes(level: Int(level))
        }
        var width = Self.width
        if let last = elements.last, elements.count >= 2, elements[elements.count - 2].hasSuffix(".p") {
            guard let w = Self.decimal(last), w >= 1, w < UInt64(Self.width) else {
                throw .widthOutOfRange(String(last.prefix(40)))
            }
            width = Int(w)
            elements.removeLast()
            elements[elements.count - 1] = elements[elements.count - 1].dropLast(2)
        }
        try self.init(kind, index: try Self.index(elements, text), width: width)
    }

    /// `<N>` from its path elements: `xDDD`… then `DDD`, no needless leading element.
    private static func index(_ elements: [Substring], _ text: Substring) throws(TilePathError) -> UInt64 {
        guard !elements.isEmpty, elements.count <= 7 else { throw .malformed(String(text.prefix(120))) }
        var value: UInt64 = 0
        for (position, element) in elements.enumerated() {
            let isLast = position == elements.count - 1
            var digits = element
            if !isLast {
                guard digits.first == "x" else { throw .malformedIndex(String(text.prefix(120))) }
                digits = digits.dropFirst()
            }
            guard digits.utf8.count == 3, let group = decimalDigits(digits) else {
                throw .malformedIndex(String(text.prefix(120)))
            }
            if position == 0 && !isLast && group == 0 { throw .malformedIndex(String(text.prefix(120))) }
            let (scaled, overflow) = value.multipliedReportingOverflow(by: 1000)
            let (sum, carry) = scaled.addingReportingOverflow(group)
            guard !overflow && !carry else { throw .indexOutOfRange(String(text.prefix(120))) }
            value = sum
        }
        return value
    }

    /// A decimal number without needless leading zeroes, at most 20 digits.
    private static func decimal(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20, text == "0" || text.first != "0" else { return nil }
        return decimalDigits(text)
    }

    private static func decimalDigits(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return UInt64(text)
    }

    /// `<N>` as path elements.
    static func encode(_ index: UInt64) -> String {
        var groups: [UInt64] = []
        var rest = index
        repeat {
            groups.append(rest % 1000)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { position, group in
            let digits = String(group)
            let padded = String(repeating: "0", count: 3 - digits.count) + digits
            return position == groups.count - 1 ? padded : "x" + padded
        }.joined(separator: "/")
    }
}

/// Why a tile path was refused.
public enum TilePathError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `<L>/<N>[.p/<W>]` at all.
    case malformed(String)
    /// The level is not a decimal 0–63 without leading zeroes (nor `entries`).
    case levelOutOfRange(String)
    /// `<N>` is not zero-padded 3-digit elements, all but the last prefixed with `x`.
    case malformedIndex(String)
    /// `<N>` does not fit in 64 bits.
    case indexOutOfRange(String)
    /// `<W>` is not a decimal 1–255 without leading zeroes.
    case widthOutOfRange(String)

    public var description: String {
        switch self {
        case let .malformed(path):
            return "'tile/\(path)' is not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
        case let .levelOutOfRange(level):
            return "tile level '\(level)' must be 'entries' or a decimal 0 to 63 without leading zeroes"
        case let .malformedIndex(path):
            return
                "'tile/\(path)': the tile index must be 3-digit elements, all but the last prefixed with x (1234067 is x001/x234/067)"
        case let .indexOutOfRange(path): return "'tile/\(path)': the tile index does not fit in 64 bits"
        case let .widthOutOfRange(width):
            return "partial tile width '\(width)' must be a decimal 1 to 255 without leading zeroes"
        }
    }
}
