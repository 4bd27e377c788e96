/// The rules state in a resume snapshot (docs/FORMATS.md, "Resume snapshot"): every
/// member of `ChainState`, maps sorted by key so equal states encode to equal bytes.
extension ChainState {
    /// Appends the state to `w`.
    package func writeSnapshot(to w: inout ByteWriter) {
        w.raw(gatewayKey.rawBytes)
        tnt.writeSnapshot(to: &w)
        w.u32(UInt32(truncatingIfNeeded: keys.count))
        for meter in keys.keys.sorted() {
            w.keyID(meter)
            w.raw(keys[meter]!.rawBytes)
        }
        for map in [lastReading, lastOffer, lastRequest] {
            w.u32(UInt32(truncatingIfNeeded: map.count))
            for meter in map.keys.sorted() {
                w.keyID(meter)
                w.u64(map[meter]!)
            }
        }
        w.u32(UInt32(truncatingIfNeeded: lastOCMF.count))
        for meter in lastOCMF.keys.sorted() {
            w.keyID(meter)
            w.u64(lastOCMF[meter]!.pagination)
            w.i64(lastOCMF[meter]!.periodEnd)
        }
        w.flag(authority != nil)
        if let authority { w.lengthPrefixed(authority.canonicalBytes()) }
        w.u32(UInt32(truncatingIfNeeded: pendingRequestHashes.count))
        for ref in pendingRequestHashes.keys.sorted() {
            w.keyID(ref.consumer)
            w.u64(ref.sequence)
            w.hash(pendingRequestHashes[ref]!)
        }
        w.u32(UInt32(truncatingIfNeeded: escalatable.count))
        for consumer in escalatable.keys.sorted() {
            let e = escalatable[consumer]!
            w.keyID(consumer)
            w.keyID(e.request.consumer)
            w.u64(e.request.sequence)
            w.u64(e.energyWh)
            w.hash(e.requestHash)
        }
        w.u32(UInt32(truncatingIfNeeded: decisionIDs.count))
        for id in decisionIDs.sorted() { w.u64(id) }
    }

    /// Reads a state written by `writeSnapshot`; keys must be strictly ascending.
    package init(snapshot r: inout ByteReader) throws(RecordDecodingError) {
        self.init(gatewayKey: try Self.publicKey(&r, "gateway key"))
        tnt = try TNTState(snapshot: &r)
        var previous: MeterID?
        func ascending(_ id: MeterID, _ field: String) throws(RecordDecodingError) {
            if let p = previous, !(p < id) { throw .invalidField(field: field, reason: "keys are not ascending") }
            previous = id
        }
        for _ in 0..<(try r.count("meter keys", itemBytes: 48)) {
            let meter = try r.keyID("meter id")
            try ascending(meter, "meter keys")
            let key = try Self.publicKey(&r, "meter key")
            guard key.id == meter else {
                throw .invalidField(field: "meter key", reason: "it is not meter \(meter.hex)'s key")
            }
            keys[meter] = key
        }
        for field in ["last readings", "last offers", "last requests"] {
            previous = nil
            var map: [MeterID: UInt64] = [:]
            for _ in 0..<(try r.count(field, itemBytes: 24)) {
                let meter = try r.keyID(field)
                try ascending(meter, field)
                map[meter] = try r.u64(field)
            }
            switch field {
            case "last readings": lastReading = map
            case "last offers": lastOffer = map
            default: lastRequest = map
            }
        }
        previous = nil
        for _ in 0..<(try r.count("last OCMF", itemBytes: 32)) {
            let meter = try r.keyID("last OCMF")
            try ascending(meter, "last OCMF")
            lastOCMF[meter] = (try r.u64("OCMF pagination"), try r.i64("OCMF period end"))
        }
        if try r.flag("authority flag") {
            let bytes = try r.lengthPrefixed("authority", limit: SignedRecord.maxBodyBytes)
            authority = try AuthorityRecord(canonicalBytes: bytes[...])
        }
        var previousRef: RequestReference?
        for _ in 0..<(try r.count("request hashes", itemBytes: 56)) {
            let ref = RequestReference(
                consumer: try r.keyID("request consumer"),
                sequence: try r.u64("request sequence")
            )
            if let p = previousRef, !(p < ref) {
                throw .invalidField(field: "request hashes", reason: "keys are not ascending")
            }
            previousRef = ref
            pendingRequestHashes[ref] = try r.hash("request hash")
        }
        previous = nil
        for _ in 0..<(try r.count("escalatable requests", itemBytes: 88)) {
            let consumer = try r.keyID("escalatable consumer")
            try ascending(consumer, "escalatable requests")
            let request = RequestReference(
                consumer: try r.keyID("escalatable request"),
                sequence: try r.u64("escalatable sequence")
            )
            escalatable[consumer] = EscalatableRequest(
                request: request,
                energyWh: try r.u64("escalatable energy"),
                requestHash: try r.hash("escalatable hash")
            )
        }
        var previousID: UInt64?
        for _ in 0..<(try r.count("escalation decision ids", itemBytes: 8)) {
            let id = try r.u64("escalation decision id")
            if let p = previousID, p >= id {
                throw .invalidField(field: "escalation decision ids", reason: "ids are not ascending")
            }
            previousID = id
            decisionIDs.insert(id)
        }
    }

    private static func publicKey(_ r: inout ByteReader, _ field: String) throws(RecordDecodingError) -> PublicIdentity
    {
        let bytes = try r.raw(32, field)
        do { return try PublicIdentity(rawBytes: bytes) } catch {
            throw .invalidField(field: field, reason: "\(error)")
        }
    }
}
