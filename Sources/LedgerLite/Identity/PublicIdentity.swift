import Crypto
import Foundation

/// An Ed25519 public key with its derived `KeyID`: what a verifier needs to check a
/// meter's or gateway's signatures.
public struct PublicIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The raw 32-byte public key (RFC 8032 encoding).
    public let rawBytes: [UInt8]
    /// The key's id: first 16 bytes of SHA-256(rawBytes).
    public let id: KeyID
    let key: Curve25519.Signing.PublicKey

    /// Wraps a raw 32-byte Ed25519 public key.
    /// - Throws: `IdentityError.invalidPublicKey` unless `rawBytes` is 32 bytes.
    public init<C: Collection>(rawBytes: C) throws(IdentityError) where C.Element == UInt8 {
        let bytes = Array(rawBytes)
        guard bytes.count == 32 else { throw .invalidPublicKey(length: bytes.count) }
        do {
            key = try Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        } catch {
            throw .invalidPublicKey(length: bytes.count)
        }
        self.rawBytes = bytes
        id = KeyID(publicKeyBytes: bytes)
    }

    init(key: Curve25519.Signing.PublicKey) {
        self.key = key
        rawBytes = Array(key.rawRepresentation)
        id = KeyID(publicKeyBytes: rawBytes)
    }

    /// True when `signature` (64 bytes) is this key's Ed25519 signature over exactly `message`.
    public func isValidSignature(_ signature: ArraySlice<UInt8>, for message: ArraySlice<UInt8>) -> Bool {
        guard signature.count == 64 else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// True when `signature` is this key's Ed25519 signature over exactly `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        isValidSignature(signature[...], for: message[...])
    }

    public static func == (a: PublicIdentity, b: PublicIdentity) -> Bool { a.rawBytes == b.rawBytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawBytes) }

    public var description: String { "ed25519 key \(id.hex)" }
}

/// Problems with key material itself (as opposed to key files).
public enum IdentityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A public key must be exactly 32 bytes.
    case invalidPublicKey(length: Int)
    /// A private key seed must be exactly 32 bytes.
    case invalidSeed(length: Int)
    /// The crypto library refused to sign.
    case signingFailed(String)

    public var description: String {
        switch self {
        case let .invalidPublicKey(length): return "an Ed25519 public key is 32 bytes, got \(length)"
        case let .invalidSeed(length): return "an Ed25519 private key seed is 32 bytes, got \(length)"
        case let .signingFailed(reason): return "Ed25519 signing failed: \(reason)"
        }
    }
}
