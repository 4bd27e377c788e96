/// A record with its signer and Ed25519 signature: what travels on the wire and is stored
/// as a chain entry, byte for byte. Layout: docs/FORMATS.md, "Signed record envelope".
///
/// The signature covers exactly the record's canonical bytes (`body`). `bytes` is kept
/// verbatim from whoever produced it; nothing is re-encoded before verifying.
public struct SignedRecord: Hashable, Sendable {
    static let envelopeType: UInt8 = 0xe0
    static let version: UInt8 = 1
    /// Largest record body accepted, in bytes.
    public static let maxBodyBytes = 4096
    static let headerLength = 22

    /// Bytes of an envelope around a body of `bodyBytes` bytes (header, body, signature).
    public static func envelopeBytes(body bodyBytes: Int) -> Int { headerLength + bodyBytes + 64 }

    /// Largest envelope accepted: around a body of `maxBodyBytes`.
    public static let maxEnvelopeBytes = envelopeBytes(body: maxBodyBytes)

    /// The whole envelope, exactly as received or stored.
    public let bytes: [UInt8]
    /// The id of the key that signed.
    public let signer: KeyID
    /// The decoded record.
    public let record: Record
    let bodyRange: Range<Int>

    /// The canonical record bytes the signature covers.
    public var body: ArraySlice<UInt8> { bytes[bodyRange] }
    /// The 64-byte Ed25519 signature.
    public var signature: ArraySlice<UInt8> { bytes[bodyRange.upperBound...] }

    /// Parses an envelope and decodes its record, keeping `bytes` verbatim.
    /// Does not check the signature: use `isSignatureValid(by:)`.
    public init(bytes: [UInt8]) throws(RecordDecodingError) {
        var r = ByteReader(bytes[...])
        _ = try r.header(type: Self.envelopeType, versions: 1...1)
        signer = try r.keyID("signer")
        let length = Int(try r.u32("body length"))
        guard length <= Self.maxBodyBytes else {
            throw .oversizeField(field: "body", length: length, limit: Self.maxBodyBytes)
        }
        let start = r.position
        _ = try r.raw(length, "body")
        _ = try r.raw(64, "signature")
        try r.finish()
        bodyRange = start..<start + length
        record = try Record(canonicalBytes: bytes[bodyRange])
        self.bytes = bytes
    }

    /// Signs `record`'s canonical bytes with `identity` and wraps them in an envelope.
    public static func sign(_ record: Record, with identity: SigningIdentity) throws(IdentityError) -> SignedRecord {
        let body = record.canonicalBytes()
        let signature = try identity.sign(body)
        return SignedRecord(assembling: body, record: record, signer: identity.id, signature: signature)
    }

    /// Builds an envelope around already-encoded body bytes and a signature (for example
    /// when a meter's signature arrives separately). The body must decode.
    public init(body: [UInt8], signer: KeyID, signature: [UInt8]) throws(RecordDecodingError) {
        guard signature.count == 64 else {
            throw .invalidField(field: "signature", reason: "an Ed25519 signature is 64 bytes")
        }
        guard body.count <= Self.maxBodyBytes else {
            throw .oversizeField(field: "body", length: body.count, limit: Self.maxBodyBytes)
        }
        self.init(assembling: body, record: try Record(canonicalBytes: body), signer: signer, signature: signature)
    }

    private init(assembling body: [UInt8], record: Record, signer: KeyID, signature: [UInt8]) {
        var w = ByteWriter(capacity: Self.headerLength + body.count + 64)
        w.u8(Self.envelopeType)
        w.u8(Self.version)
        w.keyID(signer)
        w.u32(UInt32(body.count))
        w.raw(body)
        w.raw(signature)
        bytes = w.bytes
        self.signer = signer
        self.record = record
        bodyRange = Self.headerLength..<Self.headerLength + body.count
    }

    /// True when `key` is the signer and its signature over `body` verifies.
    public func isSignatureValid(by key: PublicIdentity) -> Bool {
        key.id == signer && key.isValidSignature(signature, for: body)
    }

    /// The RFC 6962 leaf hash of this entry: SHA-256(0x00 ‖ bytes).
    public var leafHash: Hash256 { Merkle.leafHash(bytes) }

    public static func == (a: SignedRecord, b: SignedRecord) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
