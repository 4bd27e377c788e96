import Crypto
import Foundation

/// An Ed25519 private key: a meter's or a gateway's power to sign.
///
/// Signatures are RFC 8032 Ed25519 and deterministic, so the same key and message always
/// give the same 64 bytes (the test vectors in docs/FORMATS.md rely on this).
public struct SigningIdentity: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey
    /// The matching public key and id.
    public let publicIdentity: PublicIdentity

    /// A new random key.
    public init() {
        self.init(privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The key with this 32-byte RFC 8032 seed (the "private key" of RFC 8032 §5.1.5).
    /// Fixed seeds give reproducible keys for test vectors.
    public init<C: Collection>(seed: C) throws(IdentityError) where C.Element == UInt8 {
        let bytes = Array(seed)
        guard bytes.count == 32 else { throw .invalidSeed(length: bytes.count) }
        do {
            self.init(privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
        } catch {
            throw .invalidSeed(length: bytes.count)
        }
    }

    init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        publicIdentity = PublicIdentity(key: privateKey.publicKey)
    }

    /// The key's id.
    public var id: KeyID { publicIdentity.id }

    /// The 32-byte seed. Handle with care: it is the private key.
    public var seed: [UInt8] { Array(privateKey.rawRepresentation) }

    /// The 64-byte Ed25519 signature over exactly `message`.
    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: message))
        } catch {
            throw .signingFailed(String(describing: error))
        }
    }
}
