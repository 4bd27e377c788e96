import Foundation
import GridAPI
import Hummingbird
import LedgerLite
import Synchronization

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

/// The FakeGateway's market: `POST /v1/offers` and `POST /v1/requests` as the real
/// gateway answers them, on a small in-memory state. It checks the signature against the
/// enrolled key, the role and the sequence, credits offers up to `creditLimitWh`, and
/// dispatches requests by the TNT rule (lowest TNT with enough energy, ties lowest id).
struct FakeMarket: Sendable {
    enum Mode: Sendable {
        case normal
        /// 503 with `status: retry, reason: storage`.
        case busy
        /// 400 with `{"error": …}`, as for a body that is not JSON.
        case errorBody
    }

    struct Member: Sendable {
        var key: PublicIdentity
        var role: MeterRole
    }

    var mode = Mode.normal
    var members: [String: Member] = [:]
    /// Most credited per offer (the gateway's view of metered export); nil: all of it.
    var creditLimitWh: UInt64?
    var lastSequence: [String: UInt64] = [:]
    var availableWh: [String: UInt64] = [:]
    var tnt: [String: UInt64] = [:]
    var blockHeight: UInt64 = 7
    /// Energy of each accepted offer, in order.
    var acceptedOffers: [UInt64] = []
    /// Offers and requests that reached the handler, whatever the answer.
    var submissions = 0
    /// Earlier answers by record bytes, for duplicates.
    var offerAnswers: [[UInt8]: OfferResponse] = [:]
    var requestAnswers: [[UInt8]: DispatchResponse] = [:]

    struct Rejection: Error {
        var status: Int
        var reason: TradeReason
        var detail: String
    }

    mutating func enroll(_ identity: SigningIdentity, as role: MeterRole) {
        members[identity.id.hex] = Member(key: identity.publicIdentity, role: role)
    }

    /// Checks a submission; returns the signed record or the rejection.
    private func check(_ text: String, type: RecordType, role: MeterRole) -> Result<SignedRecord, Rejection> {
        guard let data = Data(base64Encoded: text), let signed = try? SignedRecord(bytes: [UInt8](data)) else {
            return .failure(Rejection(status: 400, reason: .malformed, detail: "not a signed record"))
        }
        guard signed.record.type == type else {
            return .failure(Rejection(status: 400, reason: .wrongRecordType, detail: "expected a \(type)"))
        }
        guard let member = members[signed.signer.hex] else {
            return .failure(
                Rejection(
                    status: 403,
                    reason: .unknownMeter,
                    detail: "meter \(signed.signer.hex) is not enrolled with this gateway"
                )
            )
        }
        guard signed.isSignatureValid(by: member.key) else {
            return .failure(
                Rejection(
                    status: 400,
                    reason: .badSignature,
                    detail: "the signature does not match meter \(signed.signer.hex)'s key"
                )
            )
        }
        guard member.role == role else {
            return .failure(
                Rejection(
                    status: 403,
                    reason: .wrongRole,
                    detail: "meter \(signed.signer.hex) is enrolled as a \(member.role)"
                )
            )
        }
        return .success(signed)
    }

    mutating func offer(_ submission: TradeSubmission) -> (Int, OfferResponse) {
        submissions += 1
        switch mode {
        case .busy: return (503, OfferResponse(status: .retry, reason: .storage, detail: "database is locked"))
        case .errorBody, .normal: break
        }
        let signed: SignedRecord
        switch check(submission.record, type: .offer, role: .producer) {
        case .failure(let no):
            return (no.status, OfferResponse(status: .rejected, reason: no.reason, detail: no.detail))
        case .success(let record): signed = record
        }
        guard case .offer(let offer) = signed.record else {
            return (400, OfferResponse(status: .rejected, reason: .wrongRecordType))
        }
        let producer = offer.producer.hex
        if var earlier = offerAnswers[signed.bytes] {
            earlier.status = .duplicate
            return (200, earlier)
        }
        guard offer.sequence > lastSequence[producer, default: 0] else {
            return (
                409,
                OfferResponse(
                    status: .rejected,
                    producer: producer,
                    sequence: offer.sequence,
                    reason: .staleSequence,
                    detail: "the last offer or request of this meter has sequence \(lastSequence[producer, default: 0])"
                )
            )
        }
        lastSequence[producer] = offer.sequence
        let credited = min(offer.energyWh, creditLimitWh ?? offer.energyWh)
        availableWh[producer, default: 0] += credited
        acceptedOffers.append(offer.energyWh)
        let response = OfferResponse(
            status: .accepted,
            producer: producer,
            sequence: offer.sequence,
            offeredWh: offer.energyWh,
            creditedWh: credited,
            cutWh: offer.energyWh - credited,
            availableWh: availableWh[producer],
            blockHeight: blockHeight
        )
        offerAnswers[signed.bytes] = response
        return (200, response)
    }

