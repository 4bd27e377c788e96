/// The TNT state's commitment, version 3 (docs/FORMATS.md, "TNT state"): a keyed Merkle
/// trie over the meters' records, one over the pending requests, and a digest of both roots
/// with the policy and the tolerance.
///
/// Derived state: `TNTState` keeps its meters and requests as the source of truth and marks
/// each one it changes (`meterChanged`, `requestChanged`); `digest` rehashes only those, in
/// O(changed × log meters), so sealing costs about the same at 100 and at 100,000 meters.
/// A state restored wholesale starts from a fresh commitment with every meter and request
/// marked (O(n log n), once).
struct StateCommitment: Sendable {
    static let version: UInt8 = 3

    private var meters = KeyedMerkleTrie<KeyID>()
    private var requests = KeyedMerkleTrie<RequestReference>()
    private var changedMeters: Set<KeyID> = []
    private var changedRequests: Set<RequestReference> = []

    init() {}

    /// Marks a meter whose record changed (or which was just enrolled).
    mutating func meterChanged(_ id: KeyID) { changedMeters.insert(id) }

    /// Marks a request that was added or answered.
    mutating func requestChanged(_ reference: RequestReference) { changedRequests.insert(reference) }

    /// The version-3 digest of a state whose policy and tolerance are given, whose meters'
    /// records `meterRecord` encodes (nil: no such meter) and whose pending requests'
    /// energy `pendingEnergy` gives (nil: not pending).
    mutating func digest(
        policy: DispatchPolicy,
        offerToleranceWh: UInt64,
        meterRecord: (KeyID) -> [UInt8]?,
        pendingEnergy: (RequestReference) -> UInt64?
    ) -> Hash256 {
        for id in changedMeters {
            if let record = meterRecord(id) {
                meters.set(id, leafHash: Merkle.leafHash(record))
            } else {
                meters.remove(id)
            }
        }
        for reference in changedRequests {
            if let energy = pendingEnergy(reference) {
                requests.set(reference, leafHash: Merkle.leafHash(Self.requestRecord(reference, energy)))
            } else {
                requests.remove(reference)
            }
        }
        changedMeters.removeAll(keepingCapacity: true)
        changedRequests.removeAll(keepingCapacity: true)
        return Self.digest(
            policy: policy,
            offerToleranceWh: offerToleranceWh,
            meterRoot: meters.root(),
            meterCount: UInt64(meters.count),
            pendingRoot: requests.root(),
            pendingCount: UInt64(requests.count)
        )
    }

    /// A pending request's record, the leaf of the request trie (and version 2's entry):
    /// consumer id (16), sequence (u64), energy Wh (u64).
    static func requestRecord(_ reference: RequestReference, _ energyWh: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 32)
        w.keyID(reference.consumer)
        w.u64(reference.sequence)
        w.u64(energyWh)
        return w.bytes
    }

    /// SHA-256 of the 91-byte version-3 encoding: `0x20`, `0x03`, policy (1), tolerance
    /// (u64), meter root (32), meter count (u64), pending root (32), pending count (u64).
    static func digest(
        policy: DispatchPolicy,
        offerToleranceWh: UInt64,
        meterRoot: Hash256,
        meterCount: UInt64,
        pendingRoot: Hash256,
        pendingCount: UInt64
    ) -> Hash256 {
        var w = ByteWriter(capacity: 91)
        w.u8(0x20)
        w.u8(version)
        w.u8(policy.rawValue)
        w.u64(offerToleranceWh)
        w.hash(meterRoot)
        w.u64(meterCount)
        w.hash(pendingRoot)
        w.u64(pendingCount)
        return Hash256.sha256(w.bytes)
    }
}
