import Foundation
import GRDB
import LedgerLite

extension AuthorityStore {
    /// True when `gateway` holds a certificate that is not revoked and is not suspended by
    /// the value verification (only such gateways' producers are escalation candidates).
    package static func isCertified(_ gateway: GatewayID, _ db: Database) throws -> Bool {
        try certificates(db, gateway: gateway).contains { $0.revokedAt == nil }
            && activeSuspension(db, gateway: gateway) == nil
    }

    package static func nextDecisionID(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(decision_id), 0) + 1 FROM escalation") ?? 1)
    }

    package static func insertEscalation(_ signed: SignedEscalationDecision, _ db: Database) throws {
        let d = signed.decision
        try db.execute(
            sql: """
                INSERT INTO escalation (decision_id, request_hash, consumer_gateway, consumer, request_sequence, energy_wh,
                                        producer_gateway, producer, status, decided_at, bytes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                """,
            arguments: [
                Int64(bitPattern: d.decisionID), Data(d.requestHash.bytes), Data(d.consumerGateway.bytes),
                Data(d.consumer.bytes),
                Int64(bitPattern: d.requestSequence), Int64(bitPattern: d.energyWh), Data(d.producerGateway.bytes),
                Data(d.producer.bytes), d.decidedAt, Data(signed.bytes),
            ]
        )
    }

    package static func setEscalationStatus(
        _ decisionID: UInt64,
        status: String,
        producerTNTBefore: UInt64?,
        detail: String?,
        _ db: Database
    ) throws {
        try db.execute(
            sql: "UPDATE escalation SET status = ?, producer_tnt_before = ?, detail = ? WHERE decision_id = ?",
            arguments: [status, producerTNTBefore.map { Int64(bitPattern: $0) }, detail, Int64(bitPattern: decisionID)]
        )
    }

    /// Every decision issued for a request, oldest first.
    package static func escalations(_ db: Database, requestHash: Hash256) throws -> [EscalationRow] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT bytes, status, producer_tnt_before FROM escalation WHERE request_hash = ? ORDER BY decision_id",
            arguments: [Data(requestHash.bytes)]
        ).map { row in
            let bytes: Data = row[0]
            let tnt: Int64? = row[2]
            return EscalationRow(
                decision: try SignedEscalationDecision(bytes: Array(bytes)),
                status: row[1],
                producerTNTBefore: tnt.map { UInt64(bitPattern: $0) }
            )
        }
    }
}