    mutating func request(_ submission: TradeSubmission) -> (Int, DispatchResponse) {
        submissions += 1
        switch mode {
        case .busy: return (503, DispatchResponse(status: .retry, reason: .storage, detail: "database is locked"))
        case .errorBody, .normal: break
        }
        let signed: SignedRecord
        switch check(submission.record, type: .request, role: .consumer) {
        case .failure(let no):
            return (no.status, DispatchResponse(status: .rejected, reason: no.reason, detail: no.detail))
        case .success(let record): signed = record
        }
        guard case .request(let request) = signed.record else {
            return (400, DispatchResponse(status: .rejected, reason: .wrongRecordType))
        }
        let consumer = request.consumer.hex
        if var earlier = requestAnswers[signed.bytes] {
            earlier.status = .duplicate
            return (200, earlier)
        }
        guard request.sequence > lastSequence[consumer, default: 0] else {
            return (
                409,
                DispatchResponse(
                    status: .rejected,
                    consumer: consumer,
                    sequence: request.sequence,
                    reason: .staleSequence
                )
            )
        }
        lastSequence[consumer] = request.sequence
        var response = DispatchResponse(
            status: .unserved,
            consumer: consumer,
            sequence: request.sequence,
            requestedWh: request.energyWh,
            policy: "lowest-tnt",
            blockHeight: blockHeight
        )
        let candidates = availableWh.filter { $0.value >= request.energyWh }.keys
            .sorted { (tnt[$0, default: 0], $0) < (tnt[$1, default: 0], $1) }
        if let producer = candidates.first {
            let before = tnt[producer, default: 0]
            tnt[producer] = before + 1
            availableWh[producer, default: 0] -= request.energyWh
            response.status = .served
            response.shares = [
                DispatchShareView(
                    producer: producer,
                    energyWh: request.energyWh,
                    tntBefore: before,
                    tntAfter: before + 1
                )
            ]
        } else {
            response.reason = .insufficientEnergy
            response.detail =
                "no producer has \(request.energyWh) Wh available (most: \(availableWh.values.max() ?? 0) Wh)"
        }
        requestAnswers[signed.bytes] = response
        return (200, response)
    }
}

extension FakeGateway {
    /// Serves a fake gateway on a free port for `body`, with a client for it; then stops it.
    static func serving<T: Sendable>(_ body: (FakeGateway, GatewayClient) async throws -> T) async throws -> T {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }
        return try await GatewayClient.withClient(base: URL(string: "http://127.0.0.1:\(port)")!) { http in
            try await body(gateway, http)
        }
    }

    func addTradeRoutes(to router: Router<BasicRequestContext>) {
        router.post("v1/offers") { request, context -> Response in
            if case .errorBody = self.market.withLock({ $0.mode }) { return Self.errorBody() }
            let submission = try await request.decode(as: TradeSubmission.self, context: context)
            let (status, answer) = self.market.withLock { $0.offer(submission) }
            return try Self.json(status, answer)
        }
        router.post("v1/requests") { request, context -> Response in
            if case .errorBody = self.market.withLock({ $0.mode }) { return Self.errorBody() }
            let submission = try await request.decode(as: TradeSubmission.self, context: context)
            let (status, answer) = self.market.withLock { $0.request(submission) }
            return try Self.json(status, answer)
        }
    }

    static func json(_ status: Int, _ value: some Encodable) throws -> Response {
        Response(
            status: .init(code: status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value)))
        )
    }

    static func errorBody() -> Response {
        Response(
            status: .badRequest,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"error": "the body is not JSON"}"#))
        )
    }
}
