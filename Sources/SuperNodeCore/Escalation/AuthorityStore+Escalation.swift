import LedgerLite

extension AuthorityStore {
    /// True when `gateway` holds a certificate that is not revoked and is not suspended by
    /// the value verification (only such gateways' producers are escalation candidates).
    package static func isCertified(_ gateway: GatewayID, _ db: any StoreConnection) throws -> Bool {
        try certificates(db, gateway: gateway).contains { $0.revokedAt == nil }
            && activeSuspension(db, gateway: gateway) == nil
    }

    /// The next decision id; under the `escalations` lock, so that replicas never issue one twice.
    package static func nextDecisionID(_ db: any StoreConnection) throws -> UInt64 {
        UInt64(bitPattern: try db.integer("SELECT COALESCE(MAX(decision_id), 0) + 1 FROM escalation") ?? 1)
    }

    package static func insertEscalation(_ signed: SignedEscalationDecision, _ db: any StoreConnection) throws {
        let d = signed.decision
        try db.execute(
            """
            INSERT INTO escalation (decision_id, request_hash, consumer_gateway, consumer, request_sequence, energy_wh,
                                    producer_gateway, producer, status, decided_at, bytes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
            """,
            [
                .unsigned(d.decisionID), .blob(d.requestHash.bytes), .blob(d.consumerGateway.bytes),
                .blob(d.consumer.bytes), .unsigned(d.requestSequence), .unsigned(d.energyWh),
                .blob(d.producerGateway.bytes), .blob(d.producer.bytes), .integer(d.decidedAt), .blob(signed.bytes),
            ]
        )
    }

    package static func setEscalationStatus(
        _ decisionID: UInt64,
        status: String,
        producerTNTBefore: UInt64?,
        detail: String?,
        _ db: any StoreConnection
    ) throws {
        try db.execute(
            "UPDATE escalation SET status = ?, producer_tnt_before = ?, detail = ? WHERE decision_id = ?",
            [
                .text(status), .optional(producerTNTBefore.map { .unsigned($0) }), .optional(detail.map { .text($0) }),
                .unsigned(decisionID),
            ]
        )
    }

    /// Claims the request `requestHash` for one escalation (one at a time per request, on
    /// every replica sharing the store): false when another claim on it, made less than
    /// `lease` ms before `now`, holds it.
    package static func claimEscalation(
        _ requestHash: Hash256,
        at now: Int64,
        lease: Int64,
        _ db: any StoreConnection
    ) throws -> Bool {
        try db.serialize(on: .escalations)
        if let claimed = try db.integer(
            "SELECT claimed_at FROM escalation_claim WHERE request_hash = ?",
            [.blob(requestHash.bytes)]
        ), claimed > (now < Int64.min + lease ? Int64.min : now - lease) {
            return false
        }
        try db.execute(
            """
            INSERT INTO escalation_claim (request_hash, claimed_at) VALUES (?, ?)
            ON CONFLICT(request_hash) DO UPDATE SET claimed_at = excluded.claimed_at
            """,
            [.blob(requestHash.bytes), .integer(now)]
        )
        return true
    }

    /// Releases the claim made at `claimedAt` (not a later one another escalation made after
    /// this one's lease ran out).
    package static func releaseEscalation(_ requestHash: Hash256, claimedAt: Int64, _ db: any StoreConnection) throws {
        try db.execute(
            "DELETE FROM escalation_claim WHERE request_hash = ? AND claimed_at = ?",
            [.blob(requestHash.bytes), .integer(claimedAt)]
        )
    }

    /// Every decision issued for a request, oldest first.
    package static func escalations(_ db: any StoreConnection, requestHash: Hash256) throws -> [EscalationRow] {
        try db.rows(
            "SELECT bytes, status, producer_tnt_before FROM escalation WHERE request_hash = ? ORDER BY decision_id",
            [.blob(requestHash.bytes)]
        ).map { row in
            EscalationRow(
                decision: try SignedEscalationDecision(bytes: try row.bytes(0)),
                status: try row.text(1),
                producerTNTBefore: try row.optionalUnsigned(2)
            )
        }
    }
}
