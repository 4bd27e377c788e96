import Foundation
@testable import LedgerLite

/// SplitMix64: a tiny, seedable PRNG so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &self) } }
    mutating func keyID() -> KeyID { KeyID(high: next(), low: next()) }
    mutating func hash() -> Hash256 { Hash256(bytes: bytes(32)) ?? .zero }
}

/// The fixed keys of docs/FORMATS.md: seed = one byte repeated 32 times.
enum TestKeys {
    static func key(_ byte: UInt8) -> SigningIdentity {
        do { return try SigningIdentity(seed: [UInt8](repeating: byte, count: 32)) } catch { fatalError("\(error)") }
    }
    static let meter = key(0x11)
    static let producer = key(0x22)
    static let consumer = key(0x33)
    static let gateway = key(0x99)
    static let baseTime: Int64 = 1_767_225_600_000
}

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "ledgerlite-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

extension SigningIdentity {
    /// Signs a record in tests, where a signing failure is a test bug.
    func signed(_ record: Record) -> SignedRecord {
        do { return try SignedRecord.sign(record, with: self) } catch { fatalError("signing failed: \(error)") }
    }
}
