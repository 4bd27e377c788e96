import Foundation
import GridAPI
import TestSupport
import Testing

@testable import GatewayCore

/// docs/openapi/gateway.yaml against the code: the routes the gateway serves, and the JSON
/// keys of every body those routes take or answer.
@Suite("OpenAPI contract of the gateway")
struct GatewayOpenAPITests {
    /// Every schema of the document named after a body type, with that type.
    static var types: [String: any Codable.Type] {
        [
            "ChainWriter.Health": ChainWriter.Health.self,
            "ErrorView": ErrorView.self,
            "IngestBatch": IngestBatch.self,
            "IngestResult": IngestResult.self,
            "IngestResponse": IngestResponse.self,
            "TradeSubmission": TradeSubmission.self,
            "OfferResponse": OfferResponse.self,
            "DispatchShareView": DispatchShareView.self,
            "EscalationInfo": EscalationInfo.self,
            "DispatchResponse": DispatchResponse.self,
            "AdminKeyRequest": AdminKeyRequest.self,
            "AdminResponse": AdminResponse.self,
            "AdminEnrollmentsRequest": AdminEnrollmentsRequest.self,
            "AdminEnrollmentsResponse": AdminEnrollmentsResponse.self,
            "HeaderView": HeaderView.self,
            "BlockListView": BlockListView.self,
            "ReadingView": ReadingView.self,
            "AnomalyView": AnomalyView.self,
            "MembershipView": MembershipView.self,
            "EscalationRecordView": EscalationRecordView.self,
            "AuthorityRecordView": AuthorityRecordView.self,
            "OCMFCommitmentView": OCMFCommitmentView.self,
            "RecordView": RecordView.self,
            "EntryView": EntryView.self,
            "BlockView": BlockView.self,
            "MeterView": MeterView.self,
            "MeterListView": MeterListView.self,
            "StoredReadingView": StoredReadingView.self,
            "MeterReadingsView": MeterReadingsView.self,
            "AnomalyEntryView": AnomalyEntryView.self,
            "AnomalyListView": AnomalyListView.self,
            "ProofView": ProofView.self,
            "CheckpointEntryView": CheckpointEntryView.self,
            "ReceiptView.ReceiptBlock": ReceiptView.ReceiptBlock.self,
            "ReceiptView": ReceiptView.self,
            "UplinkView.LastError": UplinkView.LastError.self,
            "UplinkView": UplinkView.self,
            "ProducerView": ProducerView.self,
            "OpenRequestView": OpenRequestView.self,
            "TNTView": TNTView.self,
            "DispatchEntryView": DispatchEntryView.self,
            "DispatchListView": DispatchListView.self,
            "FairnessRowView": FairnessRowView.self,
            "FairnessView": FairnessView.self,
            "SettlementView": SettlementView.self,
            "SettlementCutView": SettlementCutView.self,
            "SettlementRowView": SettlementRowView.self,
            "SettlementReadingPair": SettlementReadingPair.self,
            "SettlementTradeView": SettlementTradeView.self,
            "EscalatedDispatchSubmission": EscalatedDispatchSubmission.self,
            "EscalatedDispatchAnswer": EscalatedDispatchAnswer.self,
            "EventStreamHello": EventStreamHello.self,
            "BlockEventView": BlockEventView.self,
        ]
    }

    @Test func theDocumentListsExactlyTheRoutesOfTheRouteTable() throws {
        try OpenAPIDocument(named: "gateway.yaml").expectListsExactly(GatewayRoutes.all, table: "GatewayRoutes")
    }

    @Test func theRouterServesEveryRouteOfTheTableAndNoOther() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let parameters = [
            "height": "1", "id": String(repeating: "0", count: 32), "meter": String(repeating: "0", count: 32),
            "seq": "1",
        ]
        try await RouteProbe.expectServesExactly(GatewayRoutes.all, app: h.app(), parameters: parameters)
    }

    @Test func everyBodyOfEveryRouteIsADeclaredType() throws {
        try OpenAPIDocument(named: "gateway.yaml").expectEveryBodyDeclared(in: Self.types)
    }

    @Test(arguments: types.keys.sorted())
    func theSchemaListsExactlyTheKeysTheTypeEncodes(_ name: String) throws {
        try OpenAPIDocument(named: "gateway.yaml").expectSchema(name, matchesItsTypeIn: Self.types)
    }
}
