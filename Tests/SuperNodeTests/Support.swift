import Foundation
import GridAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerStore
import Logging
import Synchronization
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNode
@testable import SuperNodeCore

/// Builds a gateway's chain with LedgerLite's BlockBuilder: enrollments, readings (producers
/// carry an export counter), offers backed by metered export, requests answered by the TNT rule.
struct ChainMaker {
    var builder: BlockBuilder
    var blocks: [Block] = []
    var time: Int64 = 1_767_225_600_000
    let consumer = TestKeys.key(0x41)
    let producers = [TestKeys.key(0x61), TestKeys.key(0x62)]
    var readingSeq: [KeyID: UInt64] = [:]
    var exportWh: [KeyID: Int64] = [:]
    var offerSeq: [KeyID: UInt64] = [:]
    var requestSeq: [KeyID: UInt64] = [:]

    init(gateway: SigningIdentity, maxEntries: Int = 4) {
        builder = BlockBuilder(
            gateway: gateway,
            policy: SealPolicy(maxEntries: maxEntries, maxAgeMilliseconds: 3_600_000)
        )
    }

    mutating func tick() -> Int64 {
        time += 1000
        return time
    }

    mutating func add(_ entry: SignedRecord) throws {
        if let block = try builder.add(entry, at: tick()) { blocks.append(block) }
    }

    mutating func gatewayRecord(_ record: Record) throws {
        let (_, sealed) = try builder.addGatewayRecord(record, at: tick())
        if let sealed { blocks.append(sealed) }
    }

    mutating func reading(_ meter: SigningIdentity, exportWh: Int64? = nil) throws {
        let seq = (readingSeq[meter.id] ?? 0) + 1
        readingSeq[meter.id] = seq
        var values = [MeasuredValue(.energyImportWh, 10 * Int64(seq))]
        if let exportWh { values.append(MeasuredValue(.energyExportWh, exportWh)) }
        values.append(MeasuredValue(.activePowerW, 230))
        try add(meter.signed(.reading(try Reading(meter: meter.id, sequence: seq, timestamp: time, values: values))))
    }

    mutating func offer(_ producer: SigningIdentity, _ wh: UInt64) throws {
        let seq = (offerSeq[producer.id] ?? 0) + 1
        offerSeq[producer.id] = seq
        try add(
            producer.signed(
                .offer(
                    try Offer(
                        producer: producer.id,
                        sequence: seq,
                        energyWh: wh,
                        validFrom: time,
                        validUntil: time + 3_600_000
                    )
                )
            )
        )
    }

    mutating func request(_ wh: UInt64) throws {
        let seq = (requestSeq[consumer.id] ?? 0) + 1
        requestSeq[consumer.id] = seq
        try add(
            consumer.signed(
                .request(try EnergyRequest(consumer: consumer.id, sequence: seq, energyWh: wh, timestamp: time))
            )
        )
        let (_, sealed) = try builder.dispatch(RequestReference(consumer: consumer.id, sequence: seq), at: tick())
        if let sealed { blocks.append(sealed) }
    }

    mutating func flush() throws {
        if let block = try builder.seal(at: tick()) { blocks.append(block) }
    }

