import Foundation
import GridAPI
import TestSupport
import Testing

@testable import SuperNodeCore

/// docs/openapi/super-node.yaml against the code: the routes the super node serves, and the
/// JSON keys of every body those routes take or answer.
@Suite("OpenAPI contract of the super node")
struct SuperNodeOpenAPITests {
    /// Every schema of the document named after a body type, with that type.
    static var types: [String: any Codable.Type] {
        [
            "RootView": RootView.self,
            "PushRequest": PushRequest.self,
            "CheckpointView": CheckpointView.self,
            "RejectionView": RejectionView.self,
            "ValueFlagView": ValueFlagView.self,
            "PushResponse": PushResponse.self,
            "ValueFlagListView": ValueFlagListView.self,
            "GatewayView.CertificateView": GatewayView.CertificateView.self,
            "GatewayView": GatewayView.self,
            "GatewayListView": GatewayListView.self,
            "EscalationSubmission": EscalationSubmission.self,
            "EscalationAnswer": EscalationAnswer.self,
            "EventStreamHello": EventStreamHello.self,
            "PushEventView": PushEventView.self,
            "EscalationEventView": EscalationEventView.self,
        ]
    }

    @Test func theDocumentListsExactlyTheRoutesOfTheRouteTable() throws {
        try OpenAPIDocument(named: "super-node.yaml").expectListsExactly(SuperNodeRoutes.all, table: "SuperNodeRoutes")
    }

    @Test func theRouterServesEveryRouteOfTheTableAndNoOther() async throws {
        let h = try await NodeHarness.make()
        let parameters = ["gateway": String(repeating: "0", count: 32), "height": "1"]
        try await RouteProbe.expectServesExactly(SuperNodeRoutes.all, app: h.app(), parameters: parameters)
    }

    @Test func everyBodyOfEveryRouteIsADeclaredType() throws {
        try OpenAPIDocument(named: "super-node.yaml").expectEveryBodyDeclared(in: Self.types)
    }

    @Test(arguments: types.keys.sorted())
    func theSchemaListsExactlyTheKeysTheTypeEncodes(_ name: String) throws {
        try OpenAPIDocument(named: "super-node.yaml").expectSchema(name, matchesItsTypeIn: Self.types)
    }
}
