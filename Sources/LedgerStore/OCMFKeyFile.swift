import Crypto
import Foundation
import LedgerLite
import PrivateFiles

/// A meter's OCMF key files: the P-256 key its agent signs OCMF documents with (OCMF allows
/// only ECDSA, so the meter's Ed25519 key cannot sign them).
///
/// - Private key: PEM PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey
///   -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes), created with mode 0600 and
///   read by `PrivateFile`'s rule, like every private key.
/// - Public key: one line, the hex of the key's DER SubjectPublicKeyInfo, the form OCMF
///   viewers (the S.A.F.E. transparency software, pyocmf) take.
///
/// Both writes are atomic, as `KeyFile`'s.
public enum OCMFKeyFile {
    /// Writes `key` as PEM PKCS#8 with mode 0600.
    public static func writePrivateKey(
        _ key: P256.Signing.PrivateKey,
        to path: String,
        overwrite: Bool = false
    ) throws(KeyFileError) {
        try KeyFile.atomicWrite(Array((key.pemRepresentation + "\n").utf8), to: path, mode: 0o600, overwrite: overwrite)
    }

    /// Loads a P-256 private key written by `writePrivateKey` (or by OpenSSL).
    /// - Throws: `KeyFileError` as `KeyFile.readPrivateKey`: permissions, links, owner, format.
    public static func readPrivateKey(from path: String) throws(KeyFileError) -> P256.Signing.PrivateKey {
        let content: [UInt8]
        do { content = try PrivateFile.contents(of: path, limit: KeyFile.maxFileBytes) } catch {
            throw KeyFileError(error)
        }
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: String(decoding: content, as: UTF8.self))
        } catch {
            throw .malformed(path: path, reason: "not a PEM P-256 (secp256r1) private key")
        }
    }

    /// The public key as OCMF tools take it: hex of its DER SubjectPublicKeyInfo.
    public static func publicKeyHex(_ key: P256.Signing.PublicKey) -> String {
        encodeHex(Array(key.derRepresentation))
    }

    /// Writes the public key line (`publicKeyHex` and a newline), mode 0644.
    public static func writePublicKey(
        _ key: P256.Signing.PublicKey,
        to path: String,
        overwrite: Bool = false
    ) throws(KeyFileError) {
        try KeyFile.atomicWrite(Array((publicKeyHex(key) + "\n").utf8), to: path, mode: 0o644, overwrite: overwrite)
    }
}
