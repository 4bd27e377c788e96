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
        ]
    }

    @Test func theDocumentListsExactlyTheRoutesOfTheRouteTable() throws {
        let document = try OpenAPIDocument(named: "super-node.yaml")
        let table = OpenAPIDocument.operations(of: SuperNodeRoutes.all)
        #expect(document.operations.subtracting(table).isEmpty, "documented, not in SuperNodeRoutes")
        #expect(table.subtracting(document.operations).isEmpty, "in SuperNodeRoutes, not documented")
        #expect(SuperNodeRoutes.all.count == table.count, "a route is listed twice in SuperNodeRoutes")
    }

    @Test func theRouterServesEveryRouteOfTheTableAndNoOther() async throws {
        let h = try await NodeHarness.make()
        let parameters = ["gateway": String(repeating: "0", count: 32), "height": "1"]
        try await RouteProbe.expectServesExactly(SuperNodeRoutes.all, app: h.app(), parameters: parameters)
    }

    @Test func everyBodyOfEveryRouteIsADeclaredType() throws {
        let document = try OpenAPIDocument(named: "super-node.yaml")
        for (operation, names) in document.bodies {
            for name in names {
                #expect(Self.types[name] != nil, "\(operation) names schema \(name), which is no body type")
            }
        }
    }

    @Test(arguments: types.keys.sorted())
    func theSchemaListsExactlyTheKeysTheTypeEncodes(_ name: String) throws {
        let document = try OpenAPIDocument(named: "super-node.yaml")
        let documented = try #require(document.properties[name], "no schema \(name) in super-node.yaml")
        let type = try #require(Self.types[name], "no body type for schema \(name)")
        let encoded = try EncodedKeys.of(type)
        #expect(documented.subtracting(encoded).isEmpty, "\(name): documented, not encoded")
        #expect(encoded.subtracting(documented).isEmpty, "\(name): encoded, not documented")
    }
}
