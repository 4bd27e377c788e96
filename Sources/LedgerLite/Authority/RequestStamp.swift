/// A gateway's proof of possession for one HTTP request to the super node: its key signs
/// the request's route and the exact bytes of its body, with a time and a nonce, so a
/// certificate (which is public) is never enough to speak for a gateway, and a signed
/// request cannot be sent again. Layout: docs/FORMATS.md, "Request stamp".
public struct RequestStamp: Hashable, Sendable {
    static let recordType: UInt8 = 0x33
    static let version: UInt8 = 1
    /// Length of the encoded stamp, in bytes.
    public static let encodedLength = 106
    /// Length of the nonce, in bytes.
    public static let nonceLength = 16

    /// Id of the gateway key that signs it (the certificate's gateway).
    public var signer: KeyID
    /// When the gateway sent the request, ms since the Unix epoch, UTC.
    public var timestamp: Int64
    /// Random bytes, never used twice by the signer (`nonceLength` bytes).
    public var nonce: [UInt8]
    /// SHA-256 of the request's method and path, `POST /v1/blocks` (`route(method:path:)`).
    public var routeHash: Hash256
    /// SHA-256 of the request's body, exactly as sent.
    public var bodyHash: Hash256

    /// Creates a stamp for a request with `method`, `path` and `body`.
    /// - Throws: `RecordDecodingError.invalidField` when the nonce is not `nonceLength` bytes.
    public init(
        signer: KeyID,
        timestamp: Int64,
        nonce: [UInt8],
        method: String,
        path: String,
        body: [UInt8]
    ) throws(RecordDecodingError) {
        try self.init(
            signer: signer,
            timestamp: timestamp,
            nonce: nonce,
            routeHash: Self.route(method: method, path: path),
            bodyHash: Hash256.sha256(body)
        )
    }

    /// Creates a stamp from its fields.
    /// - Throws: `RecordDecodingError.invalidField` when the nonce is not `nonceLength` bytes.
    public init(
        signer: KeyID,
        timestamp: Int64,
        nonce: [UInt8],
        routeHash: Hash256,
        bodyHash: Hash256
    ) throws(RecordDecodingError) {
        guard nonce.count == Self.nonceLength else {
            throw .invalidField(field: "nonce", reason: "must be \(Self.nonceLength) bytes, not \(nonce.count)")
        }
        self.signer = signer
        self.timestamp = timestamp
        self.nonce = nonce
        self.routeHash = routeHash
        self.bodyHash = bodyHash
    }

    /// The hash a stamp carries for a route: SHA-256 of the ASCII bytes `METHOD SP PATH`
    /// (`POST /v1/blocks`).
    public static func route(method: String, path: String) -> Hash256 {
        Hash256.sha256(Array("\(method) \(path)".utf8))
    }

    /// A fresh random nonce.
    public static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The canonical bytes (106).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.u8(Self.recordType)
        w.u8(Self.version)
        w.keyID(signer)
        w.i64(timestamp)
        w.raw(nonce)
        w.hash(routeHash)
        w.hash(bodyHash)
        return w.bytes
    }

    /// Decodes canonical bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType, versions: 1...1)
        signer = try r.keyID("signer")
        timestamp = try r.i64("timestamp")
        nonce = Array(try r.raw(Self.nonceLength, "nonce"))
        routeHash = try r.hash("route_hash")
        bodyHash = try r.hash("body_hash")
        try r.finish()
    }
}

/// A request stamp with the signer's signature: `stamp bytes (106) ‖ Ed25519 signature (64)`,
/// kept verbatim. It travels base64-encoded in the `GridLedger-Signature` header.
public struct SignedRequestStamp: Hashable, Sendable {
    /// Length of the signed bytes.
    public static let encodedLength = RequestStamp.encodedLength + 64
    /// The signed bytes, verbatim.
    public let bytes: [UInt8]
    /// The decoded stamp.
    public let stamp: RequestStamp

    /// The stamp's canonical bytes.
    public var body: ArraySlice<UInt8> { bytes[0..<RequestStamp.encodedLength] }
    /// The signer's signature over `body`.
    public var signature: ArraySlice<UInt8> { bytes[RequestStamp.encodedLength...] }

    /// Parses signed bytes (does not check the signature).
    public init<C: Collection>(bytes: C) throws(RecordDecodingError) where C.Element == UInt8 {
        let bytes = Array(bytes)
        guard bytes.count >= Self.encodedLength else {
            throw .truncated(field: "signed request stamp", needed: Self.encodedLength, remaining: bytes.count)
        }
        guard bytes.count == Self.encodedLength else { throw .trailingBytes(count: bytes.count - Self.encodedLength) }
        stamp = try RequestStamp(canonicalBytes: bytes[0..<RequestStamp.encodedLength])
        self.bytes = bytes
    }

    /// Signs `stamp` with the gateway's key (whose id must be the stamp's signer).
    public static func sign(
        _ stamp: RequestStamp,
        with key: SigningIdentity
    ) throws(IdentityError)
        -> SignedRequestStamp
    {
        let body = stamp.canonicalBytes()
        return SignedRequestStamp(stamp: stamp, bytes: body + (try key.sign(body)))
    }

    private init(stamp: RequestStamp, bytes: [UInt8]) {
        self.stamp = stamp
        self.bytes = bytes
    }

    /// True when `key` is the signer and its signature verifies.
    public func isSignatureValid(by key: PublicIdentity) -> Bool {
        key.id == stamp.signer && key.isValidSignature(signature, for: body)
    }
}