    /// Enrollments, producers' readings and offers, two requests (both dispatched), consumer
    /// readings: 15 entries in 4 blocks of up to 4.
    static func standard(gateway: SigningIdentity) throws -> ChainMaker {
        var m = ChainMaker(gateway: gateway)
        try m.gatewayRecord(
            .enrollment(Enrollment(meterKey: m.consumer.publicIdentity, role: .consumer, timestamp: m.time))
        )
        for p in m.producers {
            try m.gatewayRecord(.enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: m.time)))
        }
        for p in m.producers { try m.reading(p, exportWh: 1000) }
        for p in m.producers { try m.reading(p, exportWh: 5000) }
        try m.offer(m.producers[0], 3000)
        try m.offer(m.producers[1], 2000)
        try m.request(1500)
        try m.reading(m.consumer)
        try m.reading(m.consumer)
        try m.request(1000)
        try m.flush()
        return m
    }

    /// More entries on the same chain (after `standard`): another reading of each producer.
    mutating func more() throws {
        for p in producers { try reading(p, exportWh: 6000) }
        try flush()
    }

    /// A policy record (the gateway's `--offer-tolerance-wh`) on the chain.
    mutating func policy(_ policy: DispatchPolicy = .lowestTNT, offerToleranceWh: UInt64) throws {
        try gatewayRecord(.policy(PolicyRecord(policy: policy, offerToleranceWh: offerToleranceWh, timestamp: time)))
    }

    /// A gateway that declares a large offer tolerance and dispatches energy its producer
    /// never exported; its chain verifies. One producer (`producers[0]`), one block each:
    /// - 0: enrollments and the policy (tolerance `toleranceWh`, default 10,000 Wh);
    /// - 1: the producer's meter exports 1,000 Wh, it offers 5,000 Wh (credited in full
    ///   under the tolerance), a request of 3,000 Wh is served: dispatched 3,000 vs exported 1,000;
    /// - 2: a request of 1,000 Wh: dispatched 4,000 vs exported 1,000;
    /// - 3: a request of 500 Wh: dispatched 4,500 vs exported 1,000;
    /// - 4: the meter catches up (exported 10,000 Wh), a request of 100 Wh: 4,600 vs 10,000, honest.
    static func inflating(gateway: SigningIdentity, toleranceWh: UInt64 = 10_000) throws -> ChainMaker {
        var m = ChainMaker(gateway: gateway, maxEntries: 100)
        let p = m.producers[0]
        try m.gatewayRecord(
            .enrollment(Enrollment(meterKey: m.consumer.publicIdentity, role: .consumer, timestamp: m.time))
        )
        try m.gatewayRecord(.enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: m.time)))
        try m.policy(offerToleranceWh: toleranceWh)
        try m.flush()
        try m.reading(p, exportWh: 1000)
        try m.reading(p, exportWh: 2000)
        try m.offer(p, 5000)
        try m.request(3000)
        try m.flush()
        try m.request(1000)
        try m.flush()
        try m.request(500)
        try m.flush()
        try m.reading(p, exportWh: 11_000)
        try m.request(100)
        try m.flush()
        return m
    }
}

/// The gateway keys a harness certified, by id: its pushes are signed with them.
final class GatewayKeys: Sendable {
    private let keys = Mutex<[GatewayID: SigningIdentity]>([:])

    func keep(_ key: SigningIdentity) { keys.withLock { $0[key.id] = key } }

    func key(of gateway: GatewayID) -> SigningIdentity? { keys.withLock { $0[gateway] } }
}

/// How a test request is signed (`GridLedger-Signature`).
enum Signing {
    /// By the key of the certificate's gateway, now, with a fresh nonce.
    case certified
    /// No header.
    case unsigned
    /// By `key`, at `at` (default now), with `nonce` (default fresh).
    case by(SigningIdentity, at: Int64? = nil, nonce: [UInt8]? = nil)
    /// This header value, verbatim.
    case header(String)
}

/// A super node on a fresh data directory, with a hand-moved clock, tested in process.
struct NodeHarness {
    let dir: SuperDirectory
    let clock: TestClock
    let node: SuperNode
    var keys = GatewayKeys()

    static func make(
        store: StoreKind = .sqlite,
        value: ValuePolicy = .standard,
        snapshotEntries: UInt64 = SuperNode.defaultSnapshotEntries,
        residentAudits: Int = ResidentAudits.defaultCapacity,
        logger: Logger = quietLogger
    ) async throws -> NodeHarness {
        let postgres: PostgresLocation? =
            switch store {
            case .sqlite: nil
            case .postgres: try await PostgresServer.newDatabase()
            }
        let dir = SuperDirectory(makeTempDir(), postgres: postgres)
        try await dir.initialise()
        let clock = TestClock(1_767_300_000_000)
        return NodeHarness(
            dir: dir,
            clock: clock,
            node: try await SuperNode.open(
                directory: dir,
                logger: logger,
                clock: clock.function,
                value: value,
                snapshotEntries: snapshotEntries,
                residentAudits: residentAudits
            )
        )
    }

