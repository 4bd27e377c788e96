import Foundation

/// One signature line of a signed note: `— <key name> base64(key id ‖ signature)`.
public struct NoteSignature: Hashable, Sendable {
    /// The signing key's name.
    public var keyName: String
    /// The signing key's 32-bit id.
    public var keyID: UInt32
    /// The signature bytes after the key id (64 for Ed25519).
    public var signature: [UInt8]

    /// Creates a signature line's parts.
    public init(keyName: String, keyID: UInt32, signature: [UInt8]) {
        self.keyName = keyName
        self.keyID = keyID
        self.signature = signature
    }

    /// The line, newline included.
    public var line: String {
        let id = [UInt8(keyID >> 24), UInt8(keyID >> 16 & 0xFF), UInt8(keyID >> 8 & 0xFF), UInt8(keyID & 0xFF)]
        return "\u{2014} \(keyName) \(Data(id + signature).base64EncodedString())\n"
    }
}

/// A C2SP signed note: a text ending in a newline, a blank line, and one or more signature
/// lines. The text is what is signed, byte for byte; parsing keeps it verbatim.
public struct SignedNote: Hashable, Sendable {
    /// More signature lines than this are refused (Go's sumdb/note takes 100; the spec asks
    /// verifiers to take at least 16).
    public static let maxSignatures = 100
    /// Longer notes are refused before they are looked at.
    public static let maxLength = 1 << 16

    /// The signed text, final newline included.
    public let text: String
    /// The signature lines, in order.
    public let signatures: [NoteSignature]

    /// Signs `text` with `identity` under `key` (whose public key must be `identity`'s).
    /// - Throws: `NoteError.malformed` for a text that is no note text, or when the key is
    ///   not `identity`'s; `IdentityError` when signing fails.
    public static func sign(_ text: String, key: NoteKey, with identity: SigningIdentity) throws -> SignedNote {
        try requireNoteText(text)
        guard key.publicKey == identity.publicIdentity else {
            throw NoteError.malformed("note key \(key) is not the signing key \(identity.id.hex)")
        }
        let signature = try identity.sign(Array(text.utf8))
        return SignedNote(
            text: text,
            signatures: [NoteSignature(keyName: key.name, keyID: key.keyID, signature: signature)]
        )
    }

    private init(text: String, signatures: [NoteSignature]) {
        self.text = text
        self.signatures = signatures
    }

    /// The note as served: text, blank line, signature lines.
    public var encoded: String { text + "\n" + signatures.map(\.line).joined() }

    /// Parses a note's bytes (signatures are not checked: see `verify(by:)`).
    /// - Throws: `NoteError.malformed`.
    public init<C: Collection>(parsing input: C) throws(NoteError) where C.Element == UInt8 {
        guard input.count <= Self.maxLength else {
            throw .malformed("\(input.count) bytes, more than the \(Self.maxLength) taken")
        }
        let bytes = Array(input)
        guard let whole = String(validating: bytes, as: UTF8.self) else { throw .malformed("not UTF-8") }
        guard !whole.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("a control character other than newline")
        }
        // The text ends at the last blank line: signature lines hold no empty line.
        var split: Int?
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                split = i
                break
            }
            i -= 1
        }
        guard let split else { throw .malformed("no blank line before the signatures") }
        let text = String(decoding: bytes[...split], as: UTF8.self)
        let block = bytes[(split + 2)...]
        guard !block.isEmpty, block.last == 0x0A else { throw .malformed("no signature line ending in a newline") }
        var signatures: [NoteSignature] = []
        for line in block.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard signatures.count < Self.maxSignatures else {
                throw .malformed("more than \(Self.maxSignatures) signatures")
            }
            signatures.append(try Self.signature(String(decoding: line, as: UTF8.self)))
        }
        self.init(text: text, signatures: signatures)
    }

    private static func signature(_ line: String) throws(NoteError) -> NoteSignature {
        guard line.hasPrefix("\u{2014} ") else { throw .malformed("a signature line does not start with '— '") }
        let rest = line.dropFirst(2)
        guard let space = rest.firstIndex(of: " ") else { throw .malformed("a signature line has no signature") }
        let name = String(rest[..<space])
        let b64 = String(rest[rest.index(after: space)...])
        guard NoteKey.isValidName(name) else { throw .malformed("invalid key name '\(name.prefix(80))'") }
        guard !b64.isEmpty, let raw = Data(base64Encoded: b64).map(Array.init), raw.count >= 5 else {
            throw .malformed("the signature of '\(name.prefix(80))' is not base64 of a key id and a signature")
        }
        let id = raw[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return NoteSignature(keyName: name, keyID: id, signature: Array(raw[4...]))
    }

    /// Checks a note text: valid characters, ending in a newline.
    static func requireNoteText(_ text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformed("the text does not end in a newline") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("a control character other than newline in the text")
        }
    }

    /// Checks that `key` signed the note: at least one line has its name and id, and every
    /// such line verifies. Lines of other keys are ignored, as the spec requires.
    /// - Throws: `NoteError.notSignedByKey` or `.invalidSignature`.
    public func verify(by key: NoteKey) throws(NoteError) {
        let mine = signatures.filter { $0.keyName == key.name && $0.keyID == key.keyID }
        guard !mine.isEmpty else { throw .notSignedByKey(key.description) }
        let message = Array(text.utf8)
        for line in mine where !key.isValidSignature(line.signature, for: message) {
            throw .invalidSignature(key.description)
        }
    }
}
