import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Issue 13, point 10, with the real binaries: a gateway listening beyond loopback serves a
/// meter's readings and receipts to the meter's own signed request (`meter-agent readings`,
/// `meter-agent receipt`) and to the operator's token, to nobody else; aggregates stay public.
@Suite("Household data with the real binaries", .serialized)
struct HouseholdDataSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure

    @Test("beyond loopback: the meter reads its own readings and receipt, a stranger and a neighbour cannot")
    func aMeterReadsItsOwnData() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        let house = try await world.keygen("house")
        _ = try await world.keygen("neighbour")
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        let (gateway, base) = try await TLSSystemTests.serve(
            "edge-gateway",
            [
                "serve", "--data", world.gateway, "--listen", "0.0.0.0:0", "--allow-plain-http",
                "--seal-interval", "300ms",
            ],
            urlFile: world.gateway + "/gateway.url",
            log: world.path("gateway.log")
        )
        defer { gateway.terminate() }
        for name in ["house", "neighbour"] {
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", world.gateway, "--meter-key", world.path("\(name).key.pub")]
            )
            #expect(enrolled.status == 0, "\(enrolled.output)")
        }

        // One reading of the house, as its agent would send it.
        let client = GatewayClient(base: URL(string: base)!)
        let gatewayID = try #require(KeyID(hex: try await client.gatewayID(timeout: .seconds(10))))
        let houseKey = try KeyFile.readPrivateKey(from: world.path("house.key"))
        let reading = try Reading(
            meter: houseKey.id,
            gateway: gatewayID,
            sequence: 1,
            timestamp: Int64(Date().timeIntervalSince1970 * 1000),
            values: [MeasuredValue(.energyImportWh, 1)]
        )
        let answer = try await client.postReadings(
            IngestBatch(signed: [try SignedRecord.sign(.reading(reading), with: houseKey)]),
            timeout: .seconds(10)
        )
        #expect(answer.results.map(\.status) == [.accepted])

        // Nobody in particular gets a refusal that says what to send.
        do throws(GridAPIError) {
            _ = try await client.meterReadings(ofMeter: house, credential: .none, timeout: .seconds(10))
            Issue.record("the house's readings were served to an anonymous request")
        } catch {
            #expect(error.status == 401)
            #expect(error.bodyText.contains("household data"), "\(error)")
        }
        // The neighbour's key does not open the house's data.
        let neighbourKey = try KeyFile.readPrivateKey(from: world.path("neighbour.key"))
        let asNeighbour = RequestSigner(key: neighbourKey, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        await #expect(throws: GridAPIError.self) {
            _ = try await client.meterReadings(ofMeter: house, credential: .meter(asNeighbour), timeout: .seconds(10))
        }
        // The operator's token does.
        let token = try String(contentsOfFile: world.gateway + "/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let asOperator = try await client.meterReadings(
            ofMeter: house,
            credential: .adminToken(token),
            timeout: .seconds(10)
        )
        #expect(String(decoding: asOperator, as: UTF8.self).contains("\"sequence\":1"))

        // The house itself, through the commands a household runs.
        let readings = try await runBinary(
            "meter-agent",
            ["readings", "--key", world.path("house.key"), "--gateway", base]
        )
        #expect(readings.status == 0, "\(readings.output)")
        #expect(readings.output.contains(house) && readings.output.contains("\"sequence\":1"), "\(readings.output)")
        // Sealed within --seal-interval; asked over HTTP, so that no process is started per poll.
        try await waitUntil("the reading sealed and its receipt served") {
            (try? await client.receipt(
                ofMeter: house,
                sequence: 1,
                credential: .adminToken(token),
                timeout: .seconds(10)
            )) != nil
        }
        let receiptFile = world.path("receipt.json")
        let fetched = try await runBinary(
            "meter-agent",
            ["receipt", "--key", world.path("house.key"), "--gateway", base, "--seq", "1", "--out", receiptFile]
        )
        #expect(fetched.status == 0, "\(fetched.output)")
        // Sound, though no super node has checkpointed it (exit 3 says exactly that).
        let verified = try await runBinary(
            "edge-gateway",
            ["verify-receipt", receiptFile, "--root-key", world.path("neighbour.key.pub")]
        )
        #expect(verified.status == 3, "\(verified.output)")

        // Aggregates stay public.
        let (blocks, _) = try await EndToEndTests.get(base + "/v1/blocks", client: .shared)
        #expect(blocks == 200)
        let (block, _) = try await EndToEndTests.get(base + "/v1/blocks/1", client: .shared)
        #expect(block == 401, "a block's entries are household data")
        #expect(gateway.terminate() == 0, "\(gateway.logText)")
    }
}
