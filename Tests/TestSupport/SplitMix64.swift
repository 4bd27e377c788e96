import LedgerLite
import ModbusBridge

/// Random ledger values from ModbusBridge's seedable generator, so property tests are reproducible.
extension SplitMix64 {
    /// `count` random bytes.
    package mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
    /// A random key id.
    package mutating func keyID() -> KeyID { KeyID(high: next(), low: next()) }
    /// A random 32-byte hash.
    package mutating func hash() -> Hash256 { Hash256(bytes: bytes(32)) ?? .zero }
}