    /// The same directory opened again, as after a restart (with the same value rule,
    /// snapshot interval and resident audits unless given).
    func reopen(
        value: ValuePolicy? = nil,
        snapshotEntries: UInt64? = nil,
        residentAudits: Int? = nil,
        logger: Logger = quietLogger
    ) async throws -> NodeHarness {
        NodeHarness(
            dir: dir,
            clock: clock,
            node: try await SuperNode.open(
                directory: dir,
                logger: logger,
                clock: clock.function,
                value: value ?? node.value,
                snapshotEntries: snapshotEntries ?? node.snapshotEntries,
                residentAudits: residentAudits ?? node.residentAuditCapacity
            ),
            keys: keys
        )
    }

    var rootKey: PublicIdentity { node.root.publicIdentity }

    /// Another replica of this node on the same PostgreSQL store: a data directory of its own
    /// holding the same root key (what an operator copies to a second machine), opened with
    /// the same settings and clock.
    func replica(
        fenceAfter: Duration = PostgresEngine.defaultFenceAfter,
        logger: Logger = quietLogger
    ) async throws
        -> NodeHarness
    {
        guard let postgres = dir.postgres else { throw StoreDamage("a replica needs a PostgreSQL store") }
        let copy = SuperDirectory(makeTempDir(), postgres: postgres, fenceAfter: fenceAfter)
        try FileManager.default.createDirectory(
            atPath: copy.path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        for (from, to) in [(dir.keyPath, copy.keyPath), (dir.publicKeyPath, copy.publicKeyPath)] {
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        return NodeHarness(
            dir: copy,
            clock: clock,
            node: try await SuperNode.open(
                directory: copy,
                logger: logger,
                clock: clock.function,
                value: node.value,
                snapshotEntries: node.snapshotEntries,
                residentAudits: node.residentAuditCapacity
            ),
            keys: keys
        )
    }

    /// The command line's `--data` (and `--store`, on PostgreSQL) for this node's store.
    var dataArguments: [String] {
        ["--data", dir.path] + (dir.postgres.map { ["--store", $0.connectionURL] } ?? [])
    }

    func certify(_ gateway: SigningIdentity, name: String = "gw") async throws -> SignedGatewayCertificate {
        keys.keep(gateway)
        return try await Authority.certify(
            store: node.store,
            root: node.root,
            gatewayKey: gateway.publicIdentity,
            name: name,
            now: clock.now
        )
    }

    func app() -> some ApplicationProtocol {
        Application(router: node.router(), logger: quietLogger)
    }

    struct Pushed {
        var status: Int
        var response: PushResponse
        var reasons: String? { response.rejected?.reason }
    }

    func push(_ certificate: SignedGatewayCertificate?, _ blocks: [Block]) async throws -> Pushed {
        try await push(
            rawCertificate: certificate.map { Data($0.bytes).base64EncodedString() },
            blocks: blocks.map { Data($0.wireBytes()).base64EncodedString() }
        )
    }

    func push(
        _ certificate: SignedGatewayCertificate?,
        _ blocks: [Block],
        gatewayURL: String? = nil,
        signing: Signing
    ) async throws -> Pushed {
        try await push(
            rawCertificate: certificate.map { Data($0.bytes).base64EncodedString() },
            gatewayURL: gatewayURL,
            blocks: blocks.map { Data($0.wireBytes()).base64EncodedString() },
            signing: signing
        )
    }

    func push(
        rawCertificate: String?,
        gatewayURL: String? = nil,
        blocks: [String],
        signing: Signing = .certified
    ) async throws -> Pushed {
        let (status, data) = try await pushAnswer(
            rawCertificate: rawCertificate,
            gatewayURL: gatewayURL,
            blocks: blocks,
            signing: signing
        )
        return Pushed(status: status, response: try JSONDecoder().decode(PushResponse.self, from: data))
    }

    /// A push's status and body as sent, undecoded (a 500 carries no push response).
    func pushAnswer(
        rawCertificate: String?,
        gatewayURL: String? = nil,
        blocks: [String],
        signing: Signing = .certified
    ) async throws -> (Int, Data) {
        let body = Array(
            try JSONEncoder().encode(PushRequest(certificate: rawCertificate, gatewayURL: gatewayURL, blocks: blocks))
        )
        return try await post(
            SuperNodeRoutes.blocks,
            body: body,
            signature: try signature(
                signing,
                rawCertificate: rawCertificate,
                endpoint: SuperNodeRoutes.blocks,
                body: body
            )
        )
    }

    /// `POST /v1/escalations` over HTTP, signed as `signing` says.
    func escalate(
        _ certificate: SignedGatewayCertificate?,
        request: SignedRecord,
        consumerKey: PublicIdentity,
        signing: Signing = .certified
    ) async throws -> (Int, EscalationAnswer) {
        let raw = certificate.map { Data($0.bytes).base64EncodedString() }
        let body = Array(
            try JSONEncoder().encode(
                EscalationSubmission(
                    certificate: raw ?? "",
                    request: Data(request.bytes).base64EncodedString(),
                    consumerKey: KeyFile.publicKeyLine(consumerKey)
                )
            )
        )
        let endpoint = SuperNodeRoutes.escalations
        let (status, data) = try await post(
            endpoint,
            body: body,
            signature: try signature(signing, rawCertificate: raw, endpoint: endpoint, body: body)
        )
        return (status, try JSONDecoder().decode(EscalationAnswer.self, from: data))
    }

    /// The `GridLedger-Signature` value for `body`, as `signing` says.
    func signature(_ signing: Signing, rawCertificate: String?, endpoint: Endpoint, body: [UInt8]) throws -> String? {
        switch signing {
        case .unsigned: return nil
        case let .header(value): return value
        case let .by(key, at, nonce):
            return try RequestSigning.headerValue(
                signer: key,
                at: at ?? clock.now,
                nonce: nonce ?? RequestStamp.randomNonce(),
                endpoint: endpoint,
                body: body
            )
        case .certified:
            // The certificate's gateway key when this harness certified it; else a stranger's
            // (a certificate the super node refuses is refused before the signature is looked at).
            let gateway = rawCertificate.flatMap { Data(base64Encoded: $0) }.flatMap {
                try? SignedGatewayCertificate(bytes: Array($0))
            }?.certificate.gateway
            let key = gateway.flatMap(keys.key(of:)) ?? SigningIdentity()
            return try RequestSigning.headerValue(signer: key, at: clock.now, endpoint: endpoint, body: body)
        }
    }

    /// Posts `body` (JSON) with the signature header, if any.
    func post(_ endpoint: Endpoint, body: [UInt8], signature: String?) async throws -> (Int, Data) {
        var fields = HTTPFields.json
        if let signature { fields[HTTPField.Name(RequestSigning.header)!] = signature }
        let headers = fields
        return try await app().test(.router) { client in
            try await client.execute(
                uri: endpoint.template,
                method: .post,
                headers: headers,
                body: ByteBuffer(bytes: body)
            ) { response in
                (Int(response.status.code), Data(buffer: response.body))
            }
        }
    }

    func get<T: Decodable & Sendable>(_ uri: String, as: T.Type, status: Int = 200) async throws -> T {
        try await app().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(Int(response.status.code) == status, "\(uri): \(String(buffer: response.body))")
                return try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
            }
        }
    }
}

extension CheckpointView {
    /// Decodes the signed bytes and checks them against the view and the root key.
    func verified(by root: PublicIdentity) throws -> SignedCheckpoint {
        let signed = try SignedCheckpoint(bytes: Array(try #require(Data(base64Encoded: checkpoint))))
        #expect(signed.isSignatureValid(by: root))
        #expect(signed.checkpoint.height == height)
        #expect(signed.checkpoint.blockHash.hex == blockHash)
        #expect(signed.checkpoint.treeSize == treeSize)
        #expect(signed.checkpoint.gateway.hex == gateway)
        return signed
    }
}
