import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite
import LedgerStore
import Logging
import OperatorKit
import ServiceLifecycle

/// A running gateway: the chain writer, the query reader, metrics and the HTTP API over
/// one data directory. `serve` wraps it in a service group; tests drive its router.
package final class Gateway: Sendable {
    package let directory: DataDirectory
    package let writer: ChainWriter
    package let readers: ReaderPool
    package let queries: ChainQueries
    package let token: String
    package let logger: Logger
    /// The super node's checkpoints of our blocks (`DIR/checkpoints.sqlite`).
    package let checkpoints: CheckpointStore
    /// The super node, its certificate and root key; nil when `serve` runs without `--super-node`.
    package let superNode: SuperNodeLink?
    /// Pushes blocks to the super node; nil without one.
    package let uplink: Uplink?
    package var metrics: GatewayMetrics { writer.metrics }
    /// The nonces of meters' signed reads of their own data (`HouseholdReadAccess`): one
    /// register for the gateway, whichever router serves them.
    let householdStamps = RequestStampVerifier(nonceLimit: HouseholdReadAccess.nonceLimit)
    /// The block events of the dashboard's streams, read once for all of them.
    let blockEvents: BlockEvents

    private init(
        directory: DataDirectory,
        writer: ChainWriter,
        token: String,
        logger: Logger,
        checkpoints: CheckpointStore,
        superNode: SuperNodeLink?,
        uplink: Uplink?
    ) {
        self.directory = directory
        self.writer = writer
        self.token = token
        self.logger = logger
        self.checkpoints = checkpoints
        self.superNode = superNode
        self.uplink = uplink
        readers = ReaderPool(name: "chain-reader")
        queries = ChainQueries(store: writer.store, checkpoints: checkpoints)
        blockEvents = BlockEvents(readers: readers, queries: queries)
    }

    /// Opens the data directory (key, token, store, journal) and resumes the chain.
    /// With `superNode`, the gateway pushes its blocks there (`Uplink`, run by `makeServiceGroup`),
    /// escalates requests no local producer can serve, and commits escalated dispatches the
    /// super node sends (docs/GATEWAY.md, "Escalation");
    /// `advertiseURL` is the `gatewayURL` it announces (default: the bound listen URL).
    package static func open(
        directory: DataDirectory,
        config: ChainWriterConfig = ChainWriterConfig(),
        logger: Logger,
        clock: (@Sendable () -> Int64)? = nil,
        superNode: SuperNodeLink? = nil,
        advertiseURL: String? = nil,
        uplinkConfig: UplinkConfig = UplinkConfig()
    ) async throws -> Gateway {
        let key = try directory.loadKey()
        let token = try directory.loadToken()
        guard FileManager.default.fileExists(atPath: directory.chainPath) else {
            throw DataDirectoryError.historyMissing(path: directory.chainPath)
        }
        let writer =
            if let clock {
                try await ChainWriter.open(directory: directory, key: key, config: config, logger: logger, clock: clock)
            } else {
                try await ChainWriter.open(directory: directory, key: key, config: config, logger: logger)
            }
        if let trading = config.trading {
            do {
                _ = try await writer.adopt(policy: trading.policy, offerToleranceWh: trading.offerToleranceWh)
            } catch {
                writer.close()
                throw ChainResumeError.cannotRecord(what: "the dispatch policy", error)
            }
        }
        if let superNode, let root = superNode.rootKey {
            do {
                _ = try await writer.adoptAuthority(root: root, certificate: superNode.certificate)
            } catch {
                writer.close()
                throw ChainResumeError.cannotRecord(what: "the super node", error)
            }
        }
        let checkpoints: CheckpointStore
        do { checkpoints = try CheckpointStore(path: directory.checkpointsPath) } catch {
            writer.close()
            throw DataDirectoryError.storeUnavailable(
                what: "checkpoint store",
                path: directory.checkpointsPath,
                creating: false,
                underlying: "\(error)"
            )
        }
        let uplink = superNode.map { link in
            Uplink(
                link: link,
                key: writer.gatewayKey,
                store: writer.store,
                checkpoints: checkpoints,
                storedHeights: writer.archiver.storedHeights,
                advertiseURL: advertiseURL,
                config: uplinkConfig,
                metrics: writer.metrics.uplink,
                logger: logger,
                clock: clock ?? { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
            )
        }
        return Gateway(
            directory: directory,
            writer: writer,
            token: token,
            logger: logger,
            checkpoints: checkpoints,
            superNode: superNode,
            uplink: uplink
        )
    }

    /// Stops the writer and reader threads. Blocking: it waits until the archiver has stored
    /// every sealed block; from async code call `shutdown()`.
    package func close() {
        writer.close()
        readers.shutdown()
        uplink?.close()
    }

    /// `close()` on a thread of its own, so the wait for the archiver never holds a thread of
    /// the cooperative pool.
    package func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.close()
                continuation.resume()
            }
        }
    }

    /// `GET /v1/uplink` without a super node: what the checkpoint store holds.
    package func uplinkView() async -> UplinkView {
        if let uplink { return uplink.view() }
        let store = writer.store
        let checkpoints = self.checkpoints
        let (tip, last) =
            (try? await readers.run { (try store.tip()?.height, try checkpoints.lastHeight()) }) ?? (nil, nil)
        return UplinkView(
            configured: false,
            state: "off",
            lastCheckpointedHeight: last,
            sealedHeight: tip,
            unacknowledgedBlocks: Uplink.unacknowledged(sealed: tip, checkpointed: last)
        )
    }

    // MARK: HTTP

    /// - Parameter restrictHouseholdData: serve household data (a meter's readings and
    ///   receipts, anomalies, dispatches, a block's entries) only to the operator or the
    ///   meter itself (`HouseholdReadAccess`): what a gateway listening beyond loopback does.
    /// - Parameter eventStreams: how many dashboard event streams are open at once, and their heartbeat.
    package func router(
        restrictHouseholdData: Bool = false,
        eventStreams: EventStreamLimits = EventStreamLimits()
    ) -> Router<BasicRequestContext> {
        let access = HouseholdReadAccess(
            restricted: restrictHouseholdData,
            token: token,
            keys: writer.keys,
            stamps: householdStamps,
            clock: writer.clock
        )
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONBodyMiddleware { APIError(.unsupportedMediaType, $0) })
        router.on(GatewayRoutes.health) { _, _ in
            Self.json(await self.writer.health())
        }
        router.on(GatewayRoutes.metrics) { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition()))
            )
        }
        router.on(GatewayRoutes.readings) { request, _ in
            try await self.ingest(request)
        }
        router.on(GatewayRoutes.offers) { request, _ in
            await self.trade(request, expecting: .offer)
        }
        router.on(GatewayRoutes.requests) { request, _ in
            await self.trade(request, expecting: .request)
        }
        router.on(GatewayRoutes.enroll) { request, _ in
            try await self.admin(request, revoke: false)
        }
        router.on(GatewayRoutes.enrollments) { request, _ in
            try await self.enrollMany(request)
        }
        router.on(GatewayRoutes.revoke) { request, _ in
            try await self.admin(request, revoke: true)
        }
        router.on(GatewayRoutes.blocks) { request, _ in
            let from = request.uri.queryParameters.get("from", as: UInt64.self)
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            return try await self.query { try Self.json($0.blocks(from: from, limit: limit)) }
        }
        router.on(GatewayRoutes.block) { request, context in
            guard let height = context.parameters.get("height", as: UInt64.self) else {
                throw APIError(.badRequest, "the block height must be a non-negative integer")
            }
            try access.authorize(request, endpoint: GatewayRoutes.block, meter: nil)
            return try await self.query { q in
                guard let block = try q.block(height) else {
                    throw APIError(.notFound, "no block at height \(height)")
                }
                return Self.json(block)
            }
        }
        router.on(GatewayRoutes.meters) { _, _ in
            let meters = await self.writer.meterList().map { MeterView(id: $0.0, info: $0.1, lastSequence: $0.2) }
            return Self.json(MeterListView(meters: meters))
        }
        router.on(GatewayRoutes.meter) { _, context in
            guard let id = context.parameters.get("id").flatMap(MeterID.init(hex:)) else {
                throw APIError(.badRequest, "a meter id is 32 hex digits")
            }
            guard let (info, last) = await self.writer.meter(id) else {
                throw APIError(.notFound, "meter \(id.hex) is not enrolled with this gateway")
            }
            return Self.json(MeterView(id: id, info: info, lastSequence: last))
        }
        router.on(GatewayRoutes.meterReadings) { request, context in
            guard let id = context.parameters.get("id").flatMap(MeterID.init(hex:)) else {
                throw APIError(.badRequest, "a meter id is 32 hex digits")
            }
            let params = request.uri.queryParameters
            guard let from = Self.time(params.get("from")) ?? (params.get("from") == nil ? 0 : nil),
                let until = Self.time(params.get("until")) ?? (params.get("until") == nil ? Int64.max : nil)
            else {
                throw APIError(
                    .badRequest,
                    "from and until are times: milliseconds since the Unix epoch or ISO 8601 (2026-01-01T00:00:00Z)"
                )
            }
            let limit = max(1, min(params.get("limit", as: Int.self) ?? 1000, 10_000))
            try access.authorize(request, endpoint: GatewayRoutes.meterReadings, meter: id)
            guard await self.writer.meter(id) != nil else {
                throw APIError(.notFound, "meter \(id.hex) is not enrolled with this gateway")
            }
            let pending = await self.writer.pendingEntries(type: .reading)
            return try await self.query {
                try Self.json($0.readings(meter: id, from: from, until: until, limit: limit, pending: pending))
            }
        }
        router.on(GatewayRoutes.receipt) { request, context in
            guard let meter = context.parameters.get("meter").flatMap(MeterID.init(hex:)),
                let seq = context.parameters.get("seq", as: UInt64.self)
            else {
                throw APIError(.badRequest, "use /v1/readings/{meter id, 32 hex digits}/{sequence}/receipt")
            }
            try access.authorize(request, endpoint: GatewayRoutes.receipt, meter: meter)
            return try await self.receipt(meter: meter, sequence: seq)
        }
        router.on(GatewayRoutes.uplink) { _, _ in
            Self.json(await self.uplinkView())
        }
        router.on(GatewayRoutes.anomalies) { request, _ in
            try access.authorize(request, endpoint: GatewayRoutes.anomalies, meter: nil)
            let from = request.uri.queryParameters.get("from", as: UInt64.self) ?? 0
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            let pending = await self.writer.pendingEntries(type: .anomaly)
            return try await self.query { try Self.json($0.anomalies(from: from, limit: limit, pending: pending)) }
        }
        addTradeRoutes(to: router, access: access)
        addSettlementRoute(to: router, access: access)
        addEscalationRoutes(to: router)
        addDashboardRoutes(to: router, access: access, limits: eventStreams)
        return router
    }

    private func ingest(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(for: GatewayRoutes.readings)
        } catch let error as BodyTooLarge {
            throw APIError(.contentTooLarge, "\(error); send at most \(IngestBatch.maxRecords) records a batch")
        }
        let batch: IngestBatch
        do {
            batch = try JSONDecoder().decode(IngestBatch.self, from: Data(buffer: body))
        } catch {
            throw APIError(
                .badRequest,
                "the body is not an IngestBatch: expected JSON {\"records\": [\"<base64 signed record>\", …]} (\(Self.describe(error)))"
            )
        }
        guard batch.records.count <= IngestBatch.maxRecords else {
            throw APIError(
                .contentTooLarge,
                "the batch holds \(batch.records.count) records; at most \(IngestBatch.maxRecords) are accepted a batch"
            )
        }
        if let ocmf = batch.ocmf {
            guard ocmf.count == batch.records.count else {
                throw APIError(
                    .badRequest,
                    "the batch's ocmf array holds \(ocmf.count) items for \(batch.records.count) records; it must be as long as records (null where a record is no OCMF commitment)"
                )
            }
            let documents = ocmf.count { $0 != nil }
            guard documents <= IngestBatch.maxOCMFDocuments else {
                throw APIError(
                    .contentTooLarge,
                    "the batch holds \(documents) OCMF strings; at most \(IngestBatch.maxOCMFDocuments) are accepted a batch"
                )
            }
        }
        let prepared = await IngestPreparation.prepare(batch.records, ocmf: batch.ocmf ?? [], keys: writer.keys)
        let results = await writer.ingest(prepared)
        metrics.ingestLatency.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: IngestResponseWriter.body(results)))
    }

    /// `POST /v1/offers` and `POST /v1/requests`: one signed record in a TradeSubmission.
    private func trade(_ request: Request, expecting type: RecordType) async -> Response {
        func refuse(
            _ status: HTTPResponse.Status,
            _ reason: TradeReason,
            _ detail: String,
            meter: String? = nil
        ) -> Response {
            if type == .offer {
                metrics.offer(.rejected, reason: reason)
            } else {
                metrics.request(.rejected, reason: reason)
            }
            writer.rejections.log(
                .warning,
                key: "\(meter ?? "unknown")|\(type)|\(reason.rawValue)",
                "rejected \(type): \(detail)",
                metadata: ["meter.id": "\(meter ?? "unknown")", "reason": "\(reason.rawValue)"]
            )
            return type == .offer
                ? Self.json(
                    OfferResponse(status: .rejected, producer: meter, reason: reason, detail: detail),
                    status: status
                )
                : Self.json(
                    DispatchResponse(status: .rejected, consumer: meter, reason: reason, detail: detail),
                    status: status
                )
        }
        var request = request
        let submission: TradeSubmission
        do {
            let body = try await request.collectBody(
                for: type == .offer ? GatewayRoutes.offers : GatewayRoutes.requests
            )
            submission = try JSONDecoder().decode(TradeSubmission.self, from: Data(buffer: body))
        } catch let error as BodyTooLarge {
            return refuse(.contentTooLarge, .malformed, "\(error): one signed \(type) is far smaller")
        } catch {
            return refuse(
                .badRequest,
                .malformed,
                "the body is not a TradeSubmission: expected JSON {\"record\": \"<base64 signed \(type)>\"} (\(Self.describe(error)))"
            )
        }
        guard let bytes = Data(base64Encoded: submission.record) else {
            return refuse(.badRequest, .malformed, "record is not valid base64")
        }
        let entry: SignedRecord
        do { entry = try SignedRecord(bytes: Array(bytes)) } catch {
            return refuse(.badRequest, .malformed, "record is not a signed record envelope: \(error)")
        }
        switch (type, TradeItem.prepare(entry, keys: writer.keys)) {
        case let (_, item?) where item.type == type:
            switch await writer.trade(item) {
            case let .offer(answer): return Self.json(answer, status: Self.httpStatus(answer.status, answer.reason))
            case var .request(answer):
                if case let .request(_, request, _) = item {
                    if await shouldEscalate(answer, request) {
                        answer = await escalate(entry, request, unserved: answer)
                    } else if let repeated = await repeatedEscalation(answer, request) {
                        answer = repeated
                    }
                }
                return Self.json(answer, status: Self.httpStatus(answer.status, answer.reason))
            }
        default:
            let path = type == .offer ? "/v1/offers" : "/v1/requests"
            return refuse(
                .badRequest,
                .wrongRecordType,
                "\(path) takes a signed \(type); this record is a \(entry.record.type)",
                meter: entry.record.meterAuthor?.hex ?? entry.signer.hex
            )
        }
    }

    /// HTTP status of a trade answer: 200 for anything recorded (served or not), 4xx for
    /// a refusal the sender must fix, 503 for a retry.
    package static func httpStatus(_ status: TradeStatus, _ reason: TradeReason?) -> HTTPResponse.Status {
        switch status {
        case .accepted, .served, .unserved, .duplicate: return .ok
        case .retry: return .serviceUnavailable
        case .rejected:
            switch reason ?? .malformed {
            case .malformed, .wrongRecordType: return .badRequest
            case .unknownMeter, .revokedMeter, .wrongRole, .badSignature: return .forbidden
            case .staleSequence, .conflictingDuplicate: return .conflict
            case .timestampSkew, .noMeteredProduction, .insufficientEnergy: return .unprocessableContent
            case .storage: return .serviceUnavailable
            }
        }
    }

    /// Refuses a request without the admin token with 401, and logs it.
    private func requireAdminToken(_ request: Request) throws {
        guard Self.carriesToken(request, token) else {
            let reason = request.headers[.authorization] == nil ? "missing Authorization header" : "wrong admin token"
            logger.warning("admin call refused", metadata: ["reason": "\(reason)", "path": "\(request.uri.path)"])
            throw APIError(
                .unauthorized,
                "\(reason): admin calls need `Authorization: Bearer <token>` with the token from the data directory's admin.token"
            )
        }
    }

    /// `POST /v1/admin/enrollments`: every key enrolled with one role, all or none.
    private func enrollMany(_ request: Request) async throws -> Response {
        try requireAdminToken(request)
        var request = request
        let parsed: AdminEnrollmentsRequest
        do {
            let body = try await request.collectBody(for: GatewayRoutes.enrollments)
            parsed = try JSONDecoder().decode(AdminEnrollmentsRequest.self, from: Data(buffer: body))
        } catch let error as BodyTooLarge {
            throw APIError(.contentTooLarge, "\(error)")
        } catch {
            throw APIError(
                .badRequest,
                "expected JSON {\"publicKeys\": [\"ed25519 <base64> [comment]\", …], \"role\": \"consumer\"|\"producer\"} (\(Self.describe(error)))"
            )
        }
        let limit = AdminEnrollmentsRequest.maxKeys
        guard (1...limit).contains(parsed.publicKeys.count) else {
            throw APIError(.badRequest, "publicKeys: give 1 to \(limit) keys, not \(parsed.publicKeys.count)")
        }
        var keys: [PublicIdentity] = []
        keys.reserveCapacity(parsed.publicKeys.count)
        for (index, line) in parsed.publicKeys.enumerated() {
            guard line.count <= AdminEnrollmentsRequest.maxKeyLineCharacters else {
                throw APIError(
                    .badRequest,
                    "publicKeys[\(index)]: longer than \(AdminEnrollmentsRequest.maxKeyLineCharacters) characters"
                )
            }
            do { keys.append(try KeyFile.parsePublicKeyLine(line).identity) } catch {
                throw APIError(.badRequest, "publicKeys[\(index)]: \(error)")
            }
        }
        let roleName = parsed.role ?? "consumer"
        guard let role = Self.role(roleName) else {
            throw APIError(.badRequest, "role must be consumer or producer, not '\(roleName)'")
        }
        do {
            _ = try await writer.enroll(keys, role: role)
        } catch {
            throw Self.apiError(error)
        }
        return Self.json(
            AdminEnrollmentsResponse(action: "enrolled", role: role.description, meters: keys.map(\.id.hex))
        )
    }

    private static func apiError(_ error: AdminError) -> APIError {
        switch error.kind {
        case .conflict: APIError(.conflict, error.description)
        case .notFound: APIError(.notFound, error.description)
        case .badRequest: APIError(.badRequest, error.description)
        case .storage: APIError(.serviceUnavailable, error.description)
        }
    }

    private func admin(_ request: Request, revoke: Bool) async throws -> Response {
        try requireAdminToken(request)
        var request = request
        let parsed: AdminKeyRequest
        do {
            let body = try await request.collectBody(for: revoke ? GatewayRoutes.revoke : GatewayRoutes.enroll)
            parsed = try JSONDecoder().decode(AdminKeyRequest.self, from: Data(buffer: body))
        } catch let error as BodyTooLarge {
            throw APIError(.contentTooLarge, "\(error)")
        } catch {
            throw APIError(
                .badRequest,
                "expected JSON {\"publicKey\": \"ed25519 <base64> [comment]\", \"role\": \"consumer\"|\"producer\"} (\(Self.describe(error)))"
            )
        }
        var key: PublicIdentity?
        if let line = parsed.publicKey {
            do { key = try KeyFile.parsePublicKeyLine(line).identity } catch {
                throw APIError(.badRequest, "publicKey: \(error)")
            }
        }
        do {
            if revoke {
                guard let meter = key?.id ?? parsed.meter.flatMap(MeterID.init(hex:)) else {
                    throw APIError(
                        .badRequest,
                        "name the meter: {\"publicKey\": \"ed25519 <base64>\"} or {\"meter\": \"<32 hex digits>\"}"
                    )
                }
                let entry = try await writer.revoke(meter)
                guard case let .revocation(r) = entry.record else {
                    throw APIError(.internalServerError, "unexpected record")
                }
                return Self.json(
                    AdminResponse(
                        meter: r.meter.hex,
                        role: r.role.description,
                        action: "revoked",
                        entry: Data(entry.bytes).base64EncodedString()
                    )
                )
            } else {
                guard let key else {
                    throw APIError(
                        .badRequest,
                        "publicKey is required: \"ed25519 <base64> [comment]\" (the meter's .pub file)"
                    )
                }
                let roleName = parsed.role ?? "consumer"
                guard let role = Self.role(roleName) else {
                    throw APIError(.badRequest, "role must be consumer or producer, not '\(roleName)'")
                }
                let entry = try await writer.enroll(key, role: role)
                return Self.json(
                    AdminResponse(
                        meter: key.id.hex,
                        role: role.description,
                        action: "enrolled",
                        entry: Data(entry.bytes).base64EncodedString()
                    )
                )
            }
        } catch let error as AdminError {
            throw Self.apiError(error)
        }
    }

    private func receipt(meter: MeterID, sequence: UInt64) async throws -> Response {
        let writer = self.writer
        let key = writer.gatewayKey.publicIdentity
        let found: ReceiptView?
        do {
            // The proof is read from the store's Merkle nodes on the reader, never on the writer.
            found = try await readers.run {
                try self.queries.receipt(
                    meter: meter,
                    sequence: sequence,
                    gatewayKey: key,
                    proof: { index, treeSize in
                        try self.queries.store.inclusionProof(index: index, treeSize: treeSize)
                    }
                )
            }
        } catch let busy as ReaderPool.Busy {
            throw APIError.busy(busy)
        } catch {
            throw APIError(.internalServerError, "cannot read the chain store: \(error)")
        }
        if let found { return Self.json(found) }
        let archived: String?
        do {
            archived = try await readers.run {
                try self.queries.archivedReadingNote(meter: meter, sequence: sequence)
            }
        } catch let busy as ReaderPool.Busy {
            throw APIError.busy(busy)
        } catch {
            throw APIError(.internalServerError, "cannot read the chain store: \(error)")
        }
        if let archived { throw APIError(.gone, archived) }
        if await writer.isPending(meter: meter, sequence: sequence) {
            throw APIError(
                .notFound,
                "reading \(sequence) of meter \(meter.hex) is accepted but not yet sealed into a block; ask again after the next seal (at most the seal interval)"
            )
        }
        throw APIError(.notFound, "no reading \(sequence) of meter \(meter.hex) on this chain")
    }

    /// Runs a read of the chain on the reader thread; a failure to read is a 500 that says so.
    func query(_ body: @escaping @Sendable (ChainQueries) throws -> Response) async throws -> Response {
        let queries = self.queries
        do {
            return try await readers.run { try body(queries) }
        } catch let refusal as APIError {
            throw refusal
        } catch let busy as ReaderPool.Busy {
            throw APIError.busy(busy)
        } catch {
            throw APIError(.internalServerError, "cannot read the chain store: \(error)")
        }
    }

    // MARK: helpers

    package static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    package static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"cannot encode the response\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    package static func role(_ name: String) -> MeterRole? {
        switch name.lowercased() {
        case "consumer": return .consumer
        case "producer": return .producer
        default: return nil
        }
    }

    /// Milliseconds since the epoch, or ISO 8601.
    package static func time(_ text: String?) -> Int64? {
        guard let text else { return nil }
        if let ms = Int64(text) { return ms }
        if let date = try? Date(text, strategy: .iso8601) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        return nil
    }

    package static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context):
            return context.debugDescription + ((context.underlyingError).map { ": \($0.localizedDescription)" } ?? "")
        case let DecodingError.keyNotFound(key, _): return "missing key '\(key.stringValue)'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return
                "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    /// True when the request carries `Authorization: Bearer <token>` (compared in constant time).
    package static func carriesToken(_ request: Request, _ token: String) -> Bool {
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") else { return false }
        return constantTimeEqual(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
    }

    package static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

extension Duration {
    package var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
