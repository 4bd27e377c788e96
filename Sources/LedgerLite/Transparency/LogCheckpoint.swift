import Foundation

/// The body of a C2SP tlog checkpoint: the log's origin, its tree size, the RFC 6962 root
/// hash of the tree at that size, and optional extension lines. Signed as a `SignedNote`.
public struct LogCheckpoint: Hashable, Sendable {
    /// The log's identity, a schema-less URL by convention.
    public var origin: String
    /// Number of entries in the tree.
    public var size: UInt64
    /// The tree's root hash at `size`.
    public var rootHash: Hash256
    /// Opaque extension lines, each non-empty.
    public var extensions: [String]

    /// Creates a checkpoint body.
    /// - Throws: `NoteError.malformedCheckpoint` for an empty origin or extension line, or one
    ///   holding a newline or another control character.
    public init(origin: String, size: UInt64, rootHash: Hash256, extensions: [String] = []) throws(NoteError) {
        try Self.requireLine(origin, "the origin")
        for line in extensions { try Self.requireLine(line, "an extension line") }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in a newline.
    public var text: String {
        ([origin, String(size), Data(rootHash.bytes).base64EncodedString()] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a note text.
    /// - Throws: `NoteError.malformedCheckpoint`.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedCheckpoint("the text does not end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw .malformedCheckpoint("fewer than three lines") }
        let sizeLine = lines[1]
        guard !sizeLine.isEmpty, sizeLine.utf8.count <= 20, sizeLine.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            sizeLine == "0" || !sizeLine.hasPrefix("0"), let size = UInt64(sizeLine)
        else { throw .malformedCheckpoint("the tree size '\(sizeLine.prefix(40))' is not a decimal number") }
        guard let raw = Data(base64Encoded: lines[2]), let root = Hash256(bytes: raw) else {
            throw .malformedCheckpoint("the root hash is not base64 of 32 bytes")
        }
        try self.init(origin: lines[0], size: size, rootHash: root, extensions: Array(lines[3...]))
    }

    private static func requireLine(_ line: String, _ what: String) throws(NoteError) {
        guard !line.isEmpty else { throw .malformedCheckpoint("\(what) is empty") }
        guard !line.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw .malformedCheckpoint("\(what) holds a newline or a control character")
        }
    }
}
