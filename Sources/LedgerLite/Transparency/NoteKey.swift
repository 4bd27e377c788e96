import Crypto
import Foundation

/// An Ed25519 key as C2SP signed notes name it: a key name, the 32-bit key id
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], and its verifier key string
/// `name+hexkeyid+base64(0x01 ‖ public key)` (the form Go's sumdb/note reads).
public struct NoteKey: Hashable, Sendable, CustomStringConvertible {
    /// Signature type byte of Ed25519 notes.
    public static let ed25519Type: UInt8 = 0x01

    /// The key name, as written in signature lines.
    public let name: String
    /// The public key.
    public let publicKey: PublicIdentity
    /// The key id, the first four bytes of the signature's base64.
    public let keyID: UInt32

    /// The note key named `name` for `publicKey`.
    /// - Throws: `NoteError.invalidKeyName` for an empty name or one with a space or a plus.
    public init(name: String, publicKey: PublicIdentity) throws(NoteError) {
        guard Self.isValidName(name) else { throw .invalidKeyName(name) }
        self.name = name
        self.publicKey = publicKey
        keyID = Self.keyID(name: name, encodedKey: [Self.ed25519Type] + publicKey.rawBytes)
    }

    /// Parses a verifier key string `name+hexkeyid+base64(0x01 ‖ key)`.
    /// - Throws: `NoteError.malformedVerifierKey`, `.verifierKeyIDMismatch` or `.invalidKeyName`.
    public init(verifierKey text: String) throws(NoteError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformedVerifierKey("it has no two '+' separators") }
        let name = String(parts[0])
        guard Self.isValidName(name) else { throw .invalidKeyName(name) }
        let hex = parts[1]
        // Swift's integer parsing would take a sign: only hex digits pass.
        guard hex.utf8.count == 8, hex.allSatisfy(\.isHexDigit), let id = UInt32(hex, radix: 16) else {
            throw .malformedVerifierKey("the key id is not 8 hex digits")
        }
        guard let encoded = Data(base64Encoded: String(parts[2])).map(Array.init), !encoded.isEmpty else {
            throw .malformedVerifierKey("the key is not base64")
        }
        guard encoded[0] == Self.ed25519Type else {
            throw .malformedVerifierKey("signature type 0x\(String(encoded[0], radix: 16)) is not Ed25519 (0x01)")
        }
        guard encoded.count == 33, let key = try? PublicIdentity(rawBytes: encoded[1...]) else {
            throw .malformedVerifierKey("an Ed25519 key is 32 bytes after the type byte, not \(encoded.count - 1)")
        }
        guard Self.keyID(name: name, encodedKey: encoded) == id else { throw .verifierKeyIDMismatch(text) }
        try self.init(name: name, publicKey: key)
    }

    /// The verifier key string: `name+hexkeyid+base64(0x01 ‖ public key)`.
    public var verifierKey: String {
        "\(name)+\(Self.hex(keyID))+\(Data([Self.ed25519Type] + publicKey.rawBytes).base64EncodedString())"
    }

    public var description: String { "\(name)+\(Self.hex(keyID))" }

    /// True when `signature` (the 64 bytes after the key id) is this key's over `text`.
    public func isValidSignature(_ signature: [UInt8], for text: [UInt8]) -> Bool {
        publicKey.isValidSignature(signature, for: text)
    }

    /// A key name is non-empty and holds no Unicode space and no plus (U+002B).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" }
    }

    /// SHA-256(name ‖ 0x0A ‖ encoded key)[:4], big-endian; `encodedKey` starts with the type byte.
    static func keyID(name: String, encodedKey: [UInt8]) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A] + encodedKey))
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func hex(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
