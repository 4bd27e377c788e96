import Crypto
import LedgerLite

/// The fixed keys of docs/FORMATS.md: seed = one byte repeated 32 times.
package enum TestKeys {
    /// The key whose seed is `byte` repeated 32 times.
    package static func key(_ byte: UInt8) -> SigningIdentity {
        do { return try SigningIdentity(seed: [UInt8](repeating: byte, count: 32)) } catch {
            fatalError("a 32-byte seed is always a key: \(error)")
        }
    }
    package static let meter = key(0x11)
    package static let producer = key(0x22)
    package static let consumer = key(0x33)
    package static let gateway = key(0x99)
    /// The meter's OCMF key of docs/FORMATS.md: the P-256 scalar `55` × 32.
    package static let ocmf: P256.Signing.PrivateKey = {
        do { return try P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x55, count: 32)) } catch {
            fatalError("0x55…55 is a P-256 scalar: \(error)")
        }
    }()
    /// 2026-01-01T00:00:00Z in ms.
    package static let baseTime: Int64 = 1_767_225_600_000
}

extension SigningIdentity {
    /// Signs a record in tests, where a signing failure is a test bug.
    package func signed(_ record: Record) -> SignedRecord {
        do { return try SignedRecord.sign(record, with: self) } catch { fatalError("signing failed: \(error)") }
    }
}
